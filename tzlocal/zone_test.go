package tzlocal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/taikit/taikit/internal/testref"
)

// zoneOracleScript asks the C library: each input line is a Unix time, or
// "Z" (unset TZ) / "Z <hex>" (set TZ) to switch zones. It calls localtime()
// rather than localtime_r() because that is what tai64nlocal calls, and the
// two differ: localtime() re-reads $TZ each time. The two warm-up calls after
// a switch put glibc in the steady state a long-running tai64nlocal is in
// (see tzifData.applyDefault).
const zoneOracleScript = `
import ctypes, os, sys
libc = ctypes.CDLL("libc.so.6")
class TM(ctypes.Structure):
    _fields_ = [("sec", ctypes.c_int), ("min", ctypes.c_int), ("hour", ctypes.c_int),
                ("mday", ctypes.c_int), ("mon", ctypes.c_int), ("year", ctypes.c_int),
                ("wday", ctypes.c_int), ("yday", ctypes.c_int), ("isdst", ctypes.c_int),
                ("gmtoff", ctypes.c_long), ("zone", ctypes.c_char_p)]
libc.localtime.restype = ctypes.POINTER(TM)
libc.localtime.argtypes = [ctypes.POINTER(ctypes.c_int64)]
tt = ctypes.c_int64(0)
def q(t):
    tt.value = t
    p = libc.localtime(ctypes.byref(tt))
    if not p:
        return "fail"
    m = p.contents
    z = m.zone.hex() if m.zone is not None else "null"
    return "%d %d %d %d %d %d %d %d %s" % (m.year + 1900, m.mon + 1, m.mday, m.hour,
        m.min, m.sec, 1 if m.isdst else 0, m.gmtoff, z)
out = []
for line in sys.stdin.buffer.read().split(b"\n"):
    if not line:
        continue
    if line[:1] == b"Z":
        if line == b"Z":
            os.environb.pop(b"TZ", None)
        else:
            os.environb[b"TZ"] = bytes.fromhex(line[2:].decode())
        libc.tzset()
        q(0)
        q(0)
        out.append("zone")
    else:
        out.append(q(int(line)))
sys.stdout.write("\n".join(out) + "\n")
`

var (
	zoneOracleOnce sync.Once
	zoneOracleErr  error
)

// zoneNeedOracle skips the test unless python3 can call this system's
// glibc localtime through ctypes, and that glibc is 2.36, the version the
// engine reproduces (others differ in corner cases, e.g. posixrules shifts).
func zoneNeedOracle(t *testing.T) {
	t.Helper()
	zoneOracleOnce.Do(func() {
		v, err := exec.Command("python3", "-c", "import os; print(os.confstr('CS_GNU_LIBC_VERSION'))").Output()
		if err != nil {
			zoneOracleErr = err
			return
		}
		if got := strings.TrimSpace(string(v)); got != "glibc 2.36" {
			zoneOracleErr = fmt.Errorf("C library is %q, not glibc 2.36", got)
			return
		}
		out, err := zoneRunOracle([]zoneOracleCase{{tz: "UTC", set: true, times: []int64{0}}})
		if err != nil {
			zoneOracleErr = err
			return
		}
		if len(out) != 1 || len(out[0]) != 1 || out[0][0] != "1970 1 1 0 0 0 0 0 555443" {
			zoneOracleErr = fmt.Errorf("unexpected oracle answer %q", out)
		}
	})
	if zoneOracleErr != nil {
		t.Skipf("no glibc localtime oracle (python3 + ctypes + libc.so.6): %v", zoneOracleErr)
	}
}

type zoneOracleCase struct {
	tz    string
	set   bool
	times []int64
}

