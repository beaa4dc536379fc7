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
	// Lookup succeeds only where the wall clock's year fits a C int.
	wall := t + info.Offset - info.LeapCorrection
	days, secs := tzFloorDiv(wall, 86400), wall%86400
	if secs < 0 {
		secs += 86400
	}
	year, month, day := tzCivilOfDays(days)
	c = Civil{Year: year, Month: month, Day: day, Hour: int(secs / 3600), Minute: int(secs / 60 % 60), Info: info}
	c.Second = int(secs%60) + int(info.LeapHit)
	return c, true
}
