package logcat

import (
	"errors"
	"fmt"
	"time"

	"github.com/taikit/taikit/tai64n"
	"github.com/taikit/taikit/tzlocal"
)

// TimeForms lists the forms ParseTime accepts, for messages and help.
const TimeForms = "@4000… (a TAI64N stamp), 2026-11-21, 2026-11-21 10:00[:05[.123456789]] " +
	"(or with T), 10:00[:05[.1]] (today), any of these with Z or +01:00 after the time, " +
	"now, or -90s, -30m, -1h, -2d, -1h30m (ago)"

// TimeContext is what a time argument is read against: the present (for
// "10:00", which means today, and for "-1h") and the zone of times given
// without Z or an offset.
type TimeContext struct {
	Now        time.Time
	Zone       *tzlocal.Zone // nil means UTC
	Convention tai64n.Convention
}

// ParseTime turns a --since or --until argument into the label of that
// instant, in the convention of the labels it will be compared with.
//
// Local times are resolved with the zone as the C library would show the
// result: a time that occurs twice (when clocks go back) means the first
// occurrence, and one that does not exist (skipped when clocks go forward)
// is read with the offset in force before the change, so it lands after
// the gap.
func ParseTime(s string, c TimeContext) (tai64n.Label, error) {
	l, err := parseTime(s, c)
	if err != nil {
		return tai64n.Label{}, fmt.Errorf("unable to read time %q: %w (accepted: %s)", s, err, TimeForms)
	}
	return l, nil
}

func parseTime(s string, c TimeContext) (tai64n.Label, error) {
	switch {
	case s == "":
		return tai64n.Label{}, errors.New("empty")
	case s[0] == '@':
		return tai64n.Parse([]byte(s))
	case s == "now":
		return tai64n.FromTime(c.Now, c.Convention), nil
	case s[0] == '-':
		d, err := parseAgo(s[1:])
		if err != nil {
			return tai64n.Label{}, err
		}
		return tai64n.FromTime(c.Now.Add(-d), c.Convention), nil
	}
	p := &timeParser{s: s}
	var year, month, day int
	hasDate := len(s) >= 5 && s[4] == '-'
	if hasDate {
		year = p.digits(4, 4)
		p.expect('-')
		month = p.digits(2, 2)
		p.expect('-')
		day = p.digits(2, 2)
		if p.err == nil && (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) {
			return tai64n.Label{}, errors.New("no such date")
		}
		if p.more() {
			if b := p.next(); b != ' ' && b != 'T' && b != 't' && b != '_' {
				p.fail("a space or T between date and time")
			}
		}
	}
	var hour, minute, sec, nano int
	hasClock := p.more()
	if hasClock {
		hour = p.digits(2, 2)
		p.expect(':')
		minute = p.digits(2, 2)
		if p.peek() == ':' {
			p.next()
			sec = p.digits(2, 2)
			if p.peek() == '.' || p.peek() == ',' {
				p.next()
				start := p.i
				nano = p.digits(1, 9)
				for n := p.i - start; n < 9; n++ {
					nano *= 10
				}
			}
		}
		if p.err == nil && (hour > 23 || minute > 59 || sec > 59) {
			return tai64n.Label{}, errors.New("no such time of day")
		}
	}
	offset, hasOffset := 0, false
	if p.more() && p.err == nil {
		hasOffset = true
		switch b := p.next(); b {
		case 'Z', 'z':
		case '+', '-':
			oh := p.digits(2, 2)
			if p.peek() == ':' {
				p.next()
			}
			om := p.digits(2, 2)
			if p.err == nil && (oh > 23 || om > 59) {
				return tai64n.Label{}, errors.New("no such UTC offset")
			}
			offset = oh*3600 + om*60
			if b == '-' {
				offset = -offset
			}
		default:
			p.fail("Z or an offset like +01:00 after the time")
		}
	}
	if p.err == nil && p.more() {
		p.fail("nothing more")
	}
	if p.err != nil {
		return tai64n.Label{}, p.err
	}
	zone := c.Zone
	if zone == nil || hasOffset {
		zone = tzlocal.UTC()
	}
	if !hasDate {
		// Today, in the zone the time is given in.
		now := c.Now.Unix()
		off := offset
		if !hasOffset {
			info, ok := zone.Lookup(now)
			if !ok {
				return tai64n.Label{}, errors.New("the present is out of the zone's range")
			}
			off = int(info.Offset - info.LeapCorrection)
		}
		today := time.Unix(now+int64(off), 0).UTC()
		year, month, day = today.Year(), int(today.Month()), today.Day()
	}
	wall := time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC).Unix()
	var unix int64
	if hasOffset {
		unix = wall - int64(offset)
	} else {
		var ok bool
		if unix, ok = zone.FromWall(wall); !ok {
			return tai64n.Label{}, errors.New("out of the time zone's range")
		}
	}
	return tai64n.FromUnix(unix, uint32(nano), c.Convention), nil
}

// parseAgo reads a duration like "90s", "30m", "1h30m", "2d" or "1.5h".
func parseAgo(s string) (time.Duration, error) {
	if s == "" {
		return 0, errors.New("a duration after '-', like -1h")
	}
	var total time.Duration
	for s != "" {
		i := 0
		for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
			i++
		}
		if i == 0 || i == len(s) {
			return 0, errors.New("a duration is numbers with units s, m, h or d, like -1h30m")
		}
		unit := time.Duration(0)
		switch s[i] {
		case 's':
			unit = time.Second
		case 'm':
			unit = time.Minute
		case 'h':
			unit = time.Hour
		case 'd':
			unit = 24 * time.Hour
		default:
			return 0, fmt.Errorf("unknown unit %q (use s, m, h or d)", s[i])
		}
		d, err := time.ParseDuration(s[:i] + "s")
		if err != nil || d < 0 {
			return 0, errors.New("a duration is numbers with units s, m, h or d, like -1h30m")
		}
		part := time.Duration(float64(d) / float64(time.Second) * float64(unit))
		if part < 0 || total+part < total {
			return 0, errors.New("duration too long")
		}
		total += part
		s = s[i+1:]
	}
	return total, nil
}

// timeParser reads a time argument left to right, remembering the first
// mistake.
type timeParser struct {
	s   string
	i   int
	err error
}

func (p *timeParser) more() bool { return p.i < len(p.s) }

func (p *timeParser) peek() byte {
	if p.err != nil || p.i >= len(p.s) {
		return 0
	}
	return p.s[p.i]
}

func (p *timeParser) next() byte {
	b := p.peek()
	p.i++
	return b
}

func (p *timeParser) fail(want string) {
	if p.err == nil {
		p.err = fmt.Errorf("at byte %d: want %s", p.i+1, want)
	}
}

func (p *timeParser) expect(b byte) {
	if p.peek() != b {
		p.fail(fmt.Sprintf("%q", b))
		return
	}
	p.i++
}

// digits reads between min and max decimal digits.
func (p *timeParser) digits(min, max int) int {
	if p.err != nil {
		return 0
	}
	n, v := 0, 0
	for n < max && p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		v = v*10 + int(p.s[p.i]-'0')
		p.i++
		n++
	}
	if n < min {
		if min == max {
			p.fail(fmt.Sprintf("%d digits", min))
		} else {
			p.fail(fmt.Sprintf("%d to %d digits", min, max))
		}
	}
	return v
}

func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
