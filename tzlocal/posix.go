package tzlocal

// POSIX TZ strings ("CET-1CEST,M3.5.0,M10.5.0/3") as glibc 2.36's
// time/tzset.c reads them. glibc's parser is forgiving in odd ways: it keeps
// whatever a failed parse step already stored, reads numbers with sscanf
// ("%hu" skips blanks, takes a sign and truncates to 16 bits), and leaves
// rules it never parsed zeroed. Every such quirk changes which offset a
// malformed TZ yields, so this file follows that state machine step by step
// instead of validating the grammar.

import "math"

// Rule kinds, numbered as glibc's enum { J0, J1, M } so that a rule glibc
// never parsed (left zeroed by memset) is a J0 rule for day 0 at 00:00.
const (
	tzRuleJ0 uint8 = iota
	tzRuleJ1
	tzRuleM
)

// tzRule is one half of glibc's tz_rules[2]: index 0 is standard time and
// carries the rule for the change *to* DST, index 1 is DST and carries the
// rule for the change back.
type tzRule struct {
	name    string
	offset  int32 // seconds east of UTC
	kind    uint8
	m, n, d uint16
	secs    int32 // time of day of the change, local time of the other rule
	// parsed is true when parse_rule succeeded, which sets computed_for to
	// -1; otherwise computed_for is still 0 from memset, which makes glibc
	// skip the computation for year 0 and use the zeroed change time.
	parsed bool
}

// tzYearChanges holds both change instants of one (UTC) year plus the year's
// bounds, which are the natural edges of a lookup window.
type tzYearChanges struct {
	start, end       int64 // [start, end): the UTC year
	change0, change1 int64 // DST starts at change0, ends at change1
}

// tzCacheFirst..tzCacheFirst+tzCacheYears-1 are precomputed: every Lookup
// in the years anyone logs in is then a table read, and Lookup stays free of
// locks and allocation because the table is immutable after loading.
const (
	tzCacheFirst = 1900
	tzCacheYears = 400
)

// tzPosix is a parsed TZ string, either from $TZ or from a TZif footer.
type tzPosix struct {
	rule [2]tzRule
	// year0Zeroed applies glibc's memset quirk for year 0 (see
	// tzRule.parsed). glibc re-parses a TZif footer on every call, so there
	// the quirk is permanent; for $TZ it parses once and the per-rule cache
	// soon holds a real year, so we leave it off (the very first call of a
	// process in year 0 is the only divergence).
	year0Zeroed bool
	// static means both rules are identical, so the changes coincide every
	// year and glibc never reports DST: one window covers all time.
	static bool
	cache  []tzYearChanges
}

func tzIsDigit(c byte) bool { return '0' <= c && c <= '9' }

func tzIsAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// tzIsSpace is isspace() in the C locale, which scanf uses to skip blanks.
func tzIsSpace(c byte) bool { return c == ' ' || '\t' <= c && c <= '\r' }

// tzAt reads s like a C string: past the end there is a NUL.
func tzAt(s string, i int) byte {
	if i < len(s) {
		return s[i]
	}
	return 0
}

// tzScanHU emulates one sscanf "%hu" conversion starting at s[i]: skip
// blanks, optional sign, at least one digit, strtoul semantics (saturating at
// ULONG_MAX, negating for '-'), then truncation to unsigned short.
func tzScanHU(s string, i int) (v uint16, next int, ok bool) {
	j := i
	for tzIsSpace(tzAt(s, j)) {
		j++
	}
	neg := false
	if c := tzAt(s, j); c == '+' || c == '-' {
		neg = c == '-'
		j++
	}
	if !tzIsDigit(tzAt(s, j)) {
		return 0, i, false
	}
	var x uint64
	over := false
	for tzIsDigit(tzAt(s, j)) {
		d := uint64(tzAt(s, j) - '0')
		if !over && x > (math.MaxUint64-d)/10 {
			over = true
		}
		x = x*10 + d
		j++
	}
	switch {
	case over:
		x = math.MaxUint64
	case neg:
		x = -x
	}
	return uint16(x), j, true
}