// zoneRunOracle asks one python process about all cases in order; env
// adds environment variables such as TZDIR.
func zoneRunOracle(cases []zoneOracleCase, env ...string) ([][]string, error) {
	var in bytes.Buffer
	for _, c := range cases {
		if c.set {
			fmt.Fprintf(&in, "Z %x\n", c.tz)
		} else {
			in.WriteString("Z\n")
		}
		for _, t := range c.times {
			fmt.Fprintf(&in, "%d\n", t)
		}
	}
	cmd := exec.Command("python3", "-c", zoneOracleScript)
	cmd.Stdin = &in
	cmd.Env = append(append(os.Environ(), "LC_ALL=C"), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%v: %s", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	res := make([][]string, 0, len(cases))
	for _, c := range cases {
		if len(lines) < 1+len(c.times) || lines[0] != "zone" {
			return nil, errors.New("oracle output out of step")
		}
		res = append(res, lines[1:1+len(c.times)])
		lines = lines[1+len(c.times):]
	}
	return res, nil
}

// zoneTestCivil is the broken-down UTC date of Unix time t.
func zoneTestCivil(t int64) (y, mo, d, h, mi, s int64) {
	days := tzFloorDiv(t, 86400)
	sec := t - days*86400
	z := days + 719468
	era := tzFloorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	mo = mp + 3
	if mo > 12 {
		mo -= 12
	}
	y = yoe + era*400
	if mo <= 2 {
		y++
	}
	return y, mo, d, sec / 3600, sec / 60 % 60, sec % 60
}

// zoneTestFormat renders info the way the oracle renders struct tm, for the
// instant t (which must lie in info's window).
func zoneTestFormat(t int64, info Info, ok bool) string {
	if !ok {
		return "fail"
	}
	y, mo, d, h, mi, s := zoneTestCivil(t + info.Offset - info.LeapCorrection)
	if t == info.Start && info.End == t+1 {
		s += info.LeapHit
	}
	dst := 0
	if info.IsDST {
		dst = 1
	}
	return fmt.Sprintf("%d %d %d %d %d %d %d %d %x", y, mo, d, h, mi, s, dst, info.Offset, info.Abbrev)
}

// zoneTestFitEdges are instants around the limits of glibc's year range.
func zoneTestFitEdges() []int64 {
	ts := []int64{math.MinInt64, math.MinInt64 + 1, math.MaxInt64, math.MaxInt64 - 1,
		-1 << 62, 1 << 62, -1 << 40, 1 << 40}
	for _, edge := range []int64{tzFitLo, tzFitHi} {
		for _, d := range []int64{-200000, -90001, -90000, -86401, -86400, -50401, -50400, -37800,
			-3601, -3600, -1, 0, 1, 3599, 3600, 37800, 50400, 86399, 86400, 90000, 200000} {
			ts = append(ts, edge+d)
		}
	}
	return ts
}

// zoneTestYears are instants in years far from today, where glibc's int
// arithmetic shows (year <= 1970 shortcut, int32 overflow near year 5.9
// million, 1900+tm_year wrapping).
func zoneTestYears() []int64 {
	var ts []int64
	for _, y := range []int64{-2147481748, -1000000, -10000, -1, 0, 1, 4, 999, 1000, 1582, 1899, 1901,
		1969, 1970, 1971, 2037, 2038, 2039, 2100, 2400, 9999, 10000, 100000, 1000000, 5000000,
		5881580, 5881581, 5900000, 10000000, 100000000, 1000000000, 2147481747, 2147483647,
		2147483648, 2147485546, 2147485547} {
		for _, md := range [][2]int64{{1, 1}, {3, 31}, {7, 1}, {10, 30}, {12, 31}} {
			base := tzDaysFromCivil(y, md[0], md[1]) * 86400
			ts = append(ts, base-1, base, base+3600, base+43200)
		}
	}
	return ts
}

// zoneOracleZones are the TZ values the differential test covers: the
// required list plus a few glibc corner cases. set=false means TZ unset.
var zoneOracleZones = []struct {
	tz  string
	set bool
}{
	{"UTC", true}, {"Europe/Berlin", true}, {"America/New_York", true},
	{"America/St_Johns", true}, {"Asia/Kolkata", true}, {"Asia/Kathmandu", true},
	{"Australia/Lord_Howe", true}, {"Pacific/Chatham", true}, {"Europe/Dublin", true},
	{"Africa/Casablanca", true}, {"America/Sao_Paulo", true}, {"Antarctica/Troll", true},
	{"Europe/Moscow", true}, {"Pacific/Kiritimati", true}, {"America/Nuuk", true},
	{"right/UTC", true}, {"right/Europe/Berlin", true}, {"right/America/New_York", true},
	{"Asia/Tokyo", true}, {"Pacific/Apia", true}, {"Asia/Tehran", true}, {"Europe/London", true},
	{"America/Los_Angeles", true}, {"Etc/GMT+12", true}, {"Asia/Gaza", true},
	{"EST5EDT", true}, {"XST3XDT", true}, {"XST3XDT4", true}, {"XST-3XDT,", true},
	{"<+0530>-5:30", true}, {"CET-1CEST,M3.5.0,M10.5.0/3", true},
	{"<-03>3<-02>,M3.5.0/-2,M10.5.0/-1", true}, {"AAA3BBB,J60/2,300/3", true},
	{"NZST-12NZDT,M9.5.0,M4.1.0/3", true}, {"IST-1GMT0,M10.5.0,M3.5.0/1", true},
	{"EST5EDT4,0/0,J365/25", true}, {"XST5XDT,M3.2.0/-167,M11.1.0/167", true},
	{"<+0330>-3:30<+0430>,J79/24,J263/24", true}, {"EST5EDT,M3.2.0", true},
	{"EST5EDT,M3.2.0,M13.1.0", true}, {"EST5:", true}, {"ABC+-5DEF", true},
	{"EST+ 5EDT 4", true}, {"EST99EDT,M3.2.0/99:99:99,J60", true}, {"EST5,M3.2.0,M11.1.0", true},
	{"", true}, {":", true}, {":Europe/Berlin", true}, {"/usr/share/zoneinfo/Asia/Tokyo", true},
	{"ABC", true}, {"Nonexistent/Zone", true}, {"AB", true}, {"/etc/localtime", true}, {"", false},
}

// zoneTestTimes collects the instants to check for z: random ones in
// 1900..2110, every transition and leap second +-1, far years, the year-range
// edges, and the edges of the windows Lookup reports, which checks the
// windows themselves against glibc.
func zoneTestTimes(z *Zone, rng *rand.Rand) []int64 {
	lo := tzDaysFromCivil(1900, 1, 1) * 86400
	hi := tzDaysFromCivil(2110, 1, 1) * 86400
	var ts []int64
	for i := 0; i < 1500; i++ {
		ts = append(ts, lo+rng.Int63n(hi-lo))
	}
	around := func(x int64) {
		if x > math.MinInt64 && x < math.MaxInt64 {
			ts = append(ts, x-1, x, x+1)
		}
	}
	if f := z.file; f != nil {
		for _, x := range f.trans {
			around(x)
		}
		for _, x := range f.leaps.at {
			around(x)
		}
	}
	// Walk the windows, which finds every rule-based change too.
	for t := lo; t < hi; {
		info, ok := z.Lookup(t)
		if !ok || info.End <= t {
			break
		}
		around(info.End)
		t = info.End
	}
	ts = append(ts, zoneTestYears()...)
	ts = append(ts, zoneTestFitEdges()...)
	n := len(ts)
	for _, t := range ts[:n] {
		if info, ok := z.Lookup(t); ok {
			ts = append(ts, info.Start, info.End-1, info.End)
		}
	}
	return ts
}

// zoneCompare checks our answers for times against the oracle's lines and
// returns the number of mismatches (reporting the first few).
func zoneCompare(t *testing.T, label string, z *Zone, times []int64, want []string) int {
	t.Helper()
	bad := 0
	for i, ts := range times {
		info, ok := z.Lookup(ts)
		got := zoneTestFormat(ts, info, ok)
		if got != want[i] {
			if bad < 10 {
				t.Errorf("%s: t=%d: got %q (window [%d,%d)), glibc %q", label, ts, got, info.Start, info.End, want[i])
			}
			bad++
		}
		if ok && !(info.Start <= ts && ts < info.End) {
			t.Errorf("%s: t=%d outside its window [%d,%d)", label, ts, info.Start, info.End)
		}
	}
	return bad
}

// zoneWindowClaims turns each window into instants with expected answers:
// glibc must give t's info at Start and End-1.
func zoneWindowClaims(z *Zone, times []int64) (ts []int64, want []string) {
	for _, t := range times {
		info, ok := z.Lookup(t)
		if !ok || info.End == t+1 && info.Start == t {
			continue
		}
		ts = append(ts, info.Start, info.End-1)
		want = append(want, zoneTestFormat(info.Start, info, true), zoneTestFormat(info.End-1, info, true))
	}
	return ts, want
}

func TestZoneOracle(t *testing.T) {
	zoneNeedOracle(t)
	rng := rand.New(rand.NewSource(1))
	src := SystemSource()
	type job struct {
		label  string
		z      *Zone
		times  []int64
		claims []string
		nclaim int
	}
	var jobs []job
	var cases []zoneOracleCase
	for _, zc := range zoneOracleZones {
		z := Load(zc.tz, zc.set, src)
		times := zoneTestTimes(z, rng)
		cts, cwant := zoneWindowClaims(z, times)
		label := fmt.Sprintf("TZ=%q", zc.tz)
		if !zc.set {
			label = "TZ unset"
		}
		jobs = append(jobs, job{label, z, times, cwant, len(cts)})
		cases = append(cases, zoneOracleCase{zc.tz, zc.set, append(append([]int64(nil), times...), cts...)})
	}
	// A few processes in parallel keep the test quick.
	const procs = 4
	results := make([][]string, len(cases))
	var wg sync.WaitGroup
	var mu sync.Mutex
	var runErr error
	for p := 0; p < procs; p++ {
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			var mine []zoneOracleCase
			var idx []int
			for i := p; i < len(cases); i += procs {
				mine = append(mine, cases[i])
				idx = append(idx, i)
			}
			out, err := zoneRunOracle(mine)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				runErr = err
				return
			}
			for k, i := range idx {
				results[i] = out[k]
			}
		}(p)
	}
	wg.Wait()
	if runErr != nil {
		t.Fatal(runErr)
	}
	total := 0
	for i, j := range jobs {
		res := results[i]
		n := len(j.times)
		zoneCompare(t, j.label, j.z, j.times, res[:n])
		for k, w := range j.claims {
			if res[n+k] != w {
				t.Errorf("%s: window claim: glibc at %d is %q, window of our lookup implies %q",
					j.label, cases[i].times[n+k], res[n+k], w)
			}
		}
		total += len(res)
	}
	t.Logf("compared %d instants in %d zones with glibc", total, len(jobs))
}

