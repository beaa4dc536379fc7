package tai64n

import "math"

// civil is a broken-down wall-clock time, the fields of C's struct tm that
// the formats show. sec may be 60 during a leap second.
type civil struct {
	year                          int64
	month, day, hour, minute, sec int
}

// civilFromUnix breaks t+offset seconds since 1970 into calendar fields the
// way glibc's __offtime does, and fails where it does: when year−1900 does
// not fit a C int. daemontools' tai64nlocal crashes there; callers pass such
// stamps through unchanged instead.
func civilFromUnix(t, offset int64) (civil, bool) {
	// Split before adding the offset so that t near the int64 limits cannot
	// overflow: days stays far inside int64 and rem is small.
	days := t / 86400
	rem := t%86400 + offset
	q := floorDiv(rem, 86400)
	days += q
	rem -= q * 86400

	var c civil
	c.hour = int(rem / 3600)
	c.minute = int(rem % 3600 / 60)
	c.sec = int(rem % 60)
	c.year, c.month, c.day = dateFromDays(days)
	if y := c.year - 1900; y < math.MinInt32 || y > math.MaxInt32 {
		return civil{}, false
	}
	return c, true
}

// dateFromDays converts days since 1970-01-01 in the proleptic Gregorian
// calendar to a date. It counts in 400-year eras, shifted to start on
// 1 March so that the leap day is the last day of a year; exact for every
// int64 day count whose era number fits.
func dateFromDays(days int64) (year int64, month, day int) {
	z := days + 719468 // days from 0000-03-01 to 1970-01-01
	era := floorDiv(z, 146097)
	doe := z - era*146097                                  // [0, 146096]
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365 // [0, 399]
	doy := doe - (365*yoe + yoe/4 - yoe/100)               // [0, 365]
	mp := (5*doy + 2) / 153                                // [0, 11], March = 0
	day = int(doy - (153*mp+2)/5 + 1)
	if mp < 10 {
		month = int(mp + 3)
	} else {
		month = int(mp - 9)
	}
	year = yoe + era*400
	if month <= 2 {
		year++
	}
	return year, month, day
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
