// Command logcat reads log directories (multilog's, s6-log's, svlogd's) as
// one ordered stream: cat, grep by time and pattern, and tail -F that loses
// no line across rotations. See doc/man8/logcat.8.
package main

import (
	"os"
	"os/signal"
	"syscall"
	"time"

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
	}))
}
