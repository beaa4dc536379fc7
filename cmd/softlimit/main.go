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

// spec is softlimit's options, in daemontools' getopt notation: each
// takes a value.
const spec = "a:c:d:f:l:m:o:p:r:s:t:"

func main() { os.Exit(run(os.Args, chain.Environ(), os.Stderr)) }

// run returns only when the child could not be started.
func run(argv, env []string, stderr io.Writer) int {
	if len(argv) == 0 {
		argv = []string{"softlimit"}
	}
	// Each value is checked as getopt meets it, as daemontools' softlimit
	// checks it: a bad value is a usage error even before an unknown
	// option that follows it.
	var limits []chain.Limit
	_, child, err := cli.Getopt(argv[1:], cli.Letters(spec, func(letter byte, value string) error {
		l, err := chain.SoftLimits(letter, value)
		limits = append(limits, l...)
		return err
	}))
	var oe *cli.OptionError
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
