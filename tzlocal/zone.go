package tzlocal

// A time-zone engine that answers exactly what glibc 2.36's localtime()
// answers. daemontools' tai64nlocal formats with localtime(), so $TZ must
// mean what glibc makes of it: TZif files including leap-second ("right/")
// zones, POSIX TZ strings with all of glibc's leniency, the posixrules
// fallback, and the year range of struct tm. Go's time package differs on
// all of these. The reference is glibc's time/tzset.c, time/tzfile.c and
// time/offtime.c; the comments explain where we follow a glibc oddity on
// purpose.

import (
	"errors"
	"io"
	"io/fs"
	"math"
	"os"
	"strings"
	"syscall"
	"time"
)

// Info describes the local-time rules in force at one instant.
type Info struct {
	// Offset is seconds east of UTC (glibc's tm_gmtoff). The local wall
	// clock is t + Offset - LeapCorrection.
	Offset int64
	// LeapCorrection is the leap-second correction from a TZif file with
	// leap records (right/ zones), else 0.
	LeapCorrection int64
	// LeapHit is >0 when t is exactly a leap-second instant: glibc adds it
	// to tm_sec (so 59 becomes 60).
	LeapHit int64
	// IsDST is glibc's tm_isdst.
	IsDST bool
	// Abbrev is the zone abbreviation (tm_zone). It points into strings
	// stored in the Zone, so Lookup does not allocate.
	Abbrev string
	// Start and End bound a window [Start, End) containing t in which
	// Offset, LeapCorrection, IsDST and Abbrev stay the same, LeapHit is 0
	// except possibly at t, and Lookup keeps succeeding, so callers may
	// cache on it. If LeapHit > 0 the window is exactly [t, t+1).
	Start, End int64
}

// Zone resolves local time the way glibc resolves $TZ. A Zone is immutable
// and safe for concurrent use.
type Zone struct {
	name string
	// Exactly one of posix and file is set, as glibc either uses a TZif
	// file (__use_tzfile) or the parsed TZ rules alone.
	posix *tzPosix
	file  *tzFile
}

// Source says where zone data comes from. The zero value reads no files (TZ
// is then a POSIX string or UTC); see SystemSource.
type Source struct {
	// ReadFile reads a file (absolute path). A nil ReadFile reads nothing.
	ReadFile func(name string) ([]byte, error)
	// Dir is TZDIR, the directory of zone files; "" means
	// "/usr/share/zoneinfo".
	Dir string
	// Default is the file used when TZ is unset; "" means "/etc/localtime".
	Default string
}

const (
	tzDefaultDir   = "/usr/share/zoneinfo"
	tzDefaultLocal = "/etc/localtime"
	// tzDefaultRules is glibc's TZDEFRULES, relative to the zone directory.
	tzDefaultRules = "posixrules"
)

// glibc's localtime fails when the year does not fit struct tm's int
// tm_year (year - 1900). These bound the Unix times (UTC, or local time for
// the final conversion) it accepts: [tzFitLo, tzFitHi).
var (
	tzFitLo = tzDaysFromCivil(1900+math.MinInt32, 1, 1) * 86400
	tzFitHi = tzDaysFromCivil(1900+math.MaxInt32+1, 1, 1) * 86400
)

// SystemSource reads the real file system, honouring $TZDIR as glibc
// does (an empty TZDIR counts as unset). It never blocks and reads a bounded
// amount: a file that is not a regular file (a FIFO, a device, a directory)
// or is larger than 4 MiB is refused unread, like a damaged zone file.
func SystemSource() Source {
	dir := os.Getenv("TZDIR")
	if dir == "" {
		dir = tzDefaultDir
	}
	return Source{ReadFile: tzReadFile, Dir: dir, Default: tzDefaultLocal}
}

// tzMaxFile bounds what we read of a zone file: above the largest real one
// (under 4 KiB) by three orders of magnitude. glibc has no bound (it reads a
// TZif file of any size whole); a file above ours we refuse as glibc refuses
// a damaged one.
const tzMaxFile = 4 << 20

