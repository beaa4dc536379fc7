package tzlocal

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/taikit/taikit/internal/testref"
)

// What glibc reads past __mon_yday decides the answer for a TZ rule like
// "M99.99.99" (see tzMonYday). These tests read it from the libc.so.6 the
// oracle runs on, to know which such rules our guess must get right.

var (
	zoneLibcOnce sync.Once
	zoneLibcMem  []uint16 // zoneLibcMem[1+k] is __mon_yday's flat word k, from k = -1
	zoneLibcErr  error
)

// zoneMonYdayMemory returns the words of glibc's memory from just before
// __mon_yday to as far as the largest m can reach, or an error saying why
// they cannot be known.
func zoneMonYdayMemory() ([]uint16, error) {
	zoneLibcOnce.Do(func() { zoneLibcMem, zoneLibcErr = zoneReadMonYday() })
	return zoneLibcMem, zoneLibcErr
}

func zoneReadMonYday() ([]uint16, error) {
	// The library python (the oracle) has mapped is the one it calls.
	out, err := exec.Command("python3", "-c",
		`print(next(l.split()[-1] for l in open("/proc/self/maps") if "/libc.so" in l or "/libc-" in l))`).Output()
	if err != nil {
		return nil, fmt.Errorf("finding libc: %v", err)
	}
	path := strings.TrimSpace(string(out))
	f, err := elf.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if f.ByteOrder != binary.LittleEndian {
		return nil, fmt.Errorf("%s: not little-endian", path)
	}
	table := make([]byte, 0, 52)
	for _, v := range [26]uint16{0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365,
		0, 31, 60, 91, 121, 152, 182, 213, 244, 274, 305, 335, 366} {
		table = binary.LittleEndian.AppendUint16(table, v)
	}
	for _, p := range f.Progs {
		if p.Type != elf.PT_LOAD || p.Flags&elf.PF_W != 0 {
			continue
		}
		seg := make([]byte, p.Filesz)
		if _, err := p.ReadAt(seg, 0); err != nil {
			return nil, err
		}
		i := bytes.Index(seg, table)
		if i < 0 {
			continue
		}
		if bytes.Contains(seg[i+1:], table) {
			return nil, fmt.Errorf("%s: __mon_yday found twice", path)
		}
		// m is an unsigned short, so glibc reads at most word 26+65535.
		const words = 1 + 26 + 65536
		if i < 2 || i-2+2*words > len(seg) {
			return nil, fmt.Errorf("%s: __mon_yday too near the end of its segment", path)
		}
		mem := make([]uint16, words)
		for k := range mem {
			mem[k] = binary.LittleEndian.Uint16(seg[i-2+2*k:])
		}
		return mem, nil
	}
	return nil, fmt.Errorf("%s: __mon_yday not found", path)
}

// zoneUnknowable reports zones for which a failed "Mm.n.d" parse makes glibc
// read memory next to or past its month table where that memory differs
// from what tzMonYday assumes: 0 just before it, and past it anything from
// 3600 up (enough to put the change after any other rule's), which makes
// glibc's answer the same as ours. Without the memory, every read outside
// the table counts as unknowable.
func zoneUnknowable(z *Zone) bool {
	mem, err := zoneMonYdayMemory()
	var ps []*tzPosix
	if z.posix != nil {
		ps = append(ps, z.posix)
	}
	if z.file != nil && z.file.footer != nil {
		ps = append(ps, z.file.footer)
	}
	for _, p := range ps {
		for _, r := range p.rule {
			if r.kind != tzRuleM {
				continue
			}
			for _, leap := range []int{0, 13} {
				for _, k := range []int{leap + int(r.m) - 1, leap + int(r.m)} {
					if k >= 0 && k < 26 {
						continue
					}
					if err != nil {
						return true
					}
					if v := mem[1+k]; k < 0 && v != 0 || k >= 26 && v < 3600 {
						return true
					}
				}
			}
		}
	}
	return false
}

