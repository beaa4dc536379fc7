// Command svok tells whether a supervisor runs for a service, as
// daemontools' svok does. See doc/man8/svok.8.
package main

import (
	"io"
	"os"

	"github.com/taikit/taikit/errtext"
	"github.com/taikit/taikit/internal/cli"
	"github.com/taikit/taikit/supervise"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

// run exits 0 if supervise runs for the directory, 100 if not (or on a
// usage error), 111 on a system error. Operands after the first are
// ignored, as daemontools does.
func run(args []string, stderr io.Writer) int {
	if len(args) == 0 {
		io.WriteString(stderr, "svok: usage: svok dir\n")
		return cli.ExitUsage
	}
	dir := args[0]
	if err := supervise.Searchable(dir); err != nil {
		return cli.Fatal(stderr, "svok", "unable to chdir to "+dir, errtext.Of(err))
	}
	ok, err := supervise.Running(dir)
	if err != nil {
		return cli.Fatal(stderr, "svok", "unable to open "+dir+"/supervise/ok", errtext.Of(err))
	}
	if !ok {
		return cli.ExitUsage
	}
	return cli.ExitOK
}
