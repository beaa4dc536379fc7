package tai64n

import (
	"time"
)

// Epoch is the TAI64 seconds label of 1970-01-01 00:00:00 TAI: labels count
// seconds from 2^62 so that earlier instants stay positive.
const Epoch uint64 = 1 << 62

// daemontoolsOffset is what daemontools adds to Unix time: it assumes the
// system clock runs at TAI−10 s (true in 1972, before any leap second).
const daemontoolsOffset = 10

// Label is a TAI64N label: an instant to the nanosecond.
//
// A valid label has Nano < 1e9. Labels read from logs are not always valid
// (daemontools' tai64nlocal prints whatever the last eight hex digits say),
// so the formatters accept any Nano and say where a format cannot show it.
type Label struct {
	Sec  uint64 // TAI64 seconds label: Epoch + seconds since 1970-01-01 TAI
	Nano uint32 // nanoseconds within the second
}

// Valid reports whether the nanosecond field is in range.
func (l Label) Valid() bool { return l.Nano < 1e9 }

// Before reports whether l is earlier than m.
func (l Label) Before(m Label) bool {
	return l.Sec < m.Sec || (l.Sec == m.Sec && l.Nano < m.Nano)
}

// Compare returns -1, 0 or +1 as l is earlier than, equal to or later than m.
func (l Label) Compare(m Label) int {
	switch {
	case l.Before(m):
		return -1
	case m.Before(l):
		return 1
	}
	return 0
}

// Convention says how a label relates to the system clock.
//
// The two conventions differ by the number of leap seconds since 1972
// (27 s today): the same instant gets labels 27 s apart from daemontools'
// programs and from s6's, and a label read in the wrong convention is shown
// 27 s off (22 s for a 1999 label).
type Convention uint8

const (
	// Daemontools is the convention of daemontools' multilog, tai64n and
	// tai64nlocal and of runit's svlogd: seconds label = 2^62 + 10 + Unix
	// seconds. It treats the system clock as TAI−10 and ignores leap seconds,
	// so converting back is plain subtraction and never shows a 60th second
	// (except through a right/ time zone, as the C library does). It is the
	// default everywhere in taikit.
	Daemontools Convention = iota

	// LeapAware is the convention of s6 and skalibs: the system clock is UTC
	// and labels are true TAI, 2^62 + 10 + Unix seconds + the leap seconds
	// inserted so far (27 since 2017, so today's offset is 37 s). A label
	// that falls on an inserted leap second converts back to 23:59:60.
	LeapAware
)

// String names the convention as the command-line tools do.
func (c Convention) String() string {
	if c == LeapAware {
		return "leap-aware"
	}
	return "daemontools"
}

// leapUnix holds, for each leap second inserted into UTC, the Unix time of
// the midnight that followed it (the instant after 23:59:60). IERS Bulletin C
// announces new ones six months ahead; none has been scheduled since 2017.
var leapUnix = [...]int64{
	78796800,   // 1972-07-01
	94694400,   // 1973-01-01
	126230400,  // 1974-01-01
	157766400,  // 1975-01-01
	189302400,  // 1976-01-01
	220924800,  // 1977-01-01
	252460800,  // 1978-01-01
	283996800,  // 1979-01-01
	315532800,  // 1980-01-01
	362793600,  // 1981-07-01
	394329600,  // 1982-07-01
	425865600,  // 1983-07-01
	489024000,  // 1985-07-01
	567993600,  // 1988-01-01
	631152000,  // 1990-01-01
	662688000,  // 1991-01-01
	709948800,  // 1992-07-01
	741484800,  // 1993-07-01
	773020800,  // 1994-07-01
	820454400,  // 1996-01-01
	867715200,  // 1997-07-01
	915148800,  // 1999-01-01
	1136073600, // 2006-01-01
	1230768000, // 2009-01-01
	1341100800, // 2012-07-01
	1435708800, // 2015-07-01
	1483228800, // 2017-01-01
}

// LeapSeconds returns the number of leap seconds inserted into UTC before
// Unix time unix, by the table compiled into taikit.
func LeapSeconds(unix int64) int {
	n := 0
	for n < len(leapUnix) && leapUnix[n] <= unix {
		n++
	}
	return n
}

// FromUnix returns the label of Unix time sec + nsec nanoseconds; nsec must
// be in [0, 1e9).
func FromUnix(sec int64, nsec uint32, c Convention) Label {
	s := uint64(sec) + Epoch + daemontoolsOffset
	if c == LeapAware {
		s += uint64(LeapSeconds(sec))
	}
	return Label{Sec: s, Nano: nsec}
}

// FromTime returns the label of t.
func FromTime(t time.Time, c Convention) Label {
	return FromUnix(t.Unix(), uint32(t.Nanosecond()), c)
}

// Unix returns the Unix time of l in convention c. For a leap-aware label on
// an inserted leap second, sec is the Unix time of the 23:59:59 before it and
// leap is true: the wall clock reads 23:59:60.
//
// Labels far from the present wrap around int64 as daemontools' time_t
// arithmetic does; the formatters detect the years that cannot be shown.
func (l Label) Unix(c Convention) (sec int64, leap bool) {
	t := int64(l.Sec - Epoch - daemontoolsOffset)
	if c != LeapAware {
		return t, false
	}
	// In label time the k-th leap second (0-based) sits at leapUnix[k]+k:
	// each earlier leap second has pushed it one further.
	k := 0
	for k < len(leapUnix) && leapUnix[k]+int64(k) <= t {
		k++
	}
	if k > 0 && leapUnix[k-1]+int64(k-1) == t {
		return t - int64(k), true
	}
	return t - int64(k), false
}

// Time returns l as a time.Time in UTC. time.Time has no 60th second, so a
// leap second reads as the 23:59:59 before it, with l's nanoseconds.
// Nanoseconds beyond 999999999 carry into the seconds.
func (l Label) Time(c Convention) time.Time {
	sec, _ := l.Unix(c)
	return time.Unix(sec, int64(l.Nano)).UTC()
}
