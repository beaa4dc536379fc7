// Command setuidgid runs a program as another account, as daemontools'
// setuidgid does: the account's user id and primary group, and no
// supplementary groups. See doc/man8/setuidgid.8.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/taikit/taikit/internal/cli"
	"github.com/taikit/taikit/supervise/chain"
)

const usage = "setuidgid: usage: setuidgid account child\n"

func main() { os.Exit(run(os.Args, chain.Environ(), os.Stderr)) }

// run returns only when the child could not be started.
func run(argv, env []string, stderr io.Writer) int {
	if len(argv) < 3 {
		fmt.Fprint(stderr, usage)
		return cli.ExitUsage
	}
	account, err := chain.LookupAccount(argv[1])
	if err != nil {
		return cli.FatalErr(stderr, "setuidgid", err)
	}
	if err := account.Become(); err != nil {
		return cli.FatalErr(stderr, "setuidgid", err)
	}
	return cli.FatalErr(stderr, "setuidgid", chain.Exec(argv[2:], env))
}
