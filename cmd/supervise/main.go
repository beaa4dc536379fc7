// Command supervise starts and monitors one service, as daemontools'
// supervise does. See doc/man8/supervise.8.
package main

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"

	"github.com/taikit/taikit/errtext"
	"github.com/taikit/taikit/internal/cli"
	"github.com/taikit/taikit/supervise"
)

func main() {
	// No cli.IgnoreBrokenPipe here: ignored signals stay ignored across
	// exec, and run must start with SIGPIPE at its default, as under
	// daemontools.
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	if len(args) != 1 {
		io.WriteString(stderr, "supervise: usage: supervise dir\n")
		return cli.ExitUsage
	}
	dir := args[0]
	// The services named in needs/ are the service's siblings in the
	// directory it was named from (svscan's scan directory), not beside
	// wherever a link to the service directory leads: take that directory
	// before leaving it.
	scan, err := filepath.Abs(filepath.Dir(dir))
	if err != nil {
		scan = ""
	}
	// As daemontools: work inside the directory, so that it can be renamed
	// under a running supervisor.
	if err := os.Chdir(dir); err != nil {
		return cli.Fatal(stderr, "supervise", "unable to chdir to "+dir, errtext.Of(err))
	}
	s := &supervise.Supervisor{Dir: ".", Name: dir, Warnings: stderr,
		Files: []*os.File{os.Stdin, os.Stdout, os.Stderr}, ScanDir: scan}
	if err := s.Run(context.Background()); err != nil {
		var fe *errtext.Error
		if errors.As(err, &fe) {
			return cli.FatalErr(stderr, "supervise", fe)
		}
		return cli.Fatal(stderr, "supervise", "unable to supervise "+dir, errtext.Of(err))
	}
	return cli.ExitOK
}
