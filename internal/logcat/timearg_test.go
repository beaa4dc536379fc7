package logcat

import (
	"strings"
	"testing"
	"time"

	"github.com/taikit/taikit/tai64n"
	"github.com/taikit/taikit/tzlocal"
)

func zone(t testing.TB, tz string) *tzlocal.Zone {
	t.Helper()
	return tzlocal.Load(tz, true, tzlocal.SystemSource())
}

func TestParseTime(t *testing.T) {
	// 2026-11-21 13:24:17.5 UTC; Berlin is at +01:00 then.
	now := time.Date(2026, 11, 21, 13, 24, 17, 500000000, time.UTC)
	berlin := TimeContext{Now: now, Zone: zone(t, "Europe/Berlin")}
	utc := TimeContext{Now: now}
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cases := []struct {
		in   string
		c    TimeContext
		want time.Time
	}{
		{"2026-11-21 10:00", berlin, at("2026-11-21T09:00:00Z")},
		{"2026-11-21T10:00:05", berlin, at("2026-11-21T09:00:05Z")},
		{"2026-11-21_10:00:05.25", berlin, at("2026-11-21T09:00:05.25Z")},
		{"2026-11-21 10:00:05.123456789", berlin, at("2026-11-21T09:00:05.123456789Z")},
		{"2026-11-21 10:00:05,5", berlin, at("2026-11-21T09:00:05.5Z")},
		{"2026-11-21", berlin, at("2026-11-20T23:00:00Z")},
		{"2026-07-01 12:00", berlin, at("2026-07-01T10:00:00Z")}, // summer time
		{"10:00", berlin, at("2026-11-21T09:00:00Z")},
		{"10:00", utc, at("2026-11-21T10:00:00Z")},
		{"10:00Z", berlin, at("2026-11-21T10:00:00Z")},
		{"2026-11-21 10:00Z", berlin, at("2026-11-21T10:00:00Z")},
		{"2026-11-21T10:00:00+05:30", berlin, at("2026-11-21T04:30:00Z")},
		{"2026-11-21T10:00:00-0200", berlin, at("2026-11-21T12:00:00Z")},
		{"now", berlin, now},
		{"-1h", berlin, now.Add(-time.Hour)},
		{"-90s", berlin, now.Add(-90 * time.Second)},
		{"-1h30m", berlin, now.Add(-90 * time.Minute)},
		{"-2d", berlin, now.Add(-48 * time.Hour)},
		{"-1.5h", berlin, now.Add(-90 * time.Minute)},
		// Clocks go back on 2026-10-25 at 03:00 CEST: 02:30 happens twice,
		// and means the first time (CEST, +02:00).
		{"2026-10-25 02:30", berlin, at("2026-10-25T00:30:00Z")},
		// Clocks go forward on 2026-03-29 at 02:00 CET: 02:30 does not
		// exist, and is read at +01:00, landing after the gap.
		{"2026-03-29 02:30", berlin, at("2026-03-29T01:30:00Z")},
		{"2026-03-29 03:30", berlin, at("2026-03-29T01:30:00Z")},
	}
	for _, c := range cases {
		got, err := ParseTime(c.in, c.c)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if want := tai64n.FromTime(c.want, tai64n.Daemontools); got != want {
			t.Errorf("%q: %v (%v), want %v", c.in, got, got.Time(tai64n.Daemontools), c.want)
		}
	}
	l, err := ParseTime("@4000000037c219bf2ef02e94", utc)
	if err != nil || l.String() != "@4000000037c219bf2ef02e94" {
		t.Errorf("TAI64N: %v %v", l, err)
	}
	// The convention: the same instant, a label 27 s later for s6.
	leap := utc
	leap.Convention = tai64n.LeapAware
	a, _ := ParseTime("2026-11-21 10:00Z", utc)
	b, _ := ParseTime("2026-11-21 10:00Z", leap)
	if b.Sec-a.Sec != 27 {
		t.Errorf("leap-aware label %v, daemontools %v: want 27 s apart", b, a)
	}
}

func TestParseTimeErrors(t *testing.T) {
	c := TimeContext{Now: time.Unix(1e9, 0)}
	for _, in := range []string{
		"", "yesterday", "2026-13-01", "2026-02-30", "2026-11-21 24:00", "2026-11-21 10:60",
		"2026-11-21 10", "10", "10:00:61", "10:00.5", "2026-11-21 10:00+25:00", "2026-11-21 10:00 CET",
		"-", "-1", "-1y", "-h", "@400", "@4000000037c219bf2ef02e9", "2026-11-21x10:00", "10:00:05.1234567891",
		"-99999999999999999h",
	} {
		if l, err := ParseTime(in, c); err == nil {
			t.Errorf("%q: %v, want an error", in, l)
		} else if !strings.Contains(err.Error(), "accepted: ") {
			t.Errorf("%q: message %q does not say what is accepted", in, err)
		}
	}
}

// FuzzParseTime: any argument is read or refused, never a crash; a
// written time reads back as itself.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2026-11-21 10:00", "10:00:05.5Z", "@4000000037c219bf2ef02e94", "-1h30m", "now", "2026-03-29T02:30:00+01:00"} {
		f.Add(s)
	}
	berlin := zone(f, "Europe/Berlin")
	f.Fuzz(func(t *testing.T, s string) {
		c := TimeContext{Now: time.Unix(1_800_000_000, 0), Zone: berlin}
		l, err := ParseTime(s, c)
		if err != nil {
			return
		}
		if !l.Valid() {
			return // a TAI64N argument may hold any nanosecond field
		}
		// The label's RFC 3339 UTC form reads back as the same label.
		tm := l.Time(tai64n.Daemontools)
		if tm.Year() < 1 || tm.Year() > 9999 {
			return
		}
		again, err := ParseTime(tm.Format("2006-01-02T15:04:05.999999999Z"), c)
		if err != nil || again != l {
			t.Fatalf("%q → %v → %q → %v, %v", s, l, tm.Format(time.RFC3339Nano), again, err)
		}
	})
}

// FuzzParse: any command line is parsed or refused as a usage error.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"-S\x0010:00\x00-U\x00-1h\x00./main", "-cv\x00-p\x00+* x*\x00-", "--since=now\x00-n20\x00-f", "-E\x00(\x00d", "--\x00-x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		args := strings.Split(s, "\x00")
		o, err := Parse(args)
		if err != nil {
			return
		}
		if o.First < 0 || o.Last < -1 {
			t.Fatalf("%q: counts %d %d", args, o.First, o.Last)
		}
		for _, w := range o.Words {
			if !isScriptWord(w) {
				t.Fatalf("%q: word %q", args, w)
			}
		}
	})
}