// tzScanHMS emulates sscanf(s+i, "%hu%n:%hu%n:%hu%n", ...): it stores each
// field as soon as it converts, updates *consumed after each one, and returns
// how many fields converted.
func tzScanHMS(s string, i int, hh, mm, ss *uint16, consumed *int) int {
	v, j, ok := tzScanHU(s, i)
	if !ok {
		return 0
	}
	*hh, *consumed = v, j-i
	if tzAt(s, j) != ':' {
		return 1
	}
	if v, j, ok = tzScanHU(s, j+1); !ok {
		return 1
	}
	*mm, *consumed = v, j-i
	if tzAt(s, j) != ':' {
		return 2
	}
	if v, j, ok = tzScanHU(s, j+1); !ok {
		return 2
	}
	*ss, *consumed = v, j-i
	return 3
}

// tzPosixParser walks a TZ string with glibc's __tzset_parse_tz.
type tzPosixParser struct {
	s string
	i int
	r [2]tzRule
}

func (p *tzPosixParser) name(which int) bool {
	s, start := p.s, p.i
	j := start
	for tzIsAlpha(tzAt(s, j)) {
		j++
	}
	if j-start < 3 {
		// Only the quoted form may follow a short unquoted name.
		j = p.i
		if tzAt(s, j) != '<' {
			return false
		}
		j++
		start = j
		for c := tzAt(s, j); tzIsAlpha(c) || tzIsDigit(c) || c == '+' || c == '-'; c = tzAt(s, j) {
			j++
		}
		n := j - start
		if tzAt(s, j) != '>' || n < 3 {
			return false
		}
		p.r[which].name = s[start : start+n]
		p.i = j + 1
		return true
	}
	p.r[which].name = s[start:j]
	p.i = j
	return true
}

func (p *tzPosixParser) offset(which int) bool {
	s, i := p.s, p.i
	c := tzAt(s, i)
	if which == 0 && (c == 0 || c != '+' && c != '-' && !tzIsDigit(c)) {
		return false
	}
	// POSIX offsets count west; glibc stores seconds east.
	sign := int32(-1)
	if c == '+' || c == '-' {
		if c == '-' {
			sign = 1
		}
		i++
	}
	p.i = i
	var hh, mm, ss uint16
	consumed := 0
	if tzScanHMS(s, i, &hh, &mm, &ss, &consumed) > 0 {
		// glibc clamps each field rather than rejecting it.
		h, m, sec := int32(hh), int32(mm), int32(ss)
		h, m, sec = min(h, 24), min(m, 59), min(sec, 59)
		p.r[which].offset = sign * (sec + m*60 + h*3600)
	} else if which == 0 {
		p.r[0].offset = 0
		return false
	} else {
		p.r[1].offset = p.r[0].offset + 3600
	}
	p.i = i + consumed
	return true
}

