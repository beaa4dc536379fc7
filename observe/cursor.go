package observe

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"time"

	"github.com/taikit/taikit/logread"
	"github.com/taikit/taikit/ship/state"
	"github.com/taikit/taikit/tai64n"
)

// MaxBehindRead bounds what is read after a cursor to measure how far
// behind its reader is: a shipper that fell far behind costs at most this
// much reading per snapshot, and is reported as at least that far behind.
const MaxBehindRead = 64 << 20

// readBehind measures how much of dir comes after the cursor saved at
// path (by logcat --cursor, a logship state file, or a shipper using
// package logread): what its reader has yet to read. A cursor file not
// there yet means nothing read yet: the whole directory is behind.
func readBehind(dir, path string, d *LogDir) {
	d.Cursor = path
	c, err := logread.LoadCursor(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		var gaps bool
		if c, gaps, err = shipCursor(dir, path); err != nil {
			d.CursorError = err.Error()
			return
		}
		d.CursorGap = gaps
	}
	r, err := logread.OpenDir(dir, logread.Options{Cursor: &c, OnError: func(err error) {
		var gap *logread.GapError
		if errors.As(err, &gap) {
			d.CursorGap = true
		}
	}})
	if err != nil {
		d.CursorError = err.Error()
		return
	}
	defer r.Close()
	l, err := r.Next()
	if err != nil {
		return // nothing after the cursor
	}
	d.Behind = int64(len(l.Bytes))
	if l.Stamp != (tai64n.Label{}) {
		d.BehindSince = l.Stamp.Time(tai64n.Daemontools)
	}
	for d.Behind < MaxBehindRead {
		b, err := r.NextLines()
		if err != nil {
			return
		}
		d.Behind += int64(len(b.Bytes))
	}
	d.BehindAtLeast = true
}

// BehindSeconds is how long ago, at now, the first line the cursor's
// reader has not read yet was written (its stamp); 0 when it has read
// everything.
func (d *LogDir) BehindSeconds(now time.Time) float64 {
	if d.BehindSince.IsZero() {
		return 0
	}
	return max(0, now.Sub(d.BehindSince).Seconds())
}

// shipCursor reads the position logship saved for dir in its state file
// at path: the directory the file holds if it holds one, or the one named
// as dir (the same path, or the same absolute path). gaps says logship met
// archives pruned before it shipped them.
func shipCursor(dir, path string) (c logread.Cursor, gaps bool, err error) {
	st, err := state.Open(path)
	if err != nil {
		return c, false, err
	}
	names := st.Dirs()
	want, _ := filepath.Abs(dir)
	for _, n := range names {
		abs, _ := filepath.Abs(n)
		if len(names) == 1 || filepath.Clean(n) == filepath.Clean(dir) || abs == want {
			p, _ := st.Get(n)
			return p.Cursor, p.Gaps > 0, nil
		}
	}
	return c, false, fmt.Errorf("state file %s ships %s, not %s: name the directory as logship does", path, strings.Join(names, ", "), dir)
}
