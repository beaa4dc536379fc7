package tai64n

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/taikit/taikit/tzlocal"
)

func mustParse(t testing.TB, s string) Label {
	t.Helper()
	l, err := Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestFormatterUTC(t *testing.T) {
	cases := []struct {
		stamp  string
		conv   Convention
		layout Layout
		want   string
	}{
		// The tai64nlocal(8) example, read as daemontools does (TN03) and as s6 does (TN04).
		{"@4000000037c219bf2ef02e94", Daemontools, LayoutTAI64NLocal, "1999-08-24 04:04:05.787492500"},
		{"@4000000037c219bf2ef02e94", LeapAware, LayoutTAI64NLocal, "1999-08-24 04:03:43.787492500"},
		{"@400000000000000a00000000", Daemontools, LayoutTAI64NLocal, "1970-01-01 00:00:00.000000000"},
		{"@400000003b9aca00ffffffff", Daemontools, LayoutTAI64NLocal, "2001-09-09 01:46:30.4294967295"}, // TN06
		{"@4000000037c219bf2ef02e94", Daemontools, LayoutRFC3339, "1999-08-24T04:04:05.787492500Z"},
		{"@40000000586846a400000000", LeapAware, LayoutTAI64NLocal, "2016-12-31 23:59:60.000000000"},
		{"@40000000586846a400000000", LeapAware, LayoutRFC3339, "2016-12-31T23:59:60.000000000Z"},
		{"@3fffffffffffffff00000000", Daemontools, LayoutTAI64NLocal, "1969-12-31 23:59:49.000000000"},
	}
	for _, c := range cases {
		f := NewFormatter(nil, c.conv, c.layout)
		got, ok := f.Append([]byte("<"), mustParse(t, c.stamp))
		if !ok || string(got) != "<"+c.want {
			t.Errorf("%s %v layout %d: %q, %v; want %q", c.stamp, c.conv, c.layout, got, ok, c.want)
		}
	}
}

func TestFormatterOddYears(t *testing.T) {
	f := NewFormatter(nil, Daemontools, LayoutTAI64NLocal)
	r := NewFormatter(nil, Daemontools, LayoutRFC3339)
	at := func(year int64) Label { return FromUnix(yearStart(year), 0, Daemontools) }
	for _, c := range []struct {
		year  int64
		local string // tai64nlocal's text, "" if it cannot be shown
		rfcOK bool
	}{
		{999, "999-01-01 00:00:00.000000000", true},
		{10000, "10000-01-01 00:00:00.000000000", false},
		{0, "0-01-01 00:00:00.000000000", true},
		// daemontools prints the year through an unsigned long.
		{-5, "18446744073709551611-01-01 00:00:00.000000000", false},
	} {
		got, ok := f.Append(nil, at(c.year))
		if !ok || string(got) != c.local {
			t.Errorf("year %d: %q, %v; want %q", c.year, got, ok, c.local)
		}
		if _, ok := r.Append(nil, at(c.year)); ok != c.rfcOK {
			t.Errorf("year %d: RFC 3339 ok = %v, want %v", c.year, ok, c.rfcOK)
		}
	}
	for _, s := range []string{"@000000000000000000000000", "@ffffffffffffffff00000000", "@00000000400000003b9aca00"} {
		if got, ok := f.Append(nil, mustParse(t, s)); ok {
			t.Errorf("%s: formatted as %q; the C library cannot", s, got)
		}
	}
	if _, ok := r.Append(nil, Label{Sec: Epoch + 10, Nano: 1e9}); ok {
		t.Error("RFC 3339 accepted nanoseconds ≥ 1e9")
	}
}

func TestFormatterCacheAcrossSeconds(t *testing.T) {
	f := NewFormatter(nil, Daemontools, LayoutTAI64NLocal)
	base := FromUnix(1700000000, 0, Daemontools)
	for i := uint64(0); i < 5; i++ {
		for _, ns := range []uint32{0, 5, 999999999} {
			l := Label{Sec: base.Sec + i, Nano: ns}
			got, _ := f.Append(nil, l)
			fresh, _ := NewFormatter(nil, Daemontools, LayoutTAI64NLocal).Append(nil, l)
			if string(got) != string(fresh) {
				t.Fatalf("cached %q, fresh %q", got, fresh)
			}
		}
	}
}

func TestFormatterNoAllocs(t *testing.T) {
	zones := map[string]Zone{
		"UTC":                 nil,
		"Europe/Berlin":       tzlocal.Load("Europe/Berlin", true, tzlocal.SystemSource()),
		"right/Europe/Berlin": tzlocal.Load("right/Europe/Berlin", true, tzlocal.SystemSource()),
	}
	if loc, err := time.LoadLocation("Europe/Berlin"); err == nil {
		zones["time.Location Europe/Berlin"] = Location(loc)
	}
	for name, zone := range zones {
		for _, layout := range []Layout{LayoutTAI64NLocal, LayoutRFC3339} {
			// A new second each time (the uncached path), and 50 days
			// (a new zone window now and then).
			for _, step := range []uint64{1, 50 * 86400} {
				f := NewFormatter(zone, Daemontools, layout)
				buf := make([]byte, 0, 64)
				l := FromUnix(1700000000, 123, Daemontools)
				if n := testing.AllocsPerRun(1000, func() {
					l.Sec += step
					buf, _ = f.Append(buf[:0], l)
				}); n != 0 {
					t.Fatalf("%s layout %d step %d: Append allocates %v times", name, layout, step, n)
				}
			}
		}
	}
}

func BenchmarkFormatter(b *testing.B) {
	f := NewFormatter(nil, Daemontools, LayoutTAI64NLocal)
	buf := make([]byte, 0, 64)
	l := FromUnix(1700000000, 123, Daemontools)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		l.Nano = uint32(i)
		if i&15 == 0 {
			l.Sec++
		}
		buf, _ = f.Append(buf[:0], l)
	}
}

func TestAppendNanos(t *testing.T) {
	check := func(n uint32) {
		want := fmt.Sprintf("%09d", n)
		if got := string(appendNanos(nil, n)); got != want {
			t.Fatalf("appendNanos(%d) = %q, want %q", n, got, want)
		}
	}
	for n := uint32(0); n < 200000; n++ {
		check(n)
		check(999999999 - n)
		check(n * 4999)
	}
	r := rand.New(rand.NewPCG(7, 8))
	for i := 0; i < 1000000; i++ {
		check(uint32(r.IntN(1e9)))
	}
	for _, n := range []uint32{1e9, 4294967295} {
		if got, want := string(appendNanos(nil, n)), fmt.Sprint(n); got != want {
			t.Fatalf("appendNanos(%d) = %q", n, got)
		}
	}
}
