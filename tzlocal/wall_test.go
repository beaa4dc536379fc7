package tzlocal

import (
	"math"
	"math/rand"
	"testing"
	"time"
)

// zoneWall is the wall-clock reading at t, as FromWall takes it.
func zoneWall(t *testing.T, z *Zone, at int64) int64 {
	t.Helper()
	info := zoneMust(t, z, at)
	return at + info.Offset - info.LeapCorrection
}

func TestFromWall(t *testing.T) {
	src := SystemSource()
	at := func(s string) int64 {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v.Unix()
	}
	wall := func(y int, mo time.Month, d, h, mi int) int64 {
		return time.Date(y, mo, d, h, mi, 0, 0, time.UTC).Unix()
	}
	for _, c := range []struct {
		tz   string
		wall int64
		want int64
	}{
		{"UTC", wall(2026, 11, 21, 10, 0), at("2026-11-21T10:00:00Z")},
		{"Europe/Berlin", wall(2026, 11, 21, 10, 0), at("2026-11-21T09:00:00Z")},
		{"Europe/Berlin", wall(2026, 7, 1, 12, 0), at("2026-07-01T10:00:00Z")},
		// Clocks go back on 2026-10-25 at 03:00 CEST: 02:30 happens twice
		// and means the first time (CEST, +02:00).
		{"Europe/Berlin", wall(2026, 10, 25, 2, 30), at("2026-10-25T00:30:00Z")},
		{"Europe/Berlin", wall(2026, 10, 25, 3, 0), at("2026-10-25T02:00:00Z")},
		// Clocks go forward on 2026-03-29 at 02:00 CET: 02:30 does not
		// exist and is read at +01:00, landing after the gap.
		{"Europe/Berlin", wall(2026, 3, 29, 2, 30), at("2026-03-29T01:30:00Z")},
		{"Europe/Berlin", wall(2026, 3, 29, 3, 30), at("2026-03-29T01:30:00Z")},
		{"America/St_Johns", wall(2026, 11, 21, 10, 0), at("2026-11-21T13:30:00Z")},
		// Lord Howe goes back half an hour, at 02:00 on 2026-04-05.
		{"Australia/Lord_Howe", wall(2026, 4, 5, 1, 45), at("2026-04-04T14:45:00Z")},
		{"CET-1CEST,M3.5.0,M10.5.0/3", wall(2026, 10, 25, 2, 30), at("2026-10-25T00:30:00Z")},
		// A right/ zone counts the 27 leap seconds.
		{"right/UTC", wall(2026, 11, 21, 10, 0), at("2026-11-21T10:00:27Z")},
	} {
		got, ok := Load(c.tz, true, src).FromWall(c.wall)
		if !ok || got != c.want {
			t.Errorf("TZ=%s: FromWall(%s) = %s, %v; want %s", c.tz, time.Unix(c.wall, 0).UTC(), time.Unix(got, 0).UTC(), ok, time.Unix(c.want, 0).UTC())
		}
	}
	if _, ok := UTC().FromWall(math.MaxInt64); ok {
		t.Error("FromWall beyond the year range succeeded")
	}
}

// TestFromWallRoundTrip: the instant FromWall finds for the reading at t
// reads the same, and is t or earlier (the first of two identical readings).
func TestFromWallRoundTrip(t *testing.T) {
	src := SystemSource()
	rng := rand.New(rand.NewSource(9))
	lo := tzDaysFromCivil(1970, 1, 1) * 86400
	hi := tzDaysFromCivil(2100, 1, 1) * 86400
	for _, name := range []string{"UTC", "Europe/Berlin", "America/New_York", "America/St_Johns", "Asia/Kathmandu",
		"Australia/Lord_Howe", "Europe/Dublin", "America/Sao_Paulo", "right/Europe/Berlin", "EST5EDT,M3.2.0,M11.1.0"} {
		z := Load(name, true, src)
		ts := []int64{}
		for range 2000 {
			ts = append(ts, lo+rng.Int63n(hi-lo))
		}
		// Both sides of every change of offset or leap correction.
		for at := lo; at < hi; {
			info := zoneMust(t, z, at)
			if info.End >= hi {
				break
			}
			ts = append(ts, info.End-3601, info.End-1, info.End, info.End+1, info.End+3600)
			at = info.End
		}
		for _, at := range ts {
			w := zoneWall(t, z, at)
			got, ok := z.FromWall(w)
			if !ok || got > at || zoneWall(t, z, got) != w {
				t.Fatalf("TZ=%s: t=%d reads %d; FromWall gives %d (%v), which reads %d", name, at, w, got, ok, zoneWall(t, z, got))
			}
		}
	}
}
