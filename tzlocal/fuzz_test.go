package tzlocal

import (
	"io/fs"
	"math"
	"os"
	"testing"
)

// zoneFuzzCheck looks up t and a few related instants and checks the
// invariants callers rely on: no panic, t inside its window, the same rules
// at both ends of the window, and a one-second window around a leap hit.
func zoneFuzzCheck(t *testing.T, z *Zone, at int64) {
	t.Helper()
	for _, x := range []int64{at, at / 2, -at, at >> 20, at ^ 1<<35, 0, 1700000000, 4102444800, math.MinInt64, math.MaxInt64} {
		info, ok := z.Lookup(x)
		if !ok {
			if info != (Info{}) {
				t.Fatalf("t=%d: failed lookup returned %+v", x, info)
			}
			continue
		}
		if !(info.Start <= x && x < info.End) {
			t.Fatalf("t=%d outside window [%d,%d)", x, info.Start, info.End)
		}
		if info.LeapHit < 0 || info.LeapHit > 0 && (info.Start != x || info.End != x+1) {
			t.Fatalf("t=%d: leap hit %d with window [%d,%d)", x, info.LeapHit, info.Start, info.End)
		}
		for _, e := range []int64{info.Start, info.End - 1} {
			o, ok := z.Lookup(e)
			if !ok || o.Offset != info.Offset || o.LeapCorrection != info.LeapCorrection ||
				o.IsDST != info.IsDST || o.Abbrev != info.Abbrev || o.LeapHit != 0 && e != x {
				t.Fatalf("t=%d window [%d,%d) but at %d: %+v (ok=%v), at t: %+v", x, info.Start, info.End, e, o, ok, info)
			}
		}
	}
}

// zoneFuzzSource has a posixrules file (data, or New York when data is nil)
// so that TZ strings without rules and footers without rules reach
// __tzfile_default's code path.
func zoneFuzzSource(data []byte) Source {
	rules := data
	if rules == nil {
		rules = zoneNewYork().bytes()
	}
	files := map[string][]byte{
		"/zi/posixrules": rules,
		"/zi/Universal":  zoneFixed(0, "UTC"),
		"/z":             data,
	}
	return Source{
		ReadFile: func(name string) ([]byte, error) {
			if b, ok := files[name]; ok {
				return b, nil
			}
			return nil, fs.ErrNotExist
		},
		Dir:     "/zi",
		Default: "/z",
	}
}

func FuzzZonePOSIX(f *testing.F) {
	for _, zc := range zoneOracleZones {
		f.Add(zc.tz, int64(1700000000))
	}
	for _, s := range []string{"EST5EDT,M3.2.0,M13.5.0", "A<+05>-5<+06>,M0.0.0", "EST5:", "XST5XDT,J0/-65535,M12.5.6/65535:65535:65535",
		// Invalid rules glibc keeps part of (issue 13).
		"EST5EDT,M99.99.99", "EST5EDT,M3.2.0/65535,M65535.65535.65535", "EST5EDT,M13.99.0", "<+05>-5<+06>,J400"} {
		f.Add(s, int64(-62167219200))
	}
	src := zoneFuzzSource(nil)
	f.Fuzz(func(t *testing.T, tz string, at int64) {
		zoneFuzzCheck(t, Load(tz, true, src), at)
	})
}

func FuzzZoneTZif(f *testing.F) {
	for _, name := range []string{"Europe/Berlin", "right/UTC", "Australia/Lord_Howe", "America/Sao_Paulo"} {
		if b, err := os.ReadFile("/usr/share/zoneinfo/" + name); err == nil {
			f.Add(b, int64(1700000000))
		}
	}
	ny := zoneNewYork()
	f.Add(ny.bytes(), int64(1636264800))
	ny.version = 0
	f.Add(ny.bytes(), int64(0))
	ny = zoneNewYork()
	ny.trans[1], ny.trans[2] = ny.trans[2], ny.trans[1]
	ny.footer = "XST3XDT"
	f.Add(ny.bytes(), int64(1615705200))
	f.Fuzz(func(t *testing.T, data []byte, at int64) {
		src := zoneFuzzSource(data)
		// As a zone file, as posixrules for a TZ string, and as the
		// default zone.
		zoneFuzzCheck(t, Load("/z", true, src), at)
		zoneFuzzCheck(t, Load("XST3XDT", true, src), at)
		zoneFuzzCheck(t, Load("", false, src), at)
	})
}
