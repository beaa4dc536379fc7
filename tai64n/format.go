package tai64n

import (
	"encoding/binary"
	"slices"
)

// Layout selects the text a Formatter writes for an instant.
type Layout uint8

const (
	// LayoutTAI64NLocal is tai64nlocal(8)'s format, byte for byte:
	// "2006-01-02 15:04:05.000000000". The year is printed the way
	// daemontools prints it (plain decimal, no padding: "999-…", "10000-…");
	// the nanoseconds take at least nine digits, more when a malformed label
	// holds a larger value ("…05.4294967295").
	LayoutTAI64NLocal Layout = iota

	// LayoutRFC3339 is RFC 3339 with nanoseconds and the numeric offset in
	// force: "2006-01-02T15:04:05.000000000+01:00", or "…Z" when the
	// Formatter's zone is UTC. Offsets with seconds (local mean time before
	// 1900) keep them: "+00:53:28". Years outside 0000–9999 and nanoseconds
	// above 999999999 cannot be written and are reported as not formattable.
	LayoutRFC3339
)

// Zone is what a Formatter needs of a time zone: the offset at an instant
// and how long it holds. The C library's zones (package tzlocal's Zone)
// implement it, and Location adapts the standard library's.
type Zone interface {
	// Offsets describes local time at Unix time t (seconds, any value):
	// the wall clock reads t + offset − leap, where offset is seconds
	// east of UTC (what RFC 3339 writes) and leap the leap seconds a
	// right/ zone counts; hit > 0 means t is a leap second, shown as
	// second 59 + hit. offset and leap hold, with hit 0, on [start, end),
	// which contains t; when hit > 0 that window is [t, t+1). ok is false
	// where local time cannot be computed (the C library's localtime
	// fails): the Formatter then reports the label as not formattable.
	// A Formatter calls it once per window, so it should not allocate.
	Offsets(t int64) (offset, leap, hit, start, end int64, ok bool)
}

// Formatter writes labels as calendar time in one zone, convention and
// layout. It remembers the calendar fields of the last second it wrote and
// the zone rules around it, so consecutive lines stamped within the same
// second cost one copy and nine digits. A Formatter is not safe for
// concurrent use; make one per goroutine.
type Formatter struct {
	zone   Zone // nil: UTC without any zone data
	conv   Convention
	layout Layout

	// The zone's answer last looked up, valid on [start, end).
	offset, leap, hit int64
	start, end        int64
	haveRules         bool

	lastSec   uint64 // label seconds that prefix/suffix were computed for
	lastOK    bool
	haveLast  bool
	prefix    [48]byte // date and time up to the seconds
	prefixLen int
	suffix    [10]byte // RFC 3339 offset
	suffixLen int
}

// NewFormatter returns a Formatter for zone, reading labels in convention c
// and writing layout. A nil zone is UTC, which RFC 3339 writes as "Z"; a
// zone whose offset is 0 writes "+00:00". Pass nil itself for UTC, not a
// nil *tzlocal.Zone.
func NewFormatter(zone Zone, c Convention, layout Layout) *Formatter {
	return &Formatter{zone: zone, conv: c, layout: layout}
}

// Append appends l as calendar time to dst. It returns dst unchanged and
// false when l cannot be shown: where the C library's localtime would fail
// (the year does not fit a C int) or the layout has no way to write it.
func (f *Formatter) Append(dst []byte, l Label) ([]byte, bool) {
	if !f.haveLast || l.Sec != f.lastSec {
		f.prepare(l.Sec)
	}
	if !f.lastOK || (f.layout == LayoutRFC3339 && !l.Valid()) {
		return dst, false
	}
	if l.Nano >= 1e9 {
		dst = append(dst, f.prefix[:f.prefixLen]...)
		dst = append(dst, '.')
		dst = appendUint(dst, uint64(l.Nano))
		return append(dst, f.suffix[:f.suffixLen]...), true
	}
	// The common case writes into place: prefix, ".", nine digits, suffix.
	n := len(dst)
	size := f.prefixLen + 10 + f.suffixLen
	dst = slices.Grow(dst, size)[:n+size]
	d := dst[n:]
	copy(d, f.prefix[:f.prefixLen])
	d = d[f.prefixLen:]
	first := l.Nano / 1e8
	d[0], d[1] = '.', byte('0'+first)
	binary.LittleEndian.PutUint64(d[2:10], digits8(l.Nano-first*1e8))
	copy(d[10:], f.suffix[:f.suffixLen])
	return dst, true
}

