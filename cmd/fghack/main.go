// Command fghack keeps a program that puts itself in the background in
// the foreground, as daemontools' fghack does. See doc/man8/fghack.8.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/taikit/taikit/internal/cli"
	"github.com/taikit/taikit/supervise/chain"
)

const usage = "fghack: usage: fghack child\n"

func main() { os.Exit(run(os.Args, chain.Environ(), os.Stderr)) }

func run(argv, env []string, stderr io.Writer) int {
	if len(argv) < 2 {
		fmt.Fprint(stderr, usage)
		return cli.ExitUsage
	}
	code, err := chain.Foreground(argv[1:], env)
	if err != nil {
		return cli.FatalErr(stderr, "fghack", err)
	}
	return code
}
