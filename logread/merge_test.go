package logread

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/taikit/taikit/internal/logtest"
	"github.com/taikit/taikit/tai64n"
)

// openMerge merges the directories, each opened with OpenDir.
func openMerge(t *testing.T, dirs []string) *Merged {
	t.Helper()
	m, err := OpenMerged(dirs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// readMerged reads m to its end, with Next or with NextLines.
func readMerged(t *testing.T, m *Merged, blocks bool) []byte {
	t.Helper()
	var out []byte
	for {
		var b []byte
		var err error
		if blocks {
			var ls Lines
			ls, err = m.NextLines()
			b = ls.Bytes
		} else {
			var l Line
			l, err = m.Next()
			b = l.Bytes
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b...)
	}
	if errs := m.Errors(); len(errs) > 0 {
		t.Fatal(errs)
	}
	return out
}

func TestMergeThreeDirectories(t *testing.T) {
	dirs, want := logtest.MergeFixture(t, t.TempDir(), -1)
	for _, d := range dirs {
		if archives, _ := filepath.Glob(filepath.Join(d, "@*.s")); len(archives) < 5 {
			t.Fatalf("%s: %d archives, want several", d, len(archives))
		}
	}
	for _, blocks := range []bool{false, true} {
		if got := readMerged(t, openMerge(t, dirs), blocks); string(got) != want {
			t.Fatalf("merge (NextLines %v) differs: %s", blocks, firstDiff(got, []byte(want)))
		}
	}
}

func TestMergeWithAnEmptyDirectory(t *testing.T) {
	dirs, want := logtest.MergeFixture(t, t.TempDir(), 1)
	if got := readMerged(t, openMerge(t, dirs), false); string(got) != want {
		t.Fatalf("merge differs: %s", firstDiff(got, []byte(want)))
	}
}

// The merge as the stream gives it: every line with the stamp it belongs
// to, which never goes back.
func TestMergeStreamStamps(t *testing.T) {
	dirs, _ := logtest.MergeFixture(t, t.TempDir(), -1)
	s := openMerge(t, dirs)
	var last tai64n.Label
	n := 0
	for {
		l, err := s.Next()
		if err != nil {
			break
		}
		if l.Stamp.Before(last) {
			t.Fatalf("line %d %q: stamp %v after %v", n, l.Bytes, l.Stamp, last)
		}
		if st, ok := tai64n.ParsePrefix(l.Bytes); ok != l.Stamped || ok && st != l.Stamp {
			t.Fatalf("line %d %q: stamp %v stamped %v", n, l.Bytes, l.Stamp, l.Stamped)
		}
		last = l.Stamp
		n++
	}
	if n < 900 {
		t.Fatalf("%d lines", n)
	}
}

// The stamp NextLines carries into a line is the one the line would
// inherit in its own source: an unstamped line's is its Stamp, the same
// as Next gives it.
func TestMergeNextLinesCarry(t *testing.T) {
	dirs, _ := logtest.MergeFixture(t, t.TempDir(), -1)
	byNext, byLines := openMerge(t, dirs), openMerge(t, dirs)
	for n := 0; ; n++ {
		l, err := byNext.Next()
		ls, err2 := byLines.NextLines()
		if err != err2 {
			t.Fatalf("line %d: Next %v, NextLines %v", n, err, err2)
		}
		if err == io.EOF {
			return
		}
		if !bytes.Equal(l.Bytes, ls.Bytes) {
			t.Fatalf("line %d: Next %q, NextLines %q", n, l.Bytes, ls.Bytes)
		}
		if !l.Stamped && ls.Stamp != l.Stamp {
			t.Fatalf("line %d %q: carried %v, inherits %v", n, l.Bytes, ls.Stamp, l.Stamp)
		}
	}
}

// OpenMerged refuses to follow, and closes what it opened when a directory
// cannot be opened.
func TestOpenMergedErrors(t *testing.T) {
	dirs, _ := logtest.MergeFixture(t, t.TempDir(), -1)
	missing := filepath.Join(t.TempDir(), "nope")
	_, err := OpenMerged([]string{dirs[0], missing, dirs[1]}, Options{})
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Fatalf("a missing directory: %v", err)
	}
	if _, err := OpenMerged(dirs, Options{Follow: true}); err == nil {
		t.Fatal("a merge that follows was opened")
	}
}

// Source names the source of each line, even when two directories hold the
// same lines, byte for byte, with the same stamps: a merge of a log and its
// copy, or two services that log the same thing at the same moment.
func TestMergeSourceOfIdenticalLines(t *testing.T) {
	stamp := func(sec int64) string { return tai64n.FromUnix(1_800_000_000+sec, 0, tai64n.Daemontools).String() }
	same := stamp(1) + " same\n" + stamp(2) + " same\n" + "unstamped, same\n"
	a, b := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(a, "current"), []byte(same+stamp(4)+" only in a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b, "current"), []byte(same+stamp(3)+" only in b\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Equal stamps come in the order the sources were given; an unstamped
	// line stays after the stamped line before it in its own source.
	want := []struct {
		src  int
		line string
	}{
		{0, stamp(1) + " same\n"}, {1, stamp(1) + " same\n"},
		{0, stamp(2) + " same\n"}, {0, "unstamped, same\n"},
		{1, stamp(2) + " same\n"}, {1, "unstamped, same\n"},
		{1, stamp(3) + " only in b\n"}, {0, stamp(4) + " only in a\n"},
	}
	for _, blocks := range []bool{false, true} {
		m := openMerge(t, []string{a, b})
		if got := m.Source(); got != -1 {
			t.Fatalf("Source before the first line: %d", got)
		}
		for i, w := range want {
			var line []byte
			if blocks {
				ls, err := m.NextLines()
				if err != nil {
					t.Fatal(err)
				}
				line = ls.Bytes
			} else {
				l, err := m.Next()
				if err != nil {
					t.Fatal(err)
				}
				line = l.Bytes
			}
			if string(line) != w.line || m.Source() != w.src {
				t.Fatalf("blocks %v, line %d: %q from source %d, want %q from %d", blocks, i, line, m.Source(), w.line, w.src)
			}
		}
		if _, err := m.Next(); err != io.EOF {
			t.Fatalf("after the last line: %v", err)
		}
		if got := m.Source(); got != -1 {
			t.Fatalf("Source after the end: %d", got)
		}
	}
}
