package logcat

import (
	"bytes"
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/taikit/taikit/rotate"
	"github.com/taikit/taikit/tai64n"
	"github.com/taikit/taikit/tzlocal"
)

// entry is a stamped line and the unstamped lines after it, which belong
// to it, as one directory holds them.
type entry struct {
	dir   int
	stamp tai64n.Label // zero: lines before any stamped line
	text  string
}

// writeLogDir writes entries (in order) into a log directory through
// package rotate, cut into many small archives whose names come from an
// injected clock, so that the merge crosses file boundaries.
func writeLogDir(t *testing.T, dir string, entries []entry) {
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
	var all []entry
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
		all = append(all, entry{dir, st, b.String()})
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
		var mine []entry
		for _, e := range all {
			if e.dir == k && k != empty {
				mine = append(mine, e)
			}
		}
		writeLogDir(t, dir, mine)
		dirs = append(dirs, dir)
	}
	if empty >= 0 {
		all = slices.DeleteFunc(all, func(e entry) bool { return e.dir == empty })
	}
	slices.SortStableFunc(all, func(a, b entry) int {
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

// runLogcat runs the command with args and returns its output, messages
// and exit code.
func runLogcat(args ...string) (string, string, int) {
	var out, errs bytes.Buffer
	code := Run(args, Env{
		Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errs,
		Now:       time.Now,
		LocalZone: func() *tzlocal.Zone { return nil },
	})
	return out.String(), errs.String(), code
}

func TestMergeThreeDirectories(t *testing.T) {
	dirs, want := mergeFixture(t, t.TempDir(), -1)
	for _, d := range dirs {
		if archives, _ := filepath.Glob(filepath.Join(d, "@*.s")); len(archives) < 5 {
			t.Fatalf("%s: %d archives, want several", d, len(archives))
		}
	}
	out, errs, code := runLogcat(dirs...)
	if code != 0 || errs != "" {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if out != want {
		t.Fatalf("merge differs:\n%s", firstDiff(want, out))
	}
}

func TestMergeWithAnEmptyDirectory(t *testing.T) {
	dirs, want := mergeFixture(t, t.TempDir(), 1)
	out, errs, code := runLogcat(dirs...)
	if code != 0 || errs != "" {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if out != want {
		t.Fatalf("merge differs:\n%s", firstDiff(want, out))
	}
}

// A directory that is not there is named in a warning; the others are
// still read and merged, and the exit code says something was missing.
func TestMergeWithAMissingDirectory(t *testing.T) {
	root := t.TempDir()
	dirs, want := mergeFixture(t, root, 1)
	missing := filepath.Join(root, "nope")
	for _, args := range [][]string{
		{dirs[0], missing, dirs[2]},
		{missing, dirs[0], dirs[2]},
		{dirs[0], dirs[2], missing},
	} {
		out, errs, code := runLogcat(args...)
		if code != 111 {
			t.Errorf("%q: exit %d, want 111", args, code)
		}
		if wantMsg := "logcat: warning: unable to read " + missing + ": file does not exist\n"; errs != wantMsg {
			t.Errorf("%q: messages %q, want %q", args, errs, wantMsg)
		}
		if out != want {
			t.Errorf("%q: merge differs:\n%s", args, firstDiff(want, out))
		}
	}
}

// firstDiff describes where two outputs first differ.
func firstDiff(want, got string) string {
	w, g := strings.SplitAfter(want, "\n"), strings.SplitAfter(got, "\n")
	for i := range min(len(w), len(g)) {
		if w[i] != g[i] {
			return fmt.Sprintf("line %d: got %q, want %q", i+1, g[i], w[i])
		}
	}
	return fmt.Sprintf("%d lines, want %d", len(g), len(w))
}
