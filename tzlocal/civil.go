package tzlocal

import "time"

// Civil is local time broken down as the C library's struct tm holds it,
// with the rules in force (Offset, IsDST, Abbrev, …).
type Civil struct {
	// Year is proleptic Gregorian; Year − 1900 fits a C int (tm_year).
	Year  int64
	Month time.Month
	// Second is 60 during a leap second of a right/ zone (59 + LeapHit).
	Day, Hour, Minute, Second int
	Info
}

// Civil is what glibc's localtime() returns for Unix time t: the date and
// time on the zone's wall clock, and the rules in force. ok is false where
// localtime fails, as for Lookup.
func (z *Zone) Civil(t int64) (c Civil, ok bool) {
	info, ok := z.Lookup(t)
	if !ok {
		return Civil{}, false
	}
	// Lookup succeeds only where the wall clock's year fits a C int,
	// well inside time.Time's range.
	w := time.Unix(t+info.Offset-info.LeapCorrection, 0).UTC()
	year, month, day := w.Date()
	c = Civil{Year: int64(year), Month: month, Day: day, Hour: w.Hour(), Minute: w.Minute(), Info: info}
	c.Second = w.Second() + int(info.LeapHit)
	return c, true
}