// TestZoneOracleEmptyTZDIR covers glibc without zone files: TZ="" without
// a Universal file, and DST zones without posixrules.
func TestZoneOracleEmptyTZDIR(t *testing.T) {
	zoneNeedOracle(t)
	dir := t.TempDir()
	src := SystemSource()
	src.Dir = dir
	rng := rand.New(rand.NewSource(8))
	var zones []*Zone
	var cases []zoneOracleCase
	for _, tz := range []string{"", ":", "XST3XDT", "XST3XDT,", "EST5EDT", "Europe/Berlin", "UTC", "<+01>-1<+02>"} {
		z := Load(tz, true, src)
		zones = append(zones, z)
		cases = append(cases, zoneOracleCase{tz: tz, set: true, times: zoneTestTimes(z, rng)})
	}
	out, err := zoneRunOracle(cases, "TZDIR="+dir)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		zoneCompare(t, fmt.Sprintf("TZDIR=empty TZ=%q", c.tz), zones[i], c.times, out[i])
	}
}

// zoneRandomTZ builds TZ strings from fragments glibc treats specially,
// then mutates some of them.
func zoneRandomTZ(rng *rand.Rand) string {
	pick := func(a ...string) string { return a[rng.Intn(len(a))] }
	name := func() string {
		return pick("EST", "XST", "<+05>", "<-0330>", "<A>", "AB", "", "ABCDEFGHIJKLMNOP", "<AB+>", "Q", "<>", "<+123456789>")
	}
	off := func() string {
		return pick("5", "-5", "+5", "5:30", "-5:30:15", "25", "99:99:99", "", "-", "+-3", " 5", "+ 5",
			"65536", "65541", "4294967301", "0", "-0", "12", "-14", "1:", "1::", "3:4:", "24:59:59")
	}
	rule := func() string {
		return pick("M3.2.0", "M3.5.0/-2", "J60/2", "300/3", "M12.5.6/167", "J1/-167", "M3.0.0",
			"M3.6.0", "M3.2.7", "J0", "366", "M3.2.0/", "M3.2.0/x", "M 3. 2.+0", "J60/2:30:15",
			"J300/-1:2:3", "M10.5.0/3", "M4.1.0/3", "0/0", "J365/25", "365", "M2.5.6", "M1.1.0/-24",
			"", "M3.2", "J", "M-65533.2.0", "M3.2.-0", "M3.2.0/+2", "M3.2.0/--2", "59", "J59",
			"M99.99.99", "M13.5.0", "M0.1.0", "M26.2.0", "M3.99.0", "M3.2.99", "J400", "M3.2.0x")
	}
	var b strings.Builder
	b.WriteString(name())
	b.WriteString(off())
	if rng.Intn(5) > 0 {
		b.WriteString(name())
		b.WriteString(off())
		switch rng.Intn(4) {
		case 0:
		case 1:
			b.WriteString(",")
		default:
			b.WriteString(pick(",", "", ",,"))
			b.WriteString(rule())
			b.WriteString(pick(",", "", "/"))
			b.WriteString(rule())
		}
	}
	s := []byte(b.String())
	for n := rng.Intn(3); n > 0 && rng.Intn(3) == 0; n-- {
		const chars = "AZaz09+-:,./<>JM \t"
		i := rng.Intn(len(s) + 1)
		switch rng.Intn(3) {
		case 0:
			s = append(s[:i], append([]byte{chars[rng.Intn(len(chars))]}, s[i:]...)...)
		case 1:
			if i < len(s) {
				s = append(s[:i], s[i+1:]...)
			}
		default:
			if i < len(s) {
				s[i] = chars[rng.Intn(len(chars))]
			}
		}
	}
	return string(s)
}