// tzReadFile reads a zone file, refusing what cannot be one before reading
// it: TZ may name any file. glibc's fopen blocks for ever on a FIFO nobody
// writes to, so we open without blocking and refuse every file that is not
// regular (glibc rejects directories and devices such as /dev/zero too,
// having read their first bytes); and a regular file larger than
// tzMaxFile is refused unread.
func tzReadFile(name string) ([]byte, error) {
	f, err := os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, &fs.PathError{Op: "read", Path: name, Err: errors.New("not a regular file")}
	}
	if st.Size() > tzMaxFile {
		return nil, &fs.PathError{Op: "read", Path: name, Err: errors.New("too large for a zone file")}
	}
	// The file may grow meanwhile: read one byte more than the bound.
	b, err := io.ReadAll(io.LimitReader(f, tzMaxFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > tzMaxFile {
		return nil, &fs.PathError{Op: "read", Path: name, Err: errors.New("too large for a zone file")}
	}
	return b, nil
}

// Load resolves tz as glibc's tzset does; set reports whether TZ is set
// at all (unset means the Default file). It never fails: like glibc it falls
// back to UTC.
func Load(tz string, set bool, src Source) *Zone {
	z := &Zone{name: tz}
	// The environment holds C strings.
	if i := strings.IndexByte(tz, 0); i >= 0 {
		tz = tz[:i]
	}
	l := tzLoader{read: src.ReadFile, dir: src.Dir, def: src.Default}
	if l.dir == "" {
		l.dir = tzDefaultDir
	}
	if l.def == "" {
		l.def = tzDefaultLocal
	}
	if !set {
		tz = l.def
	} else {
		if tz == "" {
			tz = "Universal"
		}
		// A leading colon means "implementation defined"; glibc just
		// drops it and tries a file first, then the POSIX syntax.
		if tz[0] == ':' {
			tz = tz[1:]
		}
	}
	if tz != "" {
		if d := l.load(tz); d != nil {
			z.file = l.build(d)
			return z
		}
	}
	if tz == "" || tz == l.def {
		z.posix = tzUTC()
		return z
	}
	p, usedDefault := tzParsePOSIX(tz, func(p *tzPosix) bool {
		d := l.load(tzDefaultRules)
		if d == nil || len(d.types) < 2 {
			return false
		}
		d.applyDefault(p.rule[0].name, p.rule[1].name, p.rule[0].offset, p.rule[1].offset)
		z.file = l.build(d)
		return true
	})
	if !usedDefault {
		p.finish()
		z.posix = &p
	}
	return z
}

// Local is Load with $TZ from the environment and SystemSource().
func Local() *Zone {
	tz, set := os.LookupEnv("TZ")
	return Load(tz, set, SystemSource())
}

var tzUTCZone = &Zone{name: "UTC", posix: tzUTC()}

// UTC returns the zone for plain UTC (no file access).
func UTC() *Zone { return tzUTCZone }

// tzUTC is glibc's fallback when no file can be read and TZ is empty or
// unset: both rules named "UTC" with offset 0.
func tzUTC() *tzPosix {
	p := &tzPosix{rule: [2]tzRule{{name: "UTC"}, {name: "UTC"}}}
	p.finish()
	return p
}

// Name returns the TZ value the zone was loaded from (for messages and
// tests); "" when TZ was unset.
func (z *Zone) Name() string { return z.name }

type tzLoader struct {
	read     func(string) ([]byte, error)
	dir, def string
}

// load is the file part of __tzfile_read: relative names are looked up in
// the zone directory, and anything unreadable or rejected yields nil.
func (l *tzLoader) load(name string) *tzifData {
	if l.read == nil || name == "" {
		return nil
	}
	if name[0] != '/' {
		name = l.dir + "/" + name
	}
	b, err := l.read(name)
	if err != nil {
		return nil
	}
	return tzifParse(b)
}

type tzType struct {
	offset int64
	isDST  bool
	abbrev string
}

type tzLeaps struct {
	at, corr []int64
	sorted   bool // non-decreasing, so a binary search finds glibc's record
}

type tzFile struct {
	types []tzType
	first int // glibc's type before the first transition
	trans []int64
	idx   []uint8
	// For sorted transitions, seg* is the same step function with equal
	// neighbours merged, so that windows span as far as the info holds.
	// segStart[0] is MinInt64; segment k ends at segStart[k+1] or segEnd.
	sorted   bool
	segStart []int64
	segType  []int32
	segEnd   int64
	// footer applies from footerFrom on; glibc uses it for t at or after
	// the last transition (and not before the first one).
	footer      *tzPosix
	footerFrom  int64
	footerLeaps *tzLeaps
	leaps       tzLeaps
}

func tzNonDecreasing(a []int64) bool {
	for i := 1; i < len(a); i++ {
		if a[i] < a[i-1] {
			return false
		}
	}
	return true
}

func (l *tzLoader) build(d *tzifData) *tzFile {
	f := &tzFile{trans: d.trans, idx: d.idx}
	f.types = make([]tzType, len(d.types))
	for i, t := range d.types {
		f.types[i] = tzType{offset: int64(t.offset), isDST: t.isDST, abbrev: d.abbrev(i)}
	}
	// Before the first transition glibc takes the first standard-time
	// type, or type 0 if all are DST.
	for i, t := range d.types {
		if !t.isDST {
			f.first = i
			break
		}
	}
	if len(f.types) == 0 {
		// Only possible without transitions. glibc then reads past its
		// empty type array and, as observed, reports UTC with an empty
		// abbreviation.
		f.types = []tzType{{}}
	}
	f.leaps = tzLeaps{at: d.leapAt, corr: d.leapCorr, sorted: tzNonDecreasing(d.leapAt)}
	n := len(d.trans)
	if d.spec != "" && n > 0 {
		p, _ := tzParsePOSIX(d.spec, func(*tzPosix) bool {
			// A footer naming DST without rules makes glibc load
			// posixrules in the middle of localtime; what survives of
			// that call is the footer's names and offsets with zeroed
			// rules, and the posixrules file's leap seconds.
			r := l.load(tzDefaultRules)
			if r == nil || len(r.types) < 2 {
				return false
			}
			f.footerLeaps = &tzLeaps{at: r.leapAt, corr: r.leapCorr, sorted: tzNonDecreasing(r.leapAt)}
			return true
		})
		p.year0Zeroed = true
		p.finish()
		f.footer = &p
		f.footerFrom = max(d.trans[0], d.trans[n-1])
		if f.footerLeaps == nil {
			f.footerLeaps = &f.leaps
		}
	}
	f.sorted = tzNonDecreasing(d.trans)
	if f.sorted {
		f.buildSegments()
	}
	return f
}

func (f *tzFile) buildSegments() {
	n := len(f.trans)
	f.segEnd = math.MaxInt64
	last := n
	if f.footer != nil {
		f.segEnd = f.trans[n-1]
		last = n - 1
	}
	starts := []int64{math.MinInt64}
	types := []int32{int32(f.first)}
	for i := 0; i < last; i++ {
		s := f.trans[i]
		if s >= f.segEnd {
			break
		}
		if k := len(starts) - 1; starts[k] == s {
			// An empty segment: the later transition wins, as in glibc.
			types[k] = int32(f.idx[i])
			continue
		}
		starts = append(starts, s)
		types = append(types, int32(f.idx[i]))
	}
	for k := range starts {
		if k > 0 && f.types[types[k]] == f.types[f.segType[len(f.segType)-1]] {
			continue
		}
		f.segStart = append(f.segStart, starts[k])
		f.segType = append(f.segType, types[k])
	}
}

// tzGlibcSearch is __tzfile_compute's transition search, step for step, for
// trans[0] <= timer < trans[n-1]. It returns i with the answer at i-1. Only
// unsorted (crafted) files need this; for sorted ones any correct search
// agrees with it.
func tzGlibcSearch(trans []int64, timer int64) int {
	n := len(trans)
	lo, hi := 0, n-1
	// Guess assuming two changes a year: (last - timer) / half a year.
	if g := uint64((trans[n-1] - timer) / 15778476); g < uint64(n) {
		i := n - 1 - int(g)
		if timer < trans[i] {
			if i < 10 || timer >= trans[i-10] {
				for i > 1 && timer < trans[i-1] {
					i--
				}
				return i
			}
			hi = i - 10
		} else {
			if i+10 >= n || timer < trans[i+10] {
				for i < n-1 && timer >= trans[i] {
					i++
				}
				return i
			}
			lo = i + 10
		}
	}
	for lo+1 < hi {
		i := (lo + hi) / 2
		if timer < trans[i] {
			hi = i
		} else {
			lo = i
		}
	}
	return max(hi, 1)
}

// Lookup returns the rules in force at Unix time t (seconds, any value).
// ok is false where glibc's localtime fails (the UTC or local year does not
// fit a C int tm_year); info is then the zero value.
func (z *Zone) Lookup(t int64) (info Info, ok bool) {
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	if z.posix != nil {
		// glibc converts to UTC first to learn the year, and fails
		// when even that does not fit.
		if t < tzFitLo || t >= tzFitHi {
			return Info{}, false
		}
		r, dst, wlo, whi := z.posix.eval(t)
		info.Offset, info.IsDST, info.Abbrev = int64(r.offset), dst, r.name
		lo, hi = max(wlo, tzFitLo), min(whi, tzFitHi)
	} else {
		z.file.lookup(t, &info, &lo, &hi)
	}
	o := info.Offset - info.LeapCorrection
	if t < tzFitLo-o || t >= tzFitHi-o {
		return Info{}, false
	}
	info.Start, info.End = max(lo, tzFitLo-o), min(hi, tzFitHi-o)
	return info, true
}

// Offsets is Lookup in plain numbers, the form tai64n.Formatter takes
// (tai64n.Zone): Offset, LeapCorrection, LeapHit, Start and End.
func (z *Zone) Offsets(t int64) (offset, leap, hit, start, end int64, ok bool) {
	info, ok := z.Lookup(t)
	return info.Offset, info.LeapCorrection, info.LeapHit, info.Start, info.End, ok
}

// lookup is __tzfile_compute: it fills info and narrows [lo, hi) to where
// info holds.
func (f *tzFile) lookup(t int64, info *Info, lo, hi *int64) {
	leaps := &f.leaps
	var typ *tzType
	n := len(f.trans)
	switch {
	case f.footer != nil && t >= f.footerFrom:
		*lo = f.footerFrom
		if t >= tzFitLo && t < tzFitHi {
			r, dst, wlo, whi := f.footer.eval(t)
			info.Offset, info.IsDST, info.Abbrev = int64(r.offset), dst, r.name
			*lo, *hi = max(*lo, wlo, tzFitLo), min(whi, tzFitHi)
			leaps = f.footerLeaps
			break
		}
		// glibc ignores the footer when the UTC year overflows.
		typ = &f.types[f.idx[n-1]]
		if t < tzFitLo {
			*hi = tzFitLo
		} else {
			*lo = max(*lo, tzFitHi)
		}
	case f.sorted:
		s := f.segStart
		a, b := 0, len(s)
		for b-a > 1 {
			m := int(uint(a+b) >> 1)
			if s[m] <= t {
				a = m
			} else {
				b = m
			}
		}
		typ = &f.types[f.segType[a]]
		*lo, *hi = s[a], f.segEnd
		if a+1 < len(s) {
			*hi = s[a+1]
		}
	case n == 0 || t < f.trans[0]:
		typ = &f.types[f.first]
		if n > 0 {
			*hi = f.trans[0]
		}
	case t >= f.trans[n-1]:
		typ = &f.types[f.idx[n-1]]
		*lo = f.trans[n-1]
	default:
		typ = &f.types[f.idx[tzGlibcSearch(f.trans, t)-1]]
		*lo, *hi = t, t+1
	}
	if typ != nil {
		info.Offset, info.IsDST, info.Abbrev = typ.offset, typ.isDST, typ.abbrev
	}
	leaps.apply(t, info, lo, hi)
}

// apply is the "leap:" part of __tzfile_compute.
func (l *tzLeaps) apply(t int64, info *Info, lo, hi *int64) {
	at := l.at
	if len(at) == 0 {
		return
	}
	// The last record at or before t, as glibc's backward scan finds it.
	i := -1
	if l.sorted {
		a, b := 0, len(at)
		for a < b {
			m := int(uint(a+b) >> 1)
			if at[m] <= t {
				a = m + 1
			} else {
				b = m
			}
		}
		i = a - 1
	} else {
		for i = len(at) - 1; i >= 0 && t < at[i]; i-- {
		}
		*lo, *hi = t, t+1
	}
	if i < 0 {
		*hi = min(*hi, at[0])
		return
	}
	info.LeapCorrection = l.corr[i]
	prev := int64(0)
	if i > 0 {
		prev = l.corr[i-1]
	}
	// A positive leap second is "hit" at its own instant; consecutive
	// ones add up.
	isHit := l.corr[i] > prev
	if t == at[i] && isHit {
		hit := int64(1)
		for j := i; j > 0 && at[j] == at[j-1]+1 && l.corr[j] == l.corr[j-1]+1; j-- {
			hit++
		}
		info.LeapHit = hit
		*lo, *hi = t, t+1
		return
	}
	if l.sorted {
		start := at[i]
		if isHit {
			start++
		}
		*lo = max(*lo, start)
		if i+1 < len(at) {
			*hi = min(*hi, at[i+1])
		}
	}
}

func tzFloorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// tzDaysFromCivil returns the day number (0 = 1970-01-01) of a proleptic
// Gregorian date; valid far beyond the years glibc can represent.
func tzDaysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := tzFloorDiv(y, 400)
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// tzYearOfDays is the proleptic Gregorian year of day number z.
func tzYearOfDays(z int64) int64 {
	y, _, _ := tzCivilOfDays(z)
	return y
}

// tzCivilOfDays is the proleptic Gregorian date of day number z (0 =
// 1970-01-01), its year in 64 bits: time.Time's Date gives an int, which
// on a 32-bit processor does not hold every year a C int's tm_year does.
func tzCivilOfDays(z int64) (year int64, month time.Month, day int) {
	z += 719468
	era := tzFloorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153 // March = 0
	day = int(doy - (153*mp+2)/5 + 1)
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	year = yoe + era*400
	if m <= 2 {
		year++
	}
	return year, time.Month(m), day
}
