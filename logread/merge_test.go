package logread

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/taikit/taikit/rotate"
	"github.com/taikit/taikit/tai64n"
)

// mergeEntry is a stamped line and the unstamped lines after it, which belong
// to it, as one directory holds them.
type mergeEntry struct {
	dir   int
	stamp tai64n.Label // zero: lines before any stamped line
	text  string
}

// writeLogDir writes entries (in order) into a log directory through
// package rotate, cut into many small archives whose names come from an
// injected clock, so that the merge crosses file boundaries.
func writeLogDir(t *testing.T, dir string, entries []mergeEntry) {
	t.Helper()
	clock := time.Unix(1_800_000_000, 0)
	d, err := rotate.Open(dir, rotate.Options{
		MaxSize: 4096, Keep: 10000, Pause: 10 * time.Millisecond, Stderr: os.Stderr,
		Warn:  func(s string) { t.Errorf("rotate: %s", s) },
		Clock: func() time.Time { clock = clock.Add(time.Second); return clock },
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if _, err := d.Write([]byte(e.text)); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
}

// mergeFixture builds three directories with interleaved stamps: equal
// stamps across directories, unstamped lines after stamped ones, lines
// before any stamp, and long stretches of one directory between two lines
// of another. It returns the directories and the merge expected: entries
// ordered by stamp, equal stamps in the order the directories are named,
// each directory's own order kept.
func mergeFixture(t *testing.T, root string, empty int) ([]string, string) {
	t.Helper()
	var all []mergeEntry
	seq := 0
	add := func(dir int, sec int64, unstamped int) {
		var b strings.Builder
		var st tai64n.Label
		if sec >= 0 {
			st = tai64n.FromUnix(sec, 0, tai64n.Daemontools)
			fmt.Fprintf(&b, "%s dir%d line %d\n", st.String(), dir, seq)
		}
		for k := range unstamped {
			fmt.Fprintf(&b, "  dir%d line %d continued %d\n", dir, seq, k)
		}
		seq++
		all = append(all, mergeEntry{dir, st, b.String()})
	}
	add(1, -1, 2) // before any stamp in dir 1
	for i := range 800 {
		sec := int64(1_800_000_000 + i)
		switch {
		case i%10 == 0: // the same stamp in all three
			add(0, sec, 0)
			add(1, sec, 1)
			add(2, sec, 0)
		case i%7 == 0: // a run in dir 2
			add(2, sec, 3)
		case i > 100 && i < 160: // dir 0 alone for a while
			add(0, sec, i%3)
		default:
			add(i%2, sec, i%4/3)
		}
	}
	var dirs []string
	for k := range 3 {
		dir := filepath.Join(root, fmt.Sprintf("d%d", k))
		var mine []mergeEntry
		for _, e := range all {
			if e.dir == k && k != empty {
				mine = append(mine, e)
			}
		}
		writeLogDir(t, dir, mine)
		dirs = append(dirs, dir)
	}
	if empty >= 0 {
		all = slices.DeleteFunc(all, func(e mergeEntry) bool { return e.dir == empty })
	}
	slices.SortStableFunc(all, func(a, b mergeEntry) int {
		if c := a.stamp.Compare(b.stamp); c != 0 {
			return c
		}
		return cmp.Compare(a.dir, b.dir)
	})
	var want strings.Builder
	for _, e := range all {
		want.WriteString(e.text)
	}
	return dirs, want.String()
}

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
	dirs, want := mergeFixture(t, t.TempDir(), -1)
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
	dirs, want := mergeFixture(t, t.TempDir(), 1)
	if got := readMerged(t, openMerge(t, dirs), false); string(got) != want {
		t.Fatalf("merge differs: %s", firstDiff(got, []byte(want)))
	}
}

// The merge as the stream gives it: every line with the stamp it belongs
// to, which never goes back.
func TestMergeStreamStamps(t *testing.T) {
	dirs, _ := mergeFixture(t, t.TempDir(), -1)
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
	dirs, _ := mergeFixture(t, t.TempDir(), -1)
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
	dirs, _ := mergeFixture(t, t.TempDir(), -1)
	missing := filepath.Join(t.TempDir(), "nope")
	_, err := OpenMerged([]string{dirs[0], missing, dirs[1]}, Options{})
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Fatalf("a missing directory: %v", err)
	}
	if _, err := OpenMerged(dirs, Options{Follow: true}); err == nil {
		t.Fatal("a merge that follows was opened")
	}
}
