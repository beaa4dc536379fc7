package tzlocal_test

import (
	"fmt"
	"time"

	"github.com/taikit/taikit/tzlocal"
)

func Example() {
	// TZ=Europe/Berlin as glibc reads it; tzlocal.Local() reads the
	// process's own TZ (or /etc/localtime when TZ is unset).
	berlin := tzlocal.Load("Europe/Berlin", true, tzlocal.SystemSource())

	// Instant → local time.
	c, _ := berlin.Civil(1795263893)
	fmt.Printf("%d-%02d-%02d %02d:%02d:%02d %s %+d\n", c.Year, c.Month, c.Day, c.Hour, c.Minute, c.Second, c.Abbrev, c.Offset)

	// Wall clock → instant: 10:00 in Berlin on that day.
	t, _ := berlin.FromWall(time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC).Unix())
	fmt.Println(time.Unix(t, 0).UTC())
	// Output:
	// 2026-11-21 13:24:53 CET +3600
	// 2026-11-21 09:00:00 +0000 UTC
}

func ExampleLoad() {
	// A zone file, a POSIX rule string, a zone with leap seconds, and a
	// name that is neither: glibc reads it as a POSIX string that stops
	// after the name, which is UTC under that name.
	src := tzlocal.SystemSource()
	for _, tz := range []string{"America/St_Johns", "CET-1CEST,M3.5.0,M10.5.0/3", "right/UTC", "Nowhere/Zone"} {
		info, _ := tzlocal.Load(tz, true, src).Lookup(1483228826)
		fmt.Printf("%-27s %-11s %6d %d\n", tz, info.Abbrev, info.Offset, info.LeapCorrection)
	}
	// Output:
	// America/St_Johns            NST         -12600 0
	// CET-1CEST,M3.5.0,M10.5.0/3  CET           3600 0
	// right/UTC                   UTC              0 27
	// Nowhere/Zone                Nowhere          0 0
}

func ExampleZone_Civil() {
	// A leap second, which a right/ zone counts and time.Time cannot show.
	z := tzlocal.Load("right/UTC", true, tzlocal.SystemSource())
	for _, t := range []int64{1483228825, 1483228826, 1483228827} {
		c, _ := z.Civil(t)
		fmt.Printf("%d-%02d-%02d %02d:%02d:%02d\n", c.Year, c.Month, c.Day, c.Hour, c.Minute, c.Second)
	}
	// Output:
	// 2016-12-31 23:59:59
	// 2016-12-31 23:59:60
	// 2017-01-01 00:00:00
}

func ExampleZone_FromWall() {
	berlin := tzlocal.Load("Europe/Berlin", true, tzlocal.SystemSource())
	for _, wall := range []time.Time{
		time.Date(2026, 10, 25, 2, 30, 0, 0, time.UTC), // happens twice: the first
		time.Date(2026, 3, 29, 2, 30, 0, 0, time.UTC),  // never happens: read at +01:00
	} {
		t, _ := berlin.FromWall(wall.Unix())
		fmt.Println(time.Unix(t, 0).UTC())
	}
	// Output:
	// 2026-10-25 00:30:00 +0000 UTC
	// 2026-03-29 01:30:00 +0000 UTC
}
