package tai64n

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// TestLocationMatchesTime formats instants through Location and checks the
// text against time.Time's own formatting in the same *time.Location: around
// every offset change from 1850 to 2100, at random instants, and far ahead,
// with one Formatter per layout reused across all of them (its cache).
func TestLocationMatchesTime(t *testing.T) {
	names := []string{"UTC", "Europe/Berlin", "America/St_Johns", "Asia/Kathmandu", "Australia/Lord_Howe",
		"Europe/Dublin", "Africa/Casablanca", "Pacific/Apia", "America/Sao_Paulo", "Europe/Amsterdam"}
	var locs []*time.Location
	for _, name := range names {
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Skipf("no zone data: %v", err)
		}
		locs = append(locs, loc)
	}
	locs = append(locs, time.FixedZone("odd", -(5*3600+30*60+15)), time.Local)
	r := rand.New(rand.NewPCG(11, 12))
	for _, loc := range locs {
		var ts []int64
		lo := time.Date(1850, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
		hi := time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
		for at := lo; at < hi; {
			_, end := time.Unix(at, 0).In(loc).ZoneBounds()
			if end.IsZero() {
				break
			}
			// On 31 December of leap years the end may be before at
			// (golang/go#81583): step over the day.
			if end.Unix() > at {
				at = end.Unix()
			} else {
				at += 86400
			}
			ts = append(ts, at-1, at, at+1)
		}
		for range 3000 {
			ts = append(ts, lo+r.Int64N(hi-lo))
		}
		for range 300 {
			ts = append(ts, hi+r.Int64N(time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC).Unix()-hi))
		}
		// 2040-12-31, where ZoneBounds may end a zone early (golang/go#81583).
		ts = append(ts, 2240524799, 2240524800, 2240568000, 2240568001, 2240611199, 2240611200)
		local := NewFormatter(Location(loc), Daemontools, LayoutTAI64NLocal)
		rfc := NewFormatter(Location(loc), Daemontools, LayoutRFC3339)
		for _, at := range ts {
			tm := time.Unix(at, r.Int64N(1e9)).In(loc)
			l := FromTime(tm, Daemontools)
			zl := "-07:00"
			if _, off := tm.Zone(); off%60 != 0 {
				zl = "-07:00:00"
			}
			for _, c := range []struct {
				f      *Formatter
				layout string
			}{{local, "2006-01-02 15:04:05.000000000"}, {rfc, "2006-01-02T15:04:05.000000000" + zl}} {
				got, ok := c.f.Append(nil, l)
				if want := tm.Format(c.layout); !ok || string(got) != want {
					t.Fatalf("%s: t=%d: %q, %v; time.Time writes %q", loc, at, got, ok, want)
				}
			}
		}
	}
	// nil is UTC, which has an offset, not a "Z".
	got, _ := NewFormatter(Location(nil), Daemontools, LayoutRFC3339).Append(nil, FromUnix(0, 0, Daemontools))
	if string(got) != "1970-01-01T00:00:00.000000000+00:00" {
		t.Errorf("Location(nil): %q", got)
	}
}

func TestLocationWindows(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip(err)
	}
	z := Location(berlin)
	for _, at := range []int64{math.MinInt64, -1<<62 - 1, math.MaxInt64, 1 << 62} {
		if _, _, _, _, _, ok := z.Offsets(at); ok {
			t.Errorf("t=%d: an offset beyond time.Time's arithmetic", at)
		}
	}
	// 2040-12-31T12:00Z: ZoneBounds ends the zone before it (golang/go#81583).
	for _, at := range []int64{-1 << 62, -1 << 40, 0, 1700000000, 2240568000, 1 << 40, 1<<62 - 1} {
		offset, leap, hit, start, end, ok := z.Offsets(at)
		if !ok || leap != 0 || hit != 0 || !(start <= at && at < end) {
			t.Errorf("t=%d: %d %d %d [%d,%d) %v", at, offset, leap, hit, start, end, ok)
		}
		for _, e := range []int64{start, end - 1} {
			if o, _, _, _, _, ok := z.Offsets(e); ok && o != offset {
				t.Errorf("t=%d: window [%d,%d) but offset %d at %d, %d at t", at, start, end, o, e, offset)
			}
		}
	}
}
