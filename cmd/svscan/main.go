// Command svscan starts and watches a supervise process for every service
// directory of a scan directory, with a second one for the service's log/
// directory joined to it by a pipe — a drop-in replacement for daemontools'
// svscan. See doc/man8/svscan.8.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/taikit/taikit/errtext"
	"github.com/taikit/taikit/internal/cli"
	"github.com/taikit/taikit/supervise/scan"
)

func main() {
	// SIGHUP and SIGALRM ask for a pass now instead of killing svscan, as
	// they do daemontools' (s6-svscan rescans on SIGALRM too). Every other
	// signal keeps its default action.
	wake := make(chan os.Signal, 1)
	signal.Notify(wake, syscall.SIGHUP, syscall.SIGALRM)
	os.Exit(run(context.Background(), os.Args, os.Stderr, wake))
}

// run is svscan with its argument vector (program name first), the writer
// of its messages and the channel of rescan requests. It returns only when
// ctx is done or the directory cannot be entered.
func run(ctx context.Context, argv []string, stderr io.Writer, wake <-chan os.Signal) int {
	// As daemontools: the first argument is the directory, later ones are
	// ignored, and there are no options.
	if len(argv) > 1 {
		if err := os.Chdir(argv[1]); err != nil {
			return cli.Fatal(stderr, "svscan", "unable to chdir to "+argv[1], errtext.Of(err))
		}
	}
	s := scan.New(".")
	// svscan may be process 1 of a container: orphans it inherits must be
	// reaped too.
	s.ReapAll = true
	// Services without a log/ write to svscan's own output (readproctitle
	// under svscanboot), as under daemontools.
	s.Stdin, s.Stdout, s.Stderr = os.Stdin, os.Stdout, os.Stderr
	s.Warn = func(err error) { fmt.Fprintf(stderr, "svscan: warning: %v\n", err) }
	defer s.Close()
	s.Run(ctx, scan.DefaultInterval, wake)
	return cli.ExitOK
}