func TestZonePOSIXRandomOracle(t *testing.T) {
	zoneNeedOracle(t)
	rng := rand.New(rand.NewSource(2))
	src := SystemSource()
	var zones []*Zone
	var cases []zoneOracleCase
	seen := map[string]bool{}
	lo := tzDaysFromCivil(1900, 1, 1) * 86400
	hi := tzDaysFromCivil(2110, 1, 1) * 86400
	for len(cases) < 600 {
		tz := zoneRandomTZ(rng)
		if seen[tz] || strings.ContainsAny(tz, "\x00") {
			continue
		}
		seen[tz] = true
		z := Load(tz, true, src)
		if zoneUnknowable(z) {
			continue
		}
		var ts []int64
		for i := 0; i < 40; i++ {
			ts = append(ts, lo+rng.Int63n(hi-lo))
		}
		for _, y := range []int64{-5, 0, 1, 1969, 1970, 6000000} {
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
	t.Logf("compared %d instants in %d random TZ strings with glibc", n, len(cases))
}

// zoneTZif is a TZif file under construction for tests.
type zoneTZif struct {
	version byte // 0: version 1, 32-bit data only
	trans   []int64
	idx     []uint8
	types   []tzifType
	chars   string
	leaps   [][2]int64
	isstd   []byte
	isut    []byte
	footer  string // written as "\n" + footer + "\n" after the 64-bit data
	raw     []byte // if non-nil, written after the 64-bit data instead of the footer
	// v1 replaces the data in the 32-bit section.
	v1 *zoneTZif
}

func (z *zoneTZif) section(width int) []byte {
	var b bytes.Buffer
	b.WriteString("TZif")
	b.WriteByte(z.version)
	b.Write(make([]byte, 15))
	for _, n := range []int{len(z.isut), len(z.isstd), len(z.leaps), len(z.trans), len(z.types), len(z.chars)} {
		binary.Write(&b, binary.BigEndian, int32(n))
	}
	put := func(v int64) {
		if width == 8 {
			binary.Write(&b, binary.BigEndian, v)
		} else {
			binary.Write(&b, binary.BigEndian, int32(v))
		}
	}
	for _, t := range z.trans {
		put(t)
	}
	b.Write(z.idx)
	for _, ty := range z.types {
		binary.Write(&b, binary.BigEndian, ty.offset)
		dst := byte(0)
		if ty.isDST {
			dst = 1
		}
		b.Write([]byte{dst, ty.abbrIdx})
	}
	b.WriteString(z.chars)
	for _, l := range z.leaps {
		put(l[0])
		binary.Write(&b, binary.BigEndian, int32(l[1]))
	}
	b.Write(z.isstd)
	b.Write(z.isut)
	return b.Bytes()
}

func (z *zoneTZif) bytes() []byte {
	v1 := z
	if z.v1 != nil {
		v1 = z.v1
		v1.version = z.version
	}
	b := v1.section(4)
	if z.version == 0 {
		return b
	}
	b = append(b, z.section(8)...)
	if z.raw != nil {
		return append(b, z.raw...)
	}
	return append(b, "\n"+z.footer+"\n"...)
}

// zoneMemSource serves files from a map and records what was read.
type zoneMemSource struct {
	files map[string][]byte
	read  []string
}

func (m *zoneMemSource) source(dir, def string) Source {
	return Source{
		ReadFile: func(name string) ([]byte, error) {
			m.read = append(m.read, name)
			if b, ok := m.files[name]; ok {
				return b, nil
			}
			return nil, fs.ErrNotExist
		},
		Dir:     dir,
		Default: def,
	}
}

// zoneFixed is a TZif file with a single type.
func zoneFixed(offset int32, abbr string) []byte {
	z := &zoneTZif{version: '2', types: []tzifType{{offset: offset}}, chars: abbr + "\x00", footer: ""}
	return z.bytes()
}

func zoneMust(t *testing.T, z *Zone, at int64) Info {
	t.Helper()
	info, ok := z.Lookup(at)
	if !ok {
		t.Fatalf("%q: Lookup(%d) failed", z.Name(), at)
	}
	return info
}

func TestZoneFileResolution(t *testing.T) {
	m := &zoneMemSource{files: map[string][]byte{
		"/zi/Universal":    zoneFixed(0, "UNI"),
		"/zi/Europe/X":     zoneFixed(3600, "XT"),
		"/abs/zone":        zoneFixed(7200, "ABS"),
		"/etc/localtime":   zoneFixed(-3600, "LOC"),
		"/other/localtime": zoneFixed(-7200, "OTH"),
		"/zi/bad":          []byte("TZif2 definitely not a zone file"),
	}}
	cases := []struct {
		tz     string
		set    bool
		dir    string
		def    string
		offset int64
		abbrev string
		read   []string
	}{
		{"", false, "/zi", "", -3600, "LOC", []string{"/etc/localtime"}},
		{"", false, "/zi", "/other/localtime", -7200, "OTH", []string{"/other/localtime"}},
		{"", true, "/zi", "", 0, "UNI", []string{"/zi/Universal"}},
		{"", true, "/nowhere", "", 0, "Universal", []string{"/nowhere/Universal"}},
		{":", true, "/zi", "", 0, "UTC", nil},
		{"Europe/X", true, "/zi", "", 3600, "XT", []string{"/zi/Europe/X"}},
		{":Europe/X", true, "/zi", "", 3600, "XT", []string{"/zi/Europe/X"}},
		{"::Europe/X", true, "/zi", "", 0, "", []string{"/zi/:Europe/X"}},
		{"/abs/zone", true, "/zi", "", 7200, "ABS", []string{"/abs/zone"}},
		{":/abs/zone", true, "/zi", "", 7200, "ABS", []string{"/abs/zone"}},
		{"../zi/Europe/X", true, "/zi", "", 0, "", []string{"/zi/../zi/Europe/X"}},
		{"Nonexistent/Zone", true, "/zi", "", 0, "Nonexistent", []string{"/zi/Nonexistent/Zone"}},
		{"ABC", true, "/zi", "", 0, "ABC", []string{"/zi/ABC"}},
		{"bad", true, "/zi", "", 0, "bad", []string{"/zi/bad"}},
		{"/etc/localtime", true, "/zi", "/missing", -3600, "LOC", []string{"/etc/localtime"}},
		{"/missing", true, "/zi", "/missing", 0, "UTC", []string{"/missing"}},
		{"EST5", true, "", "", -18000, "EST", []string{"/usr/share/zoneinfo/EST5"}},
		{"<+0530>-5:30", true, "/zi", "", 19800, "+0530", []string{"/zi/<+0530>-5:30"}},
		{"X\x00YZ", true, "/zi", "", 0, "", []string{"/zi/X"}},
	}
	for _, c := range cases {
		m.read = nil
		z := Load(c.tz, c.set, m.source(c.dir, c.def))
		info := zoneMust(t, z, 1700000000)
		abbrev := c.abbrev
		if info.Offset != c.offset || info.Abbrev != abbrev || info.IsDST {
			t.Errorf("TZ=%q set=%v: got %+v, want offset %d abbrev %q", c.tz, c.set, info, c.offset, abbrev)
		}
		if c.read != nil && strings.Join(m.read, ",") != strings.Join(c.read, ",") {
			t.Errorf("TZ=%q set=%v: read %q, want %q", c.tz, c.set, m.read, c.read)
		}
		if z.Name() != c.tz {
			t.Errorf("Name() = %q, want %q", z.Name(), c.tz)
		}
	}
	// A nil ReadFile reads nothing, and Load still works.
	if info := zoneMust(t, Load("Europe/Berlin", true, Source{}), 0); info.Abbrev != "Europe" {
		t.Errorf("nil ReadFile: got %+v", info)
	}
	if info := zoneMust(t, UTC(), 0); info.Abbrev != "UTC" || info.Offset != 0 || UTC().Name() != "UTC" {
		t.Errorf("UTC: got %+v", info)
	}
}

// zoneNewYork is a posixrules stand-in: US Eastern with transitions for
// 2020-2022 and the US footer.
func zoneNewYork() *zoneTZif {
	return &zoneTZif{
		version: '2',
		// 2020-03-08 07:00Z, 2020-11-01 06:00Z, 2021-03-14 07:00Z, 2021-11-07 06:00Z
		trans:  []int64{1583650800, 1604210400, 1615705200, 1636264800},
		idx:    []uint8{1, 2, 1, 2},
		types:  []tzifType{{offset: -17762}, {offset: -14400, isDST: true, abbrIdx: 4}, {offset: -18000, abbrIdx: 8}},
		chars:  "LMT\x00EDT\x00EST\x00",
		footer: "EST5EDT,M3.2.0,M11.1.0",
	}
}

func TestZonePosixrulesDefault(t *testing.T) {
	m := &zoneMemSource{files: map[string][]byte{"/zi/posixrules": zoneNewYork().bytes()}}
	z := Load("XST3XDT", true, m.source("/zi", ""))
	if strings.Join(m.read, ",") != "/zi/XST3XDT,/zi/posixrules" {
		t.Errorf("read %q", m.read)
	}
	// Values from glibc 2.36 (Debian 12), steady state of localtime():
	// standard->DST transitions move by stdoff - rule_stdoff = +2 h, the
	// DST->standard ones stay put; after the last transition the file's
	// footer applies with its own names and offsets.
	for _, c := range []struct {
		t      int64
		offset int64
		abbrev string
	}{
		{1615705200, -10800, "XST"},
		{1615712399, -10800, "XST"},
		{1615712400, -7200, "XDT"},
		{1636264799, -7200, "XDT"},
		{1636264800, -18000, "EST"},
		{0, -10800, "XST"},
		{2500000000, -14400, "EDT"},
		{2510000000 + 86400*120, -18000, "EST"},
	} {
		info := zoneMust(t, z, c.t)
		if info.Offset != c.offset || info.Abbrev != c.abbrev || info.IsDST != (c.abbrev[1] == 'D') {
			t.Errorf("t=%d: got %+v, want %d %s", c.t, info, c.offset, c.abbrev)
		}
	}
	// Without posixrules glibc uses the US rules of 2007 on.
	m.files = nil
	z = Load("XST3XDT", true, m.source("/zi", ""))
	for _, c := range []struct {
		t      int64
		offset int64
	}{
		{1615705200 - 2*3600 - 1, -10800}, // 2021-03-14 01:59:59 XST
		{1615705200 - 2*3600, -7200},
		{1636264800 - 2*3600 - 1, -7200}, // 2021-11-07 01:59:59 XDT
		{1636264800 - 2*3600, -10800},
	} {
		if info := zoneMust(t, z, c.t); info.Offset != c.offset {
			t.Errorf("no posixrules: t=%d: got %+v, want %d", c.t, info, c.offset)
		}
	}
}

func TestZoneTZifRules(t *testing.T) {
	ny := zoneNewYork()
	// The 32-bit section says something else; glibc must use the 64-bit one.
	ny.v1 = &zoneTZif{types: []tzifType{{offset: 999}}, chars: "V1\x00"}
	m := &zoneMemSource{files: map[string][]byte{"/z/ny": ny.bytes()}}
	src := m.source("/zi", "")
	z := Load("/z/ny", true, src)
	check := func(z *Zone, at, offset int64, abbrev string) {
		t.Helper()
		info := zoneMust(t, z, at)
		if info.Offset != offset || info.Abbrev != abbrev {
			t.Errorf("t=%d: got %+v, want %d %s", at, info, offset, abbrev)
		}
		if !(info.Start <= at && at < info.End) {
			t.Errorf("t=%d: window [%d,%d)", at, info.Start, info.End)
		}
	}
	check(z, 0, -17762, "LMT")          // before the first transition: first standard type
	check(z, 1583650800, -14400, "EDT") // transitions
	check(z, 1604210399, -14400, "EDT")
	check(z, 1604210400, -18000, "EST")
	check(z, 1636264800, -18000, "EST")           // last transition: footer from here
	check(z, 1636264800+200*86400, -14400, "EDT") // 2022 summer by the footer
	check(z, 4102444800+180*86400, -14400, "EDT") // 2100 summer
	check(z, tzDaysFromCivil(2100, 11, 15)*86400, -18000, "EST")

	// Version 1: 32-bit data only, no footer, last type forever.
	v1 := zoneNewYork()
	v1.version = 0
	m.files["/z/v1"] = v1.bytes()
	z = Load("/z/v1", true, src)
	check(z, 1636264800+200*86400, -18000, "EST")

	// All types DST: type 0 before the first transition.
	alldst := &zoneTZif{version: '3', trans: []int64{100}, idx: []uint8{1},
		types: []tzifType{{offset: 3600, isDST: true}, {offset: 7200, isDST: true, abbrIdx: 2}},
		chars: "A\x00B\x00"}
	m.files["/z/alldst"] = alldst.bytes()
	z = Load("/z/alldst", true, src)
	if info := zoneMust(t, z, 99); info.Offset != 3600 || info.Abbrev != "A" || !info.IsDST {
		t.Errorf("all DST: got %+v", info)
	}
	// Empty footer line: last type forever.
	nofooter := zoneNewYork()
	nofooter.footer = ""
	m.files["/z/nofooter"] = nofooter.bytes()
	check(Load("/z/nofooter", true, src), 1636264800+200*86400, -18000, "EST")
	// glibc drops the footer's last byte, whatever it is, and needs a
	// leading newline.
	raw := zoneNewYork()
	raw.raw = []byte("\nEST5EDT,M3.2.0,M11.1.0/5X")
	m.files["/z/raw"] = raw.bytes()
	zr := Load("/z/raw", true, src)
	// 2022-11-06 08:00Z is 04:00 EDT, still DST when the change is at 05:00.
	if info := zoneMust(t, zr, tzDaysFromCivil(2022, 11, 6)*86400+8*3600); info.Offset != -14400 {
		t.Errorf("footer /5: got %+v", info)
	}
	raw.raw = []byte("EST5EDT,M3.2.0,M11.1.0\n")
	m.files["/z/raw2"] = raw.bytes()
	check(Load("/z/raw2", true, src), 1636264800+200*86400, -18000, "EST")
	// Truncated files are rejected, and TZ is then parsed as a POSIX string.
	b := zoneNewYork().bytes()
	m.files["/z/trunc"] = b[:len(b)-30]
	check(Load("/z/trunc", true, src), 0, 0, "")
	// Abbreviation index == charcnt is allowed and reads into the footer.
	odd := zoneNewYork()
	odd.types[0].abbrIdx = uint8(len(odd.chars))
	m.files["/z/odd"] = odd.bytes()
	check(Load("/z/odd", true, src), 0, -17762, "EST5EDT,M3.2.0,M11.1.0")
}

func TestZoneLeapSeconds(t *testing.T) {
	// Leap records as in right/UTC: corrections 1, 2 at the end of 1972-06
	// and 1972-12, then a negative one, then two consecutive.
	lz := &zoneTZif{version: '2', types: []tzifType{{offset: 0}}, chars: "UTC\x00",
		leaps:  [][2]int64{{78796800, 1}, {94694401, 2}, {200000000, 1}, {300000000, 2}, {300000001, 3}},
		footer: "UTC0"}
	m := &zoneMemSource{files: map[string][]byte{"/z/right": lz.bytes()}}
	z := Load("/z/right", true, m.source("/zi", ""))
	for _, c := range []struct {
		t, corr, hit, start, end int64
	}{
		{78796799, 0, 0, math.MinInt64, 78796800},
		{78796800, 1, 1, 78796800, 78796801},
		{78796801, 1, 0, 78796801, 94694401},
		{94694401, 2, 1, 94694401, 94694402},
		{200000000, 1, 0, 200000000, 300000000},
		{200000001, 1, 0, 200000000, 300000000},
		{300000000, 2, 1, 300000000, 300000001},
		{300000001, 3, 2, 300000001, 300000002},
		{300000002, 3, 0, 300000002, math.MaxInt64},
	} {
		info := zoneMust(t, z, c.t)
		start, end := max(c.start, tzFitLo+c.corr), min(c.end, tzFitHi+c.corr)
		if info.LeapCorrection != c.corr || info.LeapHit != c.hit || info.Start != start || info.End != end {
			t.Errorf("t=%d: got %+v, want corr %d hit %d [%d,%d)", c.t, info, c.corr, c.hit, start, end)
		}
	}
}

// TestZoneSearch checks that the binary search over sorted transitions
// agrees with glibc's own search, which the engine uses for unsorted ones.
func TestZoneSearch(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	for iter := 0; iter < 2000; iter++ {
		n := 2 + rng.Intn(60)
		trans := make([]int64, n)
		x := rng.Int63n(1<<40) - 1<<39
		for i := range trans {
			trans[i] = x
			x += rng.Int63n(3) * rng.Int63n(40000000)
		}
		if trans[0] == trans[n-1] {
			continue
		}
		for k := 0; k < 50; k++ {
			timer := trans[0] + rng.Int63n(trans[n-1]-trans[0])
			i := tzGlibcSearch(trans, timer)
			want := 0
			for want < n && trans[want] <= timer {
				want++
			}
			if i != want {
				t.Fatalf("trans=%v timer=%d: glibc search %d, upper bound %d", trans, timer, i, want)
			}
		}
	}
}

// TestZoneWindows checks, for all installed zones, that Lookup's windows
// are consistent with Lookup itself.
func TestZoneWindows(t *testing.T) {
	root := "/usr/share/zoneinfo"
	var names []string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && !strings.Contains(p, ".") {
			names = append(names, strings.TrimPrefix(p, root+"/"))
		}
		return nil
	})
	if len(names) == 0 {
		t.Skip("no zoneinfo installed")
	}
	rng := rand.New(rand.NewSource(4))
	src := SystemSource()
	checked := 0
	for _, name := range names {
		if rng.Intn(4) != 0 && !strings.HasPrefix(name, "right/Europe") {
			continue
		}
		z := Load(name, true, src)
		for k := 0; k < 200; k++ {
			at := rng.Int63n(1<<36) - 1<<35
			if k%10 == 0 {
				at = rng.Int63()
			}
			info, ok := z.Lookup(at)
			if !ok {
				continue
			}
			for _, e := range []int64{info.Start, info.End - 1} {
				o, ok := z.Lookup(e)
				if !ok || o.Offset != info.Offset || o.LeapCorrection != info.LeapCorrection ||
					o.IsDST != info.IsDST || o.Abbrev != info.Abbrev || (o.LeapHit != 0 && e != at) {
					t.Fatalf("%s: t=%d window [%d,%d) but at %d: %+v (%v) vs %+v", name, at, info.Start, info.End, e, o, ok, info)
				}
			}
			checked++
		}
	}
	t.Logf("checked %d windows", checked)
}

