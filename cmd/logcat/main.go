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
	widenPipe(os.Stdout)
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

// widenPipe makes the pipe f writes to hold 1 MiB (when it is a pipe
// that holds less): logcat writes its output 256 KiB at a time, and into
// the 64 KiB of a default pipe each write waited for the reader to empty
// it four times, a fifth of a search of 1 GB whose lines were read by
// another program. An error (not a pipe, a limit below 1 MiB) leaves it.
func widenPipe(f *os.File) {
	var st unix.Stat_t
	if unix.Fstat(int(f.Fd()), &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
		return
	}
	if n, err := unix.FcntlInt(f.Fd(), unix.F_GETPIPE_SZ, 0); err == nil && n < 1<<20 {
		unix.FcntlInt(f.Fd(), unix.F_SETPIPE_SZ, 1<<20)
	}
}
