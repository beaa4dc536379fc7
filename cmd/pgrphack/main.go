// Command pgrphack runs a program in a new session and process group, as
// daemontools' pgrphack does. See doc/man8/pgrphack.8.
package main

import (
	"fmt"
	"io"
	"os"
	"syscall"

	"github.com/taikit/taikit/internal/cli"
	"github.com/taikit/taikit/supervise/chain"
)

const usage = "pgrphack: usage: pgrphack child\n"

func main() { os.Exit(run(os.Args, chain.Environ(), os.Stderr)) }

// run returns only when the child could not be started.
func run(argv, env []string, stderr io.Writer) int {
	if len(argv) < 2 {
		fmt.Fprint(stderr, usage)
		return cli.ExitUsage
	}
	// As in daemontools, a process that already leads a process group
	// (and so cannot start a session) runs the child anyway.
	_, _ = syscall.Setsid()
	return cli.FatalErr(stderr, "pgrphack", chain.Exec(argv[1:], env))
}
