package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/taikit/taikit/internal/testref"
)

// logcat -F --rate is a live rate: a row for each interval once a line of
// a later one has been written, empty intervals included; the open
// interval's row when it is stopped.
func TestLiveRate(t *testing.T) {
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "main")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	base := int64(1_800_000_000) // a whole minute
	current := filepath.Join(dir, "current")
	appendLines := func(secs ...int64) {
		f, err := os.OpenFile(current, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		for _, s := range secs {
			if _, err := f.WriteString(lbl(base+s, 0) + " GET /\n"); err != nil {
				t.Fatal(err)
			}
		}
	}
	row := func(min int, count, bar string) string {
		r := time.Unix(base+int64(60*min), 0).UTC().Format("2006-01-02 15:04:05") + " " + count
		if bar != "" {
			r += " " + bar
		}
		return r + "\n"
	}
	bar := func(n int) string { return strings.Repeat("#", n) }
	appendLines(1, 2, 3)
	out := filepath.Join(tmp, "out")
	t.Setenv("COLUMNS", "40")
	f := startFollower(t, out, "-F", "-u", "--rate", dir)
	// Nothing yet: the first minute is open.
	appendLines(61)
	want := row(0, "3", bar(18))
	testref.WaitFor(t, "the first minute's row", func() bool { return len(f.output(t)) >= len(want) })
	if got := f.output(t); got != want {
		t.Fatalf("output\n%s\nwant\n%s", got, want)
	}
	appendLines(62, 200)
	want += row(1, "2", bar(12)) + row(2, "0", "")
	testref.WaitFor(t, "the rows up to the third minute", func() bool { return len(f.output(t)) >= len(want) })
	if got := f.output(t); got != want {
		t.Fatalf("output\n%s\nwant\n%s", got, want)
	}
	f.cmd.Process.Signal(syscall.SIGTERM)
	if code := exitCode(t, f.cmd.Wait()); code != 0 {
		t.Errorf("exit %d", code)
	}
	if want += row(3, "1", bar(6)); f.output(t) != want {
		t.Errorf("output\n%s\nwant\n%s", f.output(t), want)
	}
}
