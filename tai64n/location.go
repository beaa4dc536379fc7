package tai64n

import (
	"math"
	"time"
)

// Location adapts the standard library's *time.Location to Zone, so that a
// Formatter writes the same local time as time.Time does (nil is UTC). It
// knows no leap seconds, and does not allocate. Instants beyond ±2^62
// seconds, where time.Time's arithmetic wraps, have no local time (no year
// there fits the formats anyway).
func Location(loc *time.Location) Zone {
	if loc == nil {
		loc = time.UTC
	}
	return location{loc}
}

type location struct{ loc *time.Location }

func (l location) Offsets(t int64) (offset, leap, hit, start, end int64, ok bool) {
	if t < -1<<62 || t >= 1<<62 {
		return 0, 0, 0, 0, 0, false
	}
	tm := time.Unix(t, 0).In(l.loc)
	_, off := tm.Zone()
	start, end = math.MinInt64, math.MaxInt64
	s, e := tm.ZoneBounds() // zero for a zone without a beginning or an end
	if !s.IsZero() {
		start = s.Unix()
	}
	if !e.IsZero() {
		end = e.Unix()
	}
	// ZoneBounds can give an end at or before t (the last day of a leap
	// year under a zone's TZ footer rule, golang/go#81583); the window
	// must hold t, and may be shorter than the truth.
	start, end = min(start, t), max(end, t+1)
	return int64(off), 0, 0, start, end, true
}
