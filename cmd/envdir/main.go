// Command envdir runs a program with environment variables set from the
// files of a directory, as daemontools' envdir does. See doc/man8/envdir.8.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/taikit/taikit/internal/cli"
	"github.com/taikit/taikit/supervise/chain"
)

// daemontools' envdir exits 111, not 100, on a usage error; so does ours.
const usage = "envdir: usage: envdir dir child\n"

func main() { os.Exit(run(os.Args, chain.Environ(), os.Stderr)) }

// run returns only when the child could not be started.
func run(argv, env []string, stderr io.Writer) int {
	if len(argv) < 3 {
		fmt.Fprint(stderr, usage)
		return cli.ExitTemporary
	}
	changes, err := chain.ReadEnvDir(argv[1])
	if err != nil {
		return cli.FatalErr(stderr, "envdir", err)
	}
	return cli.FatalErr(stderr, "envdir", chain.Exec(argv[2:], changes.Apply(env)))
}
