// Command multilog reads a stream of lines and writes them to rotated log
// directories, selected by a script given as its arguments — a drop-in
// replacement for daemontools' multilog. See doc/man8/multilog.8.
package main

import (
	"errors"
	"os"
	"os/signal"
	"syscall"

	"github.com/taikit/taikit/internal/cli"
	"github.com/taikit/taikit/multilog"
)

func main() {
	// As daemontools: the modes of what multilog and its processors
	// create do not depend on who started it.
	syscall.Umask(0o022)
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGALRM)
	// A gone reader of standard output (the 1 action) must give EPIPE, not
	// kill multilog. Catching SIGPIPE, unlike ignoring it, is not inherited
	// by processors.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	// SIGHUP and SIGINT keep their default action, as in daemontools: the
	// process dies and the next start recovers the directory.
	err := multilog.Run(multilog.Config{
		Args:    os.Args[1:],
		Stdin:   os.Stdin,
		Stdout:  os.Stdout,
		Stderr:  os.Stderr,
		Signals: sigs,
	})
	switch {
	case err == nil:
		os.Exit(cli.ExitOK)
	case errors.Is(err, multilog.ErrNotLogged): // said by a warning
		os.Exit(cli.ExitTemporary)
	default:
		os.Exit(cli.FatalErr(os.Stderr, "multilog", err))
	}
}
