// Command envuidgid runs a program with $UID and $GID set to an account's
// user id and primary group id, as daemontools' envuidgid does. See
// doc/man8/envuidgid.8.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/taikit/taikit/internal/cli"
	"github.com/taikit/taikit/supervise/chain"
)

const usage = "envuidgid: usage: envuidgid account child\n"

func main() { os.Exit(run(os.Args, chain.Environ(), os.Stderr)) }

// run returns only when the child could not be started.
func run(argv, env []string, stderr io.Writer) int {
	if len(argv) < 3 {
		fmt.Fprint(stderr, usage)
		return cli.ExitUsage
	}
	account, err := chain.LookupAccount(argv[1])
	if err != nil {
		return cli.FatalErr(stderr, "envuidgid", err)
	}
	return cli.FatalErr(stderr, "envuidgid", chain.Exec(argv[2:], account.EnvChanges().Apply(env)))
}