func TestZoneLookupAllocs(t *testing.T) {
	zones := []*Zone{UTC(), Load("CET-1CEST,M3.5.0,M10.5.0/3", true, SystemSource())}
	for _, name := range []string{"Europe/Berlin", "right/Europe/Berlin"} {
		zones = append(zones, Load(name, true, SystemSource()))
	}
	ts := []int64{0, 1700000000, 4102444800 + 100*86400, 1e12, -1e10, math.MaxInt64}
	for _, z := range zones {
		allocs := testing.AllocsPerRun(100, func() {
			for _, at := range ts {
				z.Lookup(at)
			}
		})
		if allocs != 0 {
			t.Errorf("%q: %v allocations per run", z.Name(), allocs)
		}
	}
}

// TestZoneTai64nlocal compares with daemontools' tai64nlocal itself where it
// is installed, including its crash when localtime fails.
func TestZoneTai64nlocal(t *testing.T) {
	const bin = "/usr/bin/tai64nlocal" // daemontools', never ours from $PATH
	testref.Need(t, bin)
	zoneNeedOracle(t)
	rng := rand.New(rand.NewSource(5))
	stamp := func(t int64) string {
		return fmt.Sprintf("@%016x%08x x", uint64(1<<62+10+t), 123456789)
	}
	for _, tz := range []string{"Europe/Berlin", "right/Europe/Berlin", "America/St_Johns", "XST3XDT",
		"<-03>3<-02>,M3.5.0/-2,M10.5.0/-1", "Australia/Lord_Howe"} {
		z := Load(tz, true, SystemSource())
		var in, want strings.Builder
		// The first line primes glibc's state (see tzifData.applyDefault).
		in.WriteString(stamp(0) + "\n")
		for i := 0; i < 300; i++ {
			at := rng.Int63n(5e9) - 1e9
			if f := z.file; f != nil && i%3 == 0 && len(f.leaps.at) > 0 {
				at = f.leaps.at[rng.Intn(len(f.leaps.at))] + rng.Int63n(3) - 1
			}
			info := zoneMust(t, z, at)
			y, mo, d, h, mi, s := zoneTestCivil(at + info.Offset - info.LeapCorrection)
			s += info.LeapHit
			in.WriteString(stamp(at) + "\n")
			fmt.Fprintf(&want, "%d-%02d-%02d %02d:%02d:%02d.123456789 x\n", y, mo, d, h, mi, s)
		}
		cmd := exec.Command(bin)
		cmd.Env = append(os.Environ(), "TZ="+tz)
		cmd.Stdin = strings.NewReader(in.String())
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("TZ=%s: %v", tz, err)
		}
		_, rest, _ := strings.Cut(string(out), "\n")
		if rest != want.String() {
			gl, wl := strings.Split(rest, "\n"), strings.Split(want.String(), "\n")
			for i := range wl {
				if i >= len(gl) || gl[i] != wl[i] {
					t.Errorf("TZ=%s: line %d: tai64nlocal %q, we %q", tz, i, gl[min(i, len(gl)-1)], wl[i])
					break
				}
			}
		}
	}
	// Where Lookup fails, tai64nlocal dereferences localtime's NULL.
	at := tzFitHi + 86400
	if _, ok := UTC().Lookup(at); ok {
		t.Fatal("Lookup beyond the year range succeeded")
	}
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "TZ=UTC")
	cmd.Stdin = strings.NewReader(stamp(at) + "\n")
	if err := cmd.Run(); err == nil {
		t.Errorf("tai64nlocal converted %d without failing", at)
	}
}

