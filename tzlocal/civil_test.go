package tzlocal

import (
	"math/rand"
	"testing"
)

// TestCivil checks Civil's calendar fields against the test's own
// arithmetic (which the oracle tests check against glibc), far years and
// the ends of the year range included, and shows a leap second as :60.
func TestCivil(t *testing.T) {
	src := SystemSource()
	rng := rand.New(rand.NewSource(10))
	for _, name := range []string{"UTC", "Europe/Berlin", "right/Europe/Berlin", "America/St_Johns", "XST3XDT"} {
		z := Load(name, true, src)
		ts := append(zoneTestYears(), zoneTestFitEdges()...)
		for range 2000 {
			ts = append(ts, rng.Int63n(1<<40)-1<<39)
		}
		if f := z.file; f != nil {
			for _, at := range f.leaps.at {
				ts = append(ts, at-1, at, at+1)
			}
		}
		for _, at := range ts {
			info, ok := z.Lookup(at)
			c, cok := z.Civil(at)
			if cok != ok {
				t.Fatalf("TZ=%s t=%d: Civil ok %v, Lookup ok %v", name, at, cok, ok)
			}
			if !ok {
				continue
			}
			y, mo, d, h, mi, s := zoneTestCivil(at + info.Offset - info.LeapCorrection)
			s += info.LeapHit
			if c.Info != info || c.Year != y || int64(c.Month) != mo || int64(c.Day) != d || int64(c.Hour) != h ||
				int64(c.Minute) != mi || int64(c.Second) != s {
				t.Fatalf("TZ=%s t=%d: %+v, want %d-%d-%d %d:%d:%d %+v", name, at, c, y, mo, d, h, mi, s, info)
			}
		}
	}
	// 2016-12-31 23:59:60 UTC, the last leap second so far.
	c, ok := Load("right/UTC", true, src).Civil(1483228800 + 26)
	if !ok || c.Year != 2016 || c.Month != 12 || c.Day != 31 || c.Hour != 23 || c.Minute != 59 || c.Second != 60 {
		t.Errorf("right/UTC leap second: %+v, %v", c, ok)
	}
}