// zoneYearEdges are instants around the starts of years, where a change
// computed from an out-of-range month lands when it falls just past the
// year (m = 13 in a leap year, m = 26 in a common one).
func zoneYearEdges(rng *rand.Rand) []int64 {
	var ts []int64
	for _, y := range []int64{1900, 1904, 1969, 1970, 1971, 1972, 1973, 2000, 2001, 2020, 2021, 2024, 2025, 2100} {
		base := tzDaysFromCivil(y, 1, 1) * 86400
		for _, d := range []int64{-30 * 3600, -86400, -50400, -3601, -1, 0, 1, 3600, 14400, 50400, 86400, 30 * 3600, 8 * 86400} {
			ts = append(ts, base+d)
		}
		ts = append(ts, base-rng.Int63n(40*86400), base+rng.Int63n(40*86400))
	}
	return ts
}

// TestZoneMonthOutOfRange: glibc keeps a rule whose month is out of range
// (issue 13: EST5EDT,M99.99.99 was an hour off daemontools' tai64nlocal). It
// does not fall back to UTC or to standard time: it computes the change
// from memory past its month table. Compare every such rule whose memory is
// knowable with glibc, in both rule positions and with extreme times and
// offsets beside it.
func TestZoneMonthOutOfRange(t *testing.T) {
	zoneNeedOracle(t)
	mem, err := zoneMonYdayMemory()
	if err != nil {
		t.Logf("glibc's memory past __mon_yday unknown (%v): only months whose reads stay in the table are compared", err)
	}
	rng := rand.New(rand.NewSource(13))
	ms := []int{0, 13, 14, 20, 25, 26, 27, 99, 100, 255, 999, 2000, 2153, 65535}
	// Mostly the months a typo gives, and some from the whole range.
	for len(ms) < 100 {
		ms = append(ms, 13+rng.Intn(3000))
	}
	for len(ms) < 130 {
		ms = append(ms, 13+rng.Intn(65535-13+1))
	}
	pick := func(a ...string) string { return a[rng.Intn(len(a))] }
	tzs := []string{"EST5EDT,M99.99.99", "EST5EDT,M3.2.0,M99.99.99", "EST5EDT,M13.5.0", "EST5EDT,M3.2.0/65535,M99.1.0"}
	for _, m := range ms {
		n := pick("0", "1", "2", "5", "99", "65535")
		d := pick("0", "3", "6", "99")
		std := pick("EST5", "<+14>-14", "XST-24:59:59", "XST24:59:59", "UTC0")
		dst := pick("EDT", "XDT4", "<+15>-15", "XDT-24:59:59")
		secs := pick("", "/0", "/65535", "/-65535:59:59", "/-167")
		tzs = append(tzs,
			fmt.Sprintf("%s%s,M%d.%s.%s", std, dst, m, n, d),
			fmt.Sprintf("%s%s,%s%s,M%d.%s.%s", std, dst, pick("M3.2.0", "J1", "0", "J365", "M12.5.6"), secs, m, n, d))
	}
	lo := tzDaysFromCivil(1900, 1, 1) * 86400
	hi := tzDaysFromCivil(2110, 1, 1) * 86400
	src := SystemSource()
	var zones []*Zone
	var cases []zoneOracleCase
	skipped := 0
	for _, tz := range tzs {
		z := Load(tz, true, src)
		if zoneUnknowable(z) {
			skipped++
			continue
		}
		ts := zoneYearEdges(rng)
		for i := 0; i < 40; i++ {
			ts = append(ts, lo+rng.Int63n(hi-lo))
		}
		for _, y := range []int64{-5, 0, 1, 1969, 6000000} {
			ts = append(ts, tzDaysFromCivil(y, 1+rng.Int63n(12), 1+rng.Int63n(28))*86400+rng.Int63n(86400))
		}
		for _, t0 := range ts[:len(ts):len(ts)] {
			if info, ok := z.Lookup(t0); ok {
				ts = append(ts, info.Start, info.End-1)
			}
		}
		zones = append(zones, z)
		cases = append(cases, zoneOracleCase{tz: tz, set: true, times: ts})
	}
	if err == nil && skipped > len(tzs)/2 {
		t.Errorf("%d of %d zones skipped as unknowable", skipped, len(tzs))
	}
	if mem != nil && len(cases) == 0 {
		t.Fatal("nothing compared")
	}
	out, err := zoneRunOracle(cases)
	if err != nil {
		t.Fatal(err)
	}
	bad, n := 0, 0
	for i, c := range cases {
		bad += zoneCompare(t, fmt.Sprintf("TZ=%q", c.tz), zones[i], c.times, out[i])
		n += len(c.times)
		if bad > 30 {
			t.Fatal("too many mismatches")
		}
	}
	t.Logf("compared %d instants in %d TZ strings with out-of-range months (%d unknowable skipped)", n, len(cases), skipped)
}

