package tai64n

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestFromUnixConventions(t *testing.T) {
	cases := []struct {
		unix int64
		conv Convention
		want uint64
	}{
		{0, Daemontools, Epoch + 10},
		{0, LeapAware, Epoch + 10},
		{78796799, LeapAware, Epoch + 10 + 78796799},
		{78796800, LeapAware, Epoch + 10 + 78796800 + 1},
		{935467445, Daemontools, 0x4000000037c219bf}, // tai64nlocal(8)'s example
		{935467445, LeapAware, 0x4000000037c219bf + 22},
		{1483228800, LeapAware, Epoch + 10 + 1483228800 + 27},
		{1795263893, LeapAware, Epoch + 37 + 1795263893}, // s6-tai64n on 2026-11-21
		{-1, Daemontools, Epoch + 9},
	}
	for _, c := range cases {
		if got := FromUnix(c.unix, 0, c.conv).Sec; got != c.want {
			t.Errorf("FromUnix(%d, %v).Sec = %#x, want %#x", c.unix, c.conv, got, c.want)
		}
	}
}

func TestLeapSecondsAtEachInsertion(t *testing.T) {
	for k, u := range leapUnix {
		// The leap second itself: label time leapUnix[k]+k, shown as 23:59:60.
		l := Label{Sec: Epoch + 10 + uint64(u) + uint64(k)}
		sec, leap := l.Unix(LeapAware)
		if !leap || sec != u-1 {
			t.Errorf("leap %d: Unix = %d, %v; want %d, true", k, sec, leap, u-1)
		}
		for _, d := range []int64{-1, 1} {
			l := Label{Sec: Epoch + 10 + uint64(u+int64(k)+d)}
			sec, leap := l.Unix(LeapAware)
			want := u - 1
			if d > 0 {
				want = u
			}
			if leap || sec != want {
				t.Errorf("leap %d%+d: Unix = %d, %v; want %d, false", k, d, sec, leap, want)
			}
		}
		if got, want := FromUnix(u, 0, LeapAware).Sec, l.Sec+1; got != want {
			t.Errorf("FromUnix(midnight after leap %d) = %#x, want %#x", k, got, want)
		}
	}
	if n := LeapSeconds(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Unix()); n != 27 {
		t.Errorf("leap seconds by 2026 = %d, want 27 (offset 37 s)", n)
	}
}

func TestRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 100000; i++ {
		u := r.Int64N(1<<40) - 1<<39
		ns := uint32(r.IntN(1e9))
		for _, c := range []Convention{Daemontools, LeapAware} {
			l := FromUnix(u, ns, c)
			got, leap := l.Unix(c)
			if got != u || leap {
				t.Fatalf("%v: Unix(FromUnix(%d)) = %d, %v", c, u, got, leap)
			}
			tt := l.Time(c)
			if tt.Unix() != u || tt.Nanosecond() != int(ns) {
				t.Fatalf("%v: Time(FromUnix(%d, %d)) = %v", c, u, ns, tt)
			}
			if back := FromTime(tt, c); back != l {
				t.Fatalf("%v: FromTime(Time(%v)) = %v", c, l, back)
			}
		}
	}
}

func TestCompare(t *testing.T) {
	a, b := Label{Sec: 5, Nano: 9}, Label{Sec: 6}
	if a.Compare(b) != -1 || b.Compare(a) != 1 || a.Compare(a) != 0 || !a.Before(b) {
		t.Fatal("label order wrong")
	}
	if !(Label{Nano: 999999999}).Valid() || (Label{Nano: 1e9}).Valid() {
		t.Fatal("Valid wrong")
	}
}
