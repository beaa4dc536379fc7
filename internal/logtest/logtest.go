// Package logtest holds the test fixtures that the readers' packages
// (logread, internal/logcat) share: log directories written through
// package rotate with an injected clock, and the merge expected of them.
package logtest

import (
	"cmp"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/taikit/taikit/rotate"
	"github.com/taikit/taikit/tai64n"
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
func writeLogDir(t testing.TB, dir string, entries []entry) {
	t.Helper()
	clock := time.Unix(1_800_000_000, 0)
	d, err := rotate.Open(dir, rotate.Options{
		MaxSize: 4096, Keep: 10000, Pause: 10 * time.Millisecond,
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

// MergeFixture builds three directories with interleaved stamps: equal
// stamps across directories, unstamped lines after stamped ones, lines
// before any stamp, and long stretches of one directory between two lines
// of another. It returns the directories and the merge expected: entries
// ordered by stamp, equal stamps in the order the directories are named,
// each directory's own order kept.
func MergeFixture(t testing.TB, root string, empty int) ([]string, string) {
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
