package multilog_test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/taikit/taikit/multilog"
)

// A script parsed and run over input that arrives in two reads, into an
// in-memory "directory": the debug line is selected out, and each line is
// stamped with the clock reading of the read in which it began, as
// daemontools stamps it (the second read only completes the last line).
func Example() {
	plan := multilog.Parse(strings.Fields("t -*debug* ./main"))
	var dir bytes.Buffer
	clock := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	engine := multilog.NewEngine(plan, multilog.Sinks{
		Dirs:   []io.Writer{&dir}, // a *rotate.Dir in multilog itself
		Stderr: os.Stderr,
		Clock:  func() time.Time { clock = clock.Add(time.Second); return clock },
	})
	for _, chunk := range []string{"starting\nworker: debug: queue 3\nlistening on :8", "080\n"} {
		if err := engine.Process([]byte(chunk)); err != nil {
			fmt.Println(err)
		}
	}
	if err := engine.Finish(); err != nil {
		fmt.Println(err)
	}
	fmt.Print(dir.String())
	// Output:
	// @400000006b12ab4b00000000 starting
	// @400000006b12ab4b00000000 listening on :8080
}

// Parse never fails: a word daemontools would ignore is ignored, with a
// warning saying what to do instead.
func ExampleParse() {
	plan := multilog.Parse([]string{"t", "s250000", "n20", "./main", "bogus"})
	for _, a := range plan.Actions {
		fmt.Println(a.Kind == multilog.Dir, a.Path, a.Options.MaxSize, a.Options.Keep)
	}
	fmt.Println(plan.Warnings)
	// Output:
	// true ./main 250000 20
	// [script word "bogus" does nothing: multilog has no action starting with 'b'; a directory must start with . or /]
}
