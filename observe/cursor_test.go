package observe

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/taikit/taikit/logread"
	"github.com/taikit/taikit/ship/state"
	"github.com/taikit/taikit/tai64n"
)

func stampedLine(t time.Time, text string) string {
	return tai64n.FromTime(t, tai64n.Daemontools).String() + " " + text + "\n"
}

// TestCursorLag: how far a reader whose cursor is saved (as logcat
// --cursor and shippers save it) is behind: the bytes after it, the stamp
// of the first line it has not read, and data pruned before it read it.
func TestCursorLag(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Unix(1700000000, 0)
	l := []string{stampedLine(t0, "one"), stampedLine(t0.Add(time.Second), "two"),
		stampedLine(t0.Add(2*time.Second), "three"), stampedLine(t0.Add(3*time.Second), "four")}
	archive := filepath.Join(dir, tai64n.FromTime(t0.Add(time.Second), tai64n.Daemontools).String()+".s")
	must(t, os.WriteFile(archive, []byte(l[0]+l[1]), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "current"), []byte(l[2]+l[3]), 0o644))
	cursorAfter := func(n int) string {
		r, err := logread.OpenDir(dir, logread.Options{})
		must(t, err)
		defer r.Close()
		for range n {
			_, err := r.Next()
			must(t, err)
		}
		path := filepath.Join(t.TempDir(), "cursor")
		must(t, logread.SaveCursor(path, r.Cursor()))
		return path
	}
	lag := func(cursor string) LogDir {
		tree := &Tree{LogDirs: []string{dir}, Cursors: map[string]string{dir: cursor}}
		s := tree.Snapshot()
		if len(s.LogDirs) != 1 {
			t.Fatalf("%+v", s)
		}
		return s.LogDirs[0]
	}
	now := t0.Add(time.Hour)
	if d := lag(cursorAfter(3)); d.Behind != int64(len(l[3])) || !d.BehindSince.Equal(t0.Add(3*time.Second)) || d.CursorGap ||
		d.BehindSeconds(now) != 3600-3 {
		t.Errorf("after three lines: %+v", d)
	}
	if d := lag(cursorAfter(4)); d.Behind != 0 || !d.BehindSince.IsZero() || d.BehindSeconds(now) != 0 || d.CursorError != "" {
		t.Errorf("at the end: %+v", d)
	}
	if d := lag(filepath.Join(t.TempDir(), "none")); d.Behind != int64(len(strings.Join(l, ""))) || !d.BehindSince.Equal(t0) {
		t.Errorf("no cursor yet: %+v", d)
	}
	bad := filepath.Join(t.TempDir(), "bad")
	must(t, os.WriteFile(bad, []byte("not a cursor\n"), 0o644))
	if d := lag(bad); d.CursorError == "" {
		t.Errorf("a file that is no cursor: %+v", d)
	}
	// The archive the reader was in, pruned before it finished it.
	after1 := cursorAfter(1)
	must(t, os.Remove(archive))
	if d := lag(after1); !d.CursorGap || d.Behind != int64(len(l[2]+l[3])) {
		t.Errorf("after a prune: %+v", d)
	}
}

// TestShipStateLag: a logship state file names its directories; the lag is
// read from the position saved for the directory observed, gaps logship
// met are reported, and a state file for other directories is an error
// that says which it holds.
func TestShipStateLag(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Unix(1700000000, 0)
	lines := stampedLine(t0, "one") + stampedLine(t0.Add(time.Second), "two")
	must(t, os.WriteFile(filepath.Join(dir, "current"), []byte(lines), 0o644))
	r, err := logread.OpenDir(dir, logread.Options{})
	must(t, err)
	_, err = r.Next()
	must(t, err)
	cur := r.Cursor()
	r.Close()
	path := filepath.Join(t.TempDir(), "state")
	st, err := state.Open(path)
	must(t, err)
	must(t, st.Save("/elsewhere/log", state.Position{Seq: 9}))
	must(t, st.Save(dir, state.Position{Cursor: cur, Seq: 1, Gaps: 1}))
	tree := &Tree{LogDirs: []string{dir}, Cursors: map[string]string{dir: path}}
	d := tree.Snapshot().LogDirs[0]
	if d.CursorError != "" || d.Behind != int64(len(stampedLine(t0, "two"))) || !d.CursorGap ||
		!d.BehindSince.Equal(t0.Add(time.Second)) {
		t.Fatalf("lag from a logship state: %+v", d)
	}
	other := filepath.Join(t.TempDir(), "state")
	st, err = state.Open(other)
	must(t, err)
	must(t, st.Save("/a", state.Position{}))
	must(t, st.Save("/b", state.Position{}))
	tree.Cursors[dir] = other
	if d := tree.Snapshot().LogDirs[0]; !strings.Contains(d.CursorError, "ships /a, /b, not "+dir) {
		t.Fatalf("a state file for other directories: %+v", d)
	}
}