func BenchmarkZoneLookup(b *testing.B) {
	for _, name := range []string{"UTC", "Europe/Berlin", "right/Europe/Berlin", "CET-1CEST,M3.5.0,M10.5.0/3"} {
		z := Load(name, true, SystemSource())
		ts := make([]int64, 1024)
		rng := rand.New(rand.NewSource(6))
		for i := range ts {
			ts[i] = rng.Int63n(5e9) - 1e9
		}
		b.Run(strings.ReplaceAll(name, "/", "_"), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				z.Lookup(ts[i&1023])
			}
		})
	}
}

// zoneMutateTZif damages a TZif file in ways that exercise glibc's
// acceptance checks and its handling of odd but accepted data.
func zoneMutateTZif(rng *rand.Rand, b []byte) []byte {
	b = append([]byte(nil), b...)
	d := tzifParse(b)
	// Offset of the 64-bit header, if any.
	h2 := -1
	if d != nil && b[4] != 0 {
		isut, isstd, leap, time, typ, chars := tzifCounts(b)
		h2 = tzifHeaderLen + int(time*5+typ*6+chars+leap*8+isstd+isut)
	}
	for n := 1 + rng.Intn(2); n > 0; n-- {
		if len(b) < tzifHeaderLen {
			break
		}
		switch rng.Intn(9) {
		case 0: // flip a random byte
			b[rng.Intn(len(b))] ^= byte(1 << rng.Intn(8))
		case 1: // version byte
			b[4] = []byte{0, '2', '3', '4', 'x'}[rng.Intn(5)]
		case 2: // a header count
			hdr := 0
			if h2 > 0 && rng.Intn(3) > 0 {
				hdr = h2
			}
			k := hdr + 20 + 4*rng.Intn(6)
			if k+4 > len(b) {
				break
			}
			v := int32(binary.BigEndian.Uint32(b[k:]))
			v = []int32{v + 1, v - 1, 0, -1, v * 2, math.MaxInt32}[rng.Intn(6)]
			binary.BigEndian.PutUint32(b[k:], uint32(v))
		case 3: // truncate
			b = b[:rng.Intn(len(b))]
		case 4: // append junk
			b = append(b, []byte(zoneRandomTZ(rng))...)
		case 5: // new footer
			if i := bytes.LastIndexByte(b[:len(b)-1], '\n'); i > 0 {
				b = append(b[:i+1], zoneRandomTZ(rng)+"\n"...)
			}
		case 6: // swap two 64-bit transitions
			if d != nil && h2 > 0 && len(d.trans) > 2 {
				i, j := rng.Intn(len(d.trans)), rng.Intn(len(d.trans))
				p, q := h2+tzifHeaderLen+8*i, h2+tzifHeaderLen+8*j
				if max(p, q)+8 > len(b) {
					break
				}
				var tmp [8]byte
				copy(tmp[:], b[p:p+8])
				copy(b[p:p+8], b[q:q+8])
				copy(b[q:q+8], tmp[:])
			}
		case 7: // drop the footer's newlines
			b = bytes.ReplaceAll(b, []byte("\n"), []byte(" "))
		default: // a byte inside the 64-bit types/abbreviations
			if d != nil && h2 > 0 {
				start := h2 + tzifHeaderLen + 9*len(d.trans)
				end := start + 6*len(d.types) + len(d.chars)
				if end > start && end <= len(b) {
					b[start+rng.Intn(end-start)] = byte(rng.Intn(256))
				}
			}
		}
	}
	return b
}

