package observe

import (
	"errors"
	"io/fs"
	"time"

	"github.com/taikit/taikit/logread"
	"github.com/taikit/taikit/tai64n"
)

// MaxBehindRead bounds what is read after a cursor to measure how far
// behind its reader is: a shipper that fell far behind costs at most this
// much reading per snapshot, and is reported as at least that far behind.
const MaxBehindRead = 64 << 20

// readBehind measures how much of dir comes after the cursor saved at
// path (by logcat --cursor, or a shipper using package logread): what its
// reader has yet to read. A cursor file not there yet means nothing read
// yet: the whole directory is behind.
func readBehind(dir, path string, d *LogDir) {
	d.Cursor = path
	c, err := logread.LoadCursor(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		d.CursorError = err.Error()
		return
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
