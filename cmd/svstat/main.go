// Command svstat prints the state of services, as daemontools' svstat
// does. See doc/man8/svstat.8.
package main

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"time"

	"github.com/taikit/taikit/internal/cli"
	"github.com/taikit/taikit/observe"
	"github.com/taikit/taikit/supervise"
)

func main() {
	cli.IgnoreBrokenPipe()
	os.Exit(run(os.Args[1:], os.Stdout, time.Now))
}

// run prints one line per directory. Like daemontools' svstat it takes no
// options (every argument is a directory) and exits 0: the state, failures
// included, is in the output. The one exception, a first argument of
// exactly -j, asks for JSON; a directory of that name is ./-j.
func run(dirs []string, stdout io.Writer, clock func() time.Time) int {
	w := bufio.NewWriterSize(stdout, 1024)
	if len(dirs) > 0 && dirs[0] == "-j" {
		writeJSON(w, dirs[1:], clock)
		w.Flush()
		return cli.ExitOK
	}
	for _, dir := range dirs {
		w.WriteString(dir)
		w.WriteString(": ")
		w.WriteString(supervise.Describe(dir, clock()))
		w.WriteByte('\n')
	}
	w.Flush()
	return cli.ExitOK
}

// jsonState is one line of svstat -j: the state as data, and svstat's
// words for it.
type jsonState struct {
	observe.Service
	Text string `json:"text"`
}

// writeJSON writes one JSON object per directory, each on a line of its
// own (JSON Lines), so that a script reads them one at a time as it reads
// svstat's lines.
func writeJSON(w io.Writer, dirs []string, clock func() time.Time) {
	enc := json.NewEncoder(w)
	for _, dir := range dirs {
		s := jsonState{Service: observe.ReadService(dir, dir)}
		s.Text = s.Service.Text(clock()) // the same read as the fields
		enc.Encode(s)
	}
}