// zoneTZifUnknowable reports files for which glibc reads memory we cannot
// know: an abbreviation running off the end of glibc's buffer.
func zoneTZifUnknowable(d *tzifData) bool {
	if d == nil {
		return false
	}
	for _, ty := range d.types {
		k := int(ty.abbrIdx)
		if bytes.IndexByte(d.chars[k:], 0) < 0 && bytes.IndexByte(d.tail, 0) < 0 {
			return true
		}
	}
	return false
}

func TestZoneTZifMutationOracle(t *testing.T) {
	zoneNeedOracle(t)
	var bases [][]byte
	for _, name := range []string{"Europe/Berlin", "America/New_York", "right/UTC", "Australia/Lord_Howe",
		"Asia/Tokyo", "America/Sao_Paulo", "Europe/Dublin"} {
		if b, err := os.ReadFile("/usr/share/zoneinfo/" + name); err == nil {
			bases = append(bases, b)
		}
	}
	bases = append(bases, zoneNewYork().bytes())
	rng := rand.New(rand.NewSource(7))
	dir := t.TempDir()
	src := SystemSource()
	lo := tzDaysFromCivil(1900, 1, 1) * 86400
	hi := tzDaysFromCivil(2110, 1, 1) * 86400
	var zones []*Zone
	var cases []zoneOracleCase
	skipped := 0
	for i := 0; len(cases) < 400; i++ {
		b := zoneMutateTZif(rng, bases[rng.Intn(len(bases))])
		d := tzifParse(b)
		// A distinct name per file: glibc skips re-reading a file whose
		// inode and mtime it has seen.
		path := filepath.Join(dir, fmt.Sprintf("z%04d", i))
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		z := Load(path, true, src)
		if zoneTZifUnknowable(d) || zoneUnknowable(z) {
			skipped++
			continue
		}
		ts := []int64{0, -1 << 40, 1 << 40}
		for k := 0; k < 40; k++ {
			ts = append(ts, lo+rng.Int63n(hi-lo))
		}
		if d != nil {
			for k := 0; k < 10 && len(d.trans) > 0; k++ {
				ts = append(ts, d.trans[rng.Intn(len(d.trans))]+rng.Int63n(3)-1)
			}
			for k := 0; k < 5 && len(d.leapAt) > 0; k++ {
				ts = append(ts, d.leapAt[rng.Intn(len(d.leapAt))]+rng.Int63n(3)-1)
			}
		}
		for _, t0 := range ts[:len(ts):len(ts)] {
			if info, ok := z.Lookup(t0); ok {
				ts = append(ts, info.Start, info.End-1)
			}
		}
		zones = append(zones, z)
		cases = append(cases, zoneOracleCase{tz: path, set: true, times: ts})
	}
	out, err := zoneRunOracle(cases)
	if err != nil {
		t.Fatal(err)
	}
	bad, n, accepted := 0, 0, 0
	for i, c := range cases {
		if zones[i].file != nil {
			accepted++
		}
		bad += zoneCompare(t, "mutated "+filepath.Base(c.tz), zones[i], c.times, out[i])
		n += len(c.times)
		if bad > 30 {
			t.Fatal("too many mismatches")
		}
	}
	t.Logf("compared %d instants in %d mutated TZif files (%d accepted, %d unknowable skipped)", n, len(cases), accepted, skipped)
}
