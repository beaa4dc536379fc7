package main

import (
	"bytes"
	"testing"
	"time"

	"github.com/taikit/taikit/internal/conformance"
	"github.com/taikit/taikit/tai64n"
)

// The tai64n cases of testdata/conformance/cases.txt, run on our command
// with a fixed clock.

// confClock is the fixed time the conformance cases run at.
func confClock() time.Time { return time.Unix(1700000000, 123456789) }

// confRun runs our tai64n with args on the case's stdin.
func confRun(t *testing.T, c conformance.Case, args []string) (code int, stdout, stderr []byte) {
	t.Helper()
	var out, errs bytes.Buffer
	code = run(args, bytes.NewReader(c.Stdin()), &out, &errs, confClock)
	return code, out.Bytes(), errs.Bytes()
}

// TN01: a stamp per line, including an empty one, and no newline added to
// a partial last line.
func TestCaseFileTN01(t *testing.T) {
	c := conformance.Get(t, "TN01")
	code, out, errs := confRun(t, c, c.Args())
	if code != c.Exit {
		t.Errorf("exit %d, want %d", code, c.Exit)
	}
	if err := c.Stdout.Check(out); err != nil {
		t.Errorf("stdout: %v", err)
	}
	if err := c.Stderr.Check(errs); err != nil {
		t.Errorf("stderr: %v", err)
	}
	// The case's title adds that daemontools' nanosecond field always ends
	// in 500 (it has microseconds only). taikit writes the clock's real
	// nanoseconds instead (doc/man8/tai64n.8, DIFFERENCES FROM DAEMONTOOLS), so
	// every stamp here is the label of the fixed clock.
	stamp := tai64n.FromUnix(1700000000, 123456789, tai64n.Daemontools).String()
	if n := bytes.Count(out, []byte(stamp+" ")); n != 3 {
		t.Errorf("%d stamps %s in %q, want 3", n, stamp, out)
	}
}

// TN02 is s6-tai64n, which adds a newline to a partial last line. taikit
// follows daemontools there (TN01), in both conventions, since a filter
// should not change the bytes it passes on: our output is TN02's minus
// its final newline.
func TestCaseFileTN02(t *testing.T) {
	c := conformance.Get(t, "TN02")
	want, ok := bytes.CutSuffix(c.Stdout.Want, []byte("\n"))
	if !ok || !bytes.Equal(want, conformance.Get(t, "TN01").Stdout.Want) || !bytes.Equal(c.Stdin(), conformance.Get(t, "TN01").Stdin()) {
		t.Fatalf("TN02 is no longer TN01 plus a final newline: %+v", c)
	}
	for _, args := range [][]string{nil, {"-l"}} {
		code, out, errs := confRun(t, c, args)
		if got := conformance.MaskStamps(out); code != c.Exit || !bytes.Equal(got, want) || len(errs) != 0 {
			t.Errorf("tai64n %q: exit %d, stdout %q, stderr %q; want %d, %q", args, code, got, errs, c.Exit, want)
		}
	}
}
