// Command setlock runs a program while holding a lock on a file, as
// daemontools' setlock does. See doc/man8/setlock.8.

// In a container, the Go runtime keeps the cgroup's CPU limit files open
// to follow changes to it; their descriptors would push the lock from
// descriptor 3, where daemontools' child finds it, to 5. A program that
// only starts another needs no GOMAXPROCS tuning.
//
//go:debug containermaxprocs=0
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/taikit/taikit/internal/cli"
	"github.com/taikit/taikit/supervise/chain"
)

const usage = "setlock: usage: setlock [ -nNxX ] file program [ arg ... ]\n"

func main() { os.Exit(run(os.Args, chain.Environ(), os.Stderr)) }

// run returns only when the program could not be started.
func run(argv, env []string, stderr io.Writer) int {
	if len(argv) == 0 {
		argv = []string{"setlock"}
	}
	opts, operands, err := cli.Getopt(argv[1:], cli.Letters("nNxX", nil))
	var oe *cli.OptionError
	if errors.As(err, &oe) {
		fmt.Fprint(stderr, oe.Message(argv[0]))
	}
	if err != nil || len(operands) < 2 {
		fmt.Fprint(stderr, usage)
		return cli.ExitUsage
	}
	wait, quiet := true, false // the last of -n/-N and of -x/-X counts
	for _, o := range opts {
		switch o.Letter {
		case 'n':
			wait = false
		case 'N':
			wait = true
		case 'x':
			quiet = true
		case 'X':
			quiet = false
		}
	}
	if _, err := chain.Lock(operands[0], wait); err != nil {
		if quiet {
			return cli.ExitOK
		}
		return cli.FatalErr(stderr, "setlock", err)
	}
	return cli.FatalErr(stderr, "setlock", chain.Exec(operands[1:], env))
}
