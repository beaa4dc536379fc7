// Command svstat prints the state of services, as daemontools' svstat
// does. See doc/man8/svstat.8.
package main

import (
	"bufio"
	"io"
	"os"
	"time"

	"github.com/taikit/taikit/internal/cli"
	"github.com/taikit/taikit/supervise"
)

func main() {
	cli.IgnoreBrokenPipe()
	os.Exit(run(os.Args[1:], os.Stdout, time.Now))
}

// run prints one line per directory. Like daemontools' svstat it takes no
// options (every argument is a directory) and exits 0: the state, failures
// included, is in the output.
func run(dirs []string, stdout io.Writer, clock func() time.Time) int {
	w := bufio.NewWriterSize(stdout, 1024)
	for _, dir := range dirs {
		w.WriteString(dir)
		w.WriteString(": ")
		w.WriteString(supervise.Describe(dir, clock()))
		w.WriteByte('\n')
	}
	w.Flush()
	return cli.ExitOK
}
