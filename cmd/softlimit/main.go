// Command softlimit runs a program with lower soft resource limits, as
// daemontools' softlimit does. See doc/man8/softlimit.8.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/taikit/taikit/internal/cli"
	"github.com/taikit/taikit/supervise/chain"
)

const usage = "softlimit: usage: softlimit [-a allbytes] [-c corebytes] [-d databytes] [-f filebytes] [-l lockbytes] [-m membytes] [-o openfiles] [-p processes] [-r residentbytes] [-s stackbytes] [-t cpusecs] child\n"

func main() { os.Exit(run(os.Args, chain.Environ(), os.Stderr)) }

// run returns only when the child could not be started.
func run(argv, env []string, stderr io.Writer) int {
	if len(argv) == 0 {
		argv = []string{"softlimit"}
	}
	limits, child, err := chain.ParseSoftlimit(argv[1:])
	var oe *chain.OptionError
	if errors.As(err, &oe) {
		fmt.Fprint(stderr, oe.Message(argv[0]))
	}
	if err != nil || len(child) == 0 {
		fmt.Fprint(stderr, usage)
		return cli.ExitUsage
	}
	for _, l := range limits {
		if err := l.Set(); err != nil {
			return cli.FatalErr(stderr, "softlimit", err)
		}
	}
	return cli.FatalErr(stderr, "softlimit", chain.Exec(child, env))
}