// rule mirrors parse_rule, including the fields it leaves behind when it
// fails halfway: glibc still uses such a rule afterwards.
func (p *tzPosixParser) rule(which int) bool {
	s, i := p.s, p.i
	r := &p.r[which]
	if tzAt(s, i) == ',' {
		i++
	}
	switch c := tzAt(s, i); {
	case c == 'J' || tzIsDigit(c):
		r.kind = tzRuleJ0
		if c == 'J' {
			r.kind = tzRuleJ1
			i++
			if !tzIsDigit(tzAt(s, i)) {
				return false
			}
		}
		var d uint64
		j := i
		for tzIsDigit(tzAt(s, j)) {
			if d <= 365 {
				d = d*10 + uint64(tzAt(s, j)-'0')
			}
			j++
		}
		if d > 365 || r.kind == tzRuleJ1 && d == 0 {
			return false
		}
		r.d = uint16(d)
		i = j
	case c == 'M':
		r.kind = tzRuleM
		v, j, ok := tzScanHU(s, i+1)
		if ok {
			r.m = v
			if tzAt(s, j) == '.' {
				if v, j, ok = tzScanHU(s, j+1); ok {
					r.n = v
					if tzAt(s, j) == '.' {
						if v, j, ok = tzScanHU(s, j+1); ok {
							r.d = v
							i = j
						}
					} else {
						ok = false
					}
				}
			} else {
				ok = false
			}
		}
		if !ok || r.m < 1 || r.m > 12 || r.n < 1 || r.n > 5 || r.d > 6 {
			return false
		}
	case c == 0:
		// No rule given: glibc falls back to the current US rules.
		r.kind = tzRuleM
		if which == 0 {
			r.m, r.n, r.d = 3, 2, 0
		} else {
			r.m, r.n, r.d = 11, 1, 0
		}
	default:
		return false
	}
	switch tzAt(s, i) {
	case 0, ',':
		r.secs = 2 * 3600
	case '/':
		i++
		if tzAt(s, i) == 0 {
			return false
		}
		neg := tzAt(s, i) == '-'
		if neg {
			i++
		}
		hh, mm, ss := uint16(2), uint16(0), uint16(0)
		consumed := 0
		tzScanHMS(s, i, &hh, &mm, &ss, &consumed)
		i += consumed
		secs := int32(hh)*3600 + int32(mm)*60 + int32(ss)
		if neg {
			secs = -secs
		}
		r.secs = secs
	default:
		return false
	}
	r.parsed = true
	p.i = i
	return true
}

// tzParsePOSIX runs __tzset_parse_tz on s. When s names a DST zone without
// rules, glibc asks __tzfile_default for the posixrules file: tryDefault is
// called with the names and offsets, and if it reports success parsing stops
// there (usedDefault) with the rules still zeroed, as in glibc.
func tzParsePOSIX(s string, tryDefault func(p *tzPosix) bool) (p tzPosix, usedDefault bool) {
	ps := tzPosixParser{s: s}
	if ps.name(0) && ps.offset(0) {
		if tzAt(s, ps.i) != 0 {
			if ps.name(1) {
				ps.offset(1)
				if c := tzAt(s, ps.i); c == 0 || c == ',' && tzAt(s, ps.i+1) == 0 {
					p.rule = ps.r
					if tryDefault != nil && tryDefault(&p) {
						return p, true
					}
				}
			}
			if ps.rule(0) {
				ps.rule(1)
			}
		} else {
			ps.r[1].name = ps.r[0].name
			ps.r[1].offset = ps.r[0].offset
		}
	}
	p = tzPosix{rule: ps.r}
	return p, false
}

// tzMonYday is glibc's __mon_yday[leap][k] read as the flat array it is in
// memory. A failed "Mm.n.d" parse (EST5EDT,M99.99.99) does not make glibc
// drop the rule: it keeps m, anything up to 65535, and compute_change reads
// that far past the table, into whatever libc.so.6 has there. The word just
// before the table is 0 in Debian's build. Past its end we answer 65535, the
// largest an unsigned short can hold: the change then falls years after the
// other rule's, and glibc agrees wherever its memory holds 3600 or more,
// which in Debian's 2.36 build is every m from 13 to 2152 and a third of
// the larger ones (TestZoneMonYdayMemory).
func tzMonYday(leap bool, k int) int32 {
	table := [26]int32{
		0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365,
		0, 31, 60, 91, 121, 152, 182, 213, 244, 274, 305, 335, 366,
	}
	if leap {
		k += 13
	}
	switch {
	case k < 0:
		return 0
	case k >= len(table):
		return tzMonYdayBeyond
	}
	return table[k]
}

// tzMonYdayBeyond is what tzMonYday answers past the table's end.
const tzMonYdayBeyond = math.MaxUint16

func tzIsLeap32(y int32) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

