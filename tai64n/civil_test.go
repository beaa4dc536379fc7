package tai64n

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

func TestCivilMatchesTimePackage(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	check := func(u, off int64) {
		c, ok := civilFromUnix(u, off)
		w := time.Unix(u+off, 0).UTC()
		if !ok || c.year != int64(w.Year()) || c.month != int(w.Month()) || c.day != w.Day() ||
			c.hour != w.Hour() || c.minute != w.Minute() || c.sec != w.Second() {
			t.Fatalf("civilFromUnix(%d, %d) = %+v, %v; want %v", u, off, c, ok, w)
		}
	}
	for i := 0; i < 200000; i++ {
		// Years −290000 to +290000 stay inside time.Time's range.
		check(r.Int64N(1<<44)-1<<43, r.Int64N(2*86400)-86400)
	}
	for _, u := range []int64{0, -1, 86399, 86400, -86400, -86401, 951782400, 4107542400, -62135596800, -62135596801} {
		check(u, 0)
		check(u, 50400)
		check(u, -43200)
	}
}

func TestCivilYearLimits(t *testing.T) {
	// glibc refuses years whose tm_year (year−1900) does not fit an int.
	last := int64(math.MaxInt32) + 1900
	c, ok := civilFromUnix(yearStart(last+1)-1, 0)
	if !ok || c.year != last || c.month != 12 || c.day != 31 || c.sec != 59 {
		t.Fatalf("last representable second = %+v, %v", c, ok)
	}
	if _, ok := civilFromUnix(yearStart(last+1), 0); ok {
		t.Fatalf("year %d accepted", last+1)
	}
	first := int64(math.MinInt32) + 1900
	if c, ok := civilFromUnix(yearStart(first), 0); !ok || c.year != first || c.month != 1 || c.day != 1 {
		t.Fatalf("first representable second = %+v, %v", c, ok)
	}
	if _, ok := civilFromUnix(yearStart(first)-1, 0); ok {
		t.Fatalf("year %d accepted", first-1)
	}
	for _, u := range []int64{math.MaxInt64, math.MinInt64} {
		if _, ok := civilFromUnix(u, 0); ok {
			t.Fatalf("civilFromUnix(%d) accepted", u)
		}
	}
}

// yearStart returns the Unix time of 1 January of year y, 00:00 UTC.
func yearStart(y int64) int64 {
	// Days from 1970 to y by whole 400-year cycles of 146097 days, then by
	// counting the rest with the Gregorian rule.
	days := int64(0)
	cycles := floorDiv(y-1970, 400)
	days += cycles * 146097
	for yy := 1970 + cycles*400; yy < y; yy++ {
		days += 365
		if yy%4 == 0 && (yy%100 != 0 || yy%400 == 0) {
			days++
		}
	}
	return days * 86400
}
