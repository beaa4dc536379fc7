// Command logcat reads log directories (multilog's, s6-log's, svlogd's) as
// one ordered stream: cat, grep by time and pattern, and tail -F that loses
// no line across rotations. See doc/man8/logcat.8.
package main

import (
	"os"
	"os/signal"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/taikit/taikit/internal/cli"
	"github.com/taikit/taikit/internal/logcat"
	"github.com/taikit/taikit/tzlocal"
)

func main() {
	cli.IgnoreBrokenPipe()
	// SIGINT, SIGTERM and SIGHUP end reading and following cleanly: what
	// was read is written, the cursor saved after it, and logcat exits 0.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	interrupt := make(chan struct{})
	go func() {
		<-sigs
		close(interrupt)
	}()
	os.Exit(logcat.Run(os.Args[1:], logcat.Env{
		Stdin:     os.Stdin,
		Stdout:    os.Stdout,
		Stderr:    os.Stderr,
		Now:       time.Now,
		LocalZone: tzlocal.Local,
		Interrupt: interrupt,
		Getenv:    os.Getenv,
		Terminal:  terminal,
	}))
}

// terminal reports whether standard output is a terminal, and its width.
func terminal() (bool, int) {
	fd := int(os.Stdout.Fd())
	if _, err := unix.IoctlGetTermios(fd, unix.TCGETS); err != nil {
		return false, 0
	}
	ws, err := unix.IoctlGetWinsize(fd, unix.TIOCGWINSZ)
	if err != nil {
		return true, 0
	}
	return true, int(ws.Col)
}