// change is compute_change: the instant the rule fires in year, where year
// is glibc's C int (1900 + tm_year, so it wraps for the largest years).
// The arithmetic deliberately keeps glibc's int32 day count, which
// overflows from about year 5.9 million, and its "year <= 1970 counts from
// 1970" shortcut, because both shape what localtime returns.
func (r *tzRule) change(year int32, year0Zeroed bool) int64 {
	if year0Zeroed && !r.parsed && year == 0 {
		return 0
	}
	var t int64
	if year > 1970 {
		y1 := year - 1
		days := (year-1970)*365 + (y1/4 - 1970/4) - (y1/100 - 1970/100) + (y1/400 - 1970/400)
		t = int64(days) * 86400
	}
	switch r.kind {
	case tzRuleJ1:
		t += int64(int32(r.d)-1) * 86400
		if r.d >= 60 && tzIsLeap32(year) {
			t += 86400
		}
	case tzRuleJ0:
		t += int64(r.d) * 86400
	default:
		leap := tzIsLeap32(year)
		before := tzMonYday(leap, int(r.m)-1)
		through := tzMonYday(leap, int(r.m))
		t += int64(before) * 86400
		// Zeller's congruence for the weekday of the month's first day,
		// with C's truncating division exactly as glibc writes it.
		m1 := (int32(r.m)+9)%12 + 1
		yy0 := year
		if r.m <= 2 {
			yy0 = year - 1
		}
		yy1, yy2 := yy0/100, yy0%100
		dow := ((26*m1-2)/10 + 1 + yy2 + yy2/4 + yy1/4 - 2*yy1) % 7
		if dow < 0 {
			dow += 7
		}
		d := int32(r.d) - dow
		if d < 0 {
			d += 7
		}
		for i := 1; i < int(r.n); i++ {
			if d+7 >= through-before {
				break
			}
			d += 7
		}
		t += int64(d) * 86400
	}
	return t - int64(r.offset) + int64(r.secs)
}

// tzYearOfTime is the proleptic Gregorian UTC year of Unix time t.
func tzYearOfTime(t int64) int64 {
	return tzYearOfDays(tzFloorDiv(t, 86400))
}

func (p *tzPosix) computeYear(y int64) tzYearChanges {
	// glibc passes 1900 + tm_year as a C int.
	y32 := int32(y)
	return tzYearChanges{
		start:   tzDaysFromCivil(y, 1, 1) * 86400,
		end:     tzDaysFromCivil(y+1, 1, 1) * 86400,
		change0: p.rule[0].change(y32, p.year0Zeroed),
		change1: p.rule[1].change(y32, p.year0Zeroed),
	}
}

// finish decides whether the zone is static and fills the per-year cache.
func (p *tzPosix) finish() {
	a, b := p.rule[0], p.rule[1]
	p.static = a.kind == b.kind && a.m == b.m && a.n == b.n && a.d == b.d &&
		a.secs == b.secs && a.offset == b.offset && a.parsed == b.parsed
	if p.static {
		return
	}
	p.cache = make([]tzYearChanges, tzCacheYears)
	for i := range p.cache {
		p.cache[i] = p.computeYear(tzCacheFirst + int64(i))
	}
}

// eval is __tz_compute for a t whose UTC year fits glibc's struct tm. It
// returns which rule applies and the widest window around t within t's UTC
// year in which that stays so.
func (p *tzPosix) eval(t int64) (r *tzRule, dst bool, lo, hi int64) {
	if p.static {
		return &p.rule[0], false, math.MinInt64, math.MaxInt64
	}
	y := tzYearOfTime(t)
	var c tzYearChanges
	if k := y - tzCacheFirst; k >= 0 && k < int64(len(p.cache)) {
		c = p.cache[k]
	} else {
		c = p.computeYear(y)
	}
	c0, c1 := c.change0, c.change1
	// Southern-hemisphere rules have DST across the new year.
	if c0 > c1 {
		dst = t < c1 || t >= c0
	} else {
		dst = t >= c0 && t < c1
	}
	lo, hi = c.start, c.end
	for _, ch := range [2]int64{c0, c1} {
		if ch <= t {
			lo = max(lo, ch)
		} else {
			hi = min(hi, ch)
		}
	}
	if dst {
		return &p.rule[1], true, lo, hi
	}
	return &p.rule[0], false, lo, hi
}