// prepare computes the text before and after the nanoseconds for one
// seconds label.
func (f *Formatter) prepare(sec uint64) {
	f.haveLast, f.lastSec, f.lastOK = true, sec, false
	t, leap := Label{Sec: sec}.Unix(f.conv)
	var offset, correction, hit int64
	if f.zone != nil {
		if !f.haveRules || t < f.start || t >= f.end {
			var ok bool
			f.offset, f.leap, f.hit, f.start, f.end, ok = f.zone.Offsets(t)
			if !ok {
				f.haveRules = false
				return
			}
			f.haveRules = true
		}
		offset, correction, hit = f.offset, f.leap, f.hit
	}
	c, ok := civilFromUnix(t, offset-correction)
	if !ok {
		return
	}
	c.sec += int(hit)
	if leap {
		c.sec++ // the second after 23:59:59 that time.Time cannot name
	}

	p := f.prefix[:0]
	if f.layout == LayoutRFC3339 {
		if c.year < 0 || c.year > 9999 {
			return
		}
		p = append2(p, int(c.year/100))
		p = append2(p, int(c.year%100))
	} else {
		p = appendCYear(p, c.year)
	}
	p = append(p, '-')
	p = append2(p, c.month)
	p = append(p, '-')
	p = append2(p, c.day)
	if f.layout == LayoutRFC3339 {
		p = append(p, 'T')
	} else {
		p = append(p, ' ')
	}
	p = append2(p, c.hour)
	p = append(p, ':')
	p = append2(p, c.minute)
	p = append(p, ':')
	p = append2(p, c.sec)
	f.prefixLen = len(p)

	s := f.suffix[:0]
	if f.layout == LayoutRFC3339 {
		s = appendOffset(s, f.zone == nil, offset)
	}
	f.suffixLen = len(s)
	f.lastOK = true
}

// appendCYear writes a year as daemontools does: tm_year + 1900 computed in
// a C int (wrapping) and printed as an unsigned long, so a year before 1 AD
// prints as 2^64 minus its magnitude. Byte-identical output needs the same
// oddity; such stamps do not occur in real logs.
func appendCYear(dst []byte, year int64) []byte {
	tmYear := int32(year - 1900) // fits: civilFromUnix checked it
	y := int32(uint32(tmYear) + 1900)
	return appendUint(dst, uint64(int64(y)))
}

// appendOffset writes an RFC 3339 zone offset.
func appendOffset(dst []byte, utc bool, offset int64) []byte {
	if utc {
		return append(dst, 'Z')
	}
	sign := byte('+')
	if offset < 0 {
		sign, offset = '-', -offset
	}
	dst = append(dst, sign)
	dst = append2(dst, int(offset/3600))
	dst = append(dst, ':')
	dst = append2(dst, int(offset/60%60))
	if s := int(offset % 60); s != 0 {
		dst = append(dst, ':')
		dst = append2(dst, s)
	}
	return dst
}

// digitPairs holds "00".."99" so that two digits cost one lookup.
const digitPairs = "00010203040506070809101112131415161718192021222324252627282930313233343536373839" +
	"404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899"

// append2 appends v (0–99) as two digits.
func append2(dst []byte, v int) []byte {
	return append(dst, digitPairs[2*v], digitPairs[2*v+1])
}

// appendNanos appends a nanosecond field as at least nine digits.
func appendNanos(dst []byte, n uint32) []byte {
	if n >= 1e9 {
		return appendUint(dst, uint64(n))
	}
	first := n / 1e8
	var b [9]byte
	b[0] = byte('0' + first)
	binary.LittleEndian.PutUint64(b[1:], digits8(n-first*1e8))
	return append(dst, b[:]...)
}

// digits8 returns the eight decimal digits of v < 1e8 as ASCII bytes in a
// word, the first digit in the lowest byte. It splits the number into
// halves in 32-bit lanes, then quarters in 16-bit lanes, then digits in
// bytes, dividing all lanes at once by multiplying by a reciprocal; the
// products stay below each lane's width, so nothing carries across lanes.
func digits8(v uint32) uint64 {
	x := uint64(v/10000) | uint64(v%10000)<<32
	q := (x * 10486 >> 20) & 0x0000007f0000007f // lane / 100, exact below 43699
	x = q | (x-q*100)<<16
	t := (x * 103 >> 10) & 0x000f000f000f000f // lane / 10, exact below 179
	x = t | (x-t*10)<<8
	return x + 0x3030303030303030
}

// appendUint appends v in decimal without padding.
func appendUint(dst []byte, v uint64) []byte {
	var b [20]byte
	i := len(b)
	for v >= 10 {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
	}
	i--
	b[i] = byte('0' + v)
	return append(dst, b[i:]...)
}