// TestZoneMonYdayMemory pins down the claim in tzMonYday's comment about
// Debian's glibc 2.36, so that a libc update that moves __mon_yday's
// neighbours shows here first rather than as mismatches elsewhere.
func TestZoneMonYdayMemory(t *testing.T) {
	zoneNeedOracle(t)
	mem, err := zoneMonYdayMemory()
	if err != nil {
		t.Skipf("glibc's memory past __mon_yday unknown: %v", err)
	}
	if mem[0] != 0 {
		t.Errorf("the word before __mon_yday is %d, tzMonYday assumes 0", mem[0])
	}
	first := -1
	known := 0
	for m := 13; m <= 65535; m++ {
		ok := true
		for _, k := range []int{m - 1, m, 13 + m - 1, 13 + m} {
			if k >= 26 && mem[1+k] < 3600 {
				ok = false
			}
		}
		if ok {
			known++
		} else if first < 0 {
			first = m
		}
	}
	t.Logf("months 13..%d all agree with tzMonYday; %d of 65523 months from 13 up do", first-1, known)
	if first >= 0 && first <= 99 {
		t.Errorf("month %d reads memory below 3600: glibc and tzMonYday disagree on EST5EDT,M%d.1.0", first, first)
	}
}

// zoneSameAs fails unless z answers as want does at a spread of instants.
func zoneSameAs(t *testing.T, label string, z, want *Zone) {
	t.Helper()
	for _, at := range []int64{-2208988800, 0, 1000000000, 1700000000, 1720000000, 4102444800} {
		a, aok := z.Lookup(at)
		b, bok := want.Lookup(at)
		if got, w := zoneTestFormat(at, a, aok), zoneTestFormat(at, b, bok); got != w {
			t.Errorf("%s: t=%d: %q, want %q (as for a missing file)", label, at, got, w)
			return
		}
	}
}

// TestZoneFileBounded: TZ may name any file (issue 13: a 200 MB one made
// tai64nlocal read 164 MB, and a FIFO hung it). A file that cannot be a
// zone file is refused as glibc refuses a damaged one, reading a bounded
// amount and never blocking: TZ then reads as a POSIX string, as for a
// missing file. Where glibc itself would block (a FIFO) or read the file
// whole (a TZif file of any size), we refuse instead.
func TestZoneFileBounded(t *testing.T) {
	dir := t.TempDir()
	berlin, err := os.ReadFile("/usr/share/zoneinfo/Europe/Berlin")
	if err != nil {
		t.Skip(err)
	}
	sparse := func(name string, head []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, head, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(p, 200<<20); err != nil {
			t.Fatal(err)
		}
		return p
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	// If Load blocks in open(2) after all, a writer lets it go on.
	t.Cleanup(func() {
		if f, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
	})
	missing := filepath.Join(dir, "missing")
	for _, name := range []string{sparse("huge", nil), sparse("huge-tzif", berlin), fifo, dir, "/dev/zero"} {
		for _, tz := range []string{name, ":" + name} {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			done := make(chan *Zone, 1)
			go func() { done <- Load(tz, true, SystemSource()) }()
			var z *Zone
			testref.WaitFor(t, "Load(TZ="+tz+") to return", func() bool {
				select {
				case z = <-done:
					return true
				default:
					return false
				}
			})
			runtime.ReadMemStats(&after)
			if n := after.TotalAlloc - before.TotalAlloc; n > 8<<20 {
				t.Errorf("TZ=%s: Load allocated %d bytes", tz, n)
			}
			zoneSameAs(t, "TZ="+tz, z, Load(strings.Replace(tz, name, missing, 1), true, SystemSource()))
		}
	}
	// The same for the default zone file and for posixrules.
	src := SystemSource()
	src.Default = fifo
	zoneSameAs(t, "TZ unset, /etc/localtime a FIFO", Load("", false, src), UTC())
	src = SystemSource()
	src.Dir = dir
	os.Symlink(fifo, filepath.Join(dir, "posixrules"))
	noRules := SystemSource()
	noRules.Dir = filepath.Join(dir, "empty")
	zoneSameAs(t, "posixrules a FIFO", Load("XST3XDT", true, src), Load("XST3XDT", true, noRules))
}
