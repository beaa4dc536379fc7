package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/taikit/taikit/internal/cli"
	"github.com/taikit/taikit/internal/testref"
	"github.com/taikit/taikit/tai64n"
	"github.com/taikit/taikit/tzlocal"
)

func TestMain(m *testing.M) { testref.TestMainOr(m, main) }

func zoneFor(tz string, set bool) func() *tzlocal.Zone {
	return func() *tzlocal.Zone { return tzlocal.Load(tz, set, tzlocal.SystemSource()) }
}

func ours(t *testing.T, tz string, args []string, input string) string {
	t.Helper()
	var out, errs bytes.Buffer
	if code := run(args, strings.NewReader(input), &out, &errs, zoneFor(tz, true)); code != 0 {
		t.Fatalf("tai64nlocal %q: exit %d: %s", args, code, errs.String())
	}
	return out.String()
}

func TestOptions(t *testing.T) {
	in := "@4000000037c219bf2ef02e94 x\n"
	for _, c := range []struct {
		tz   string
		args []string
		want string
	}{
		{"Europe/Berlin", nil, "1999-08-24 06:04:05.787492500 x\n"},
		{"Europe/Berlin", []string{"-u"}, "1999-08-24 04:04:05.787492500 x\n"},
		{"Europe/Berlin", []string{"-r"}, "1999-08-24T06:04:05.787492500+02:00 x\n"},
		{"Europe/Berlin", []string{"-ur"}, "1999-08-24T04:04:05.787492500Z x\n"},
		{"America/St_Johns", []string{"--rfc3339"}, "1999-08-24T01:34:05.787492500-02:30 x\n"},
		{"UTC", []string{"-l"}, "1999-08-24 04:03:43.787492500 x\n"},
		{"Asia/Kathmandu", []string{"--leap", "--rfc3339"}, "1999-08-24T09:48:43.787492500+05:45 x\n"},
	} {
		if got := ours(t, c.tz, c.args, in); got != c.want {
			t.Errorf("TZ=%s %q: %q, want %q", c.tz, c.args, got, c.want)
		}
	}
	var out, errs bytes.Buffer
	if code := run([]string{"-q"}, nil, &out, &errs, zoneFor("UTC", true)); code != cli.ExitUsage ||
		!strings.Contains(errs.String(), "tai64nlocal: usage: tai64nlocal [-l] [-u] [-r] [file ...]") {
		t.Errorf("-q: exit %d, %q", code, errs.String())
	}
}

func TestFiles(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a")
	b := filepath.Join(dir, "b")
	os.WriteFile(a, []byte("@400000000000000a00000000 a1\npartial"), 0o644)
	os.WriteFile(b, []byte("@400000000000000b00000000 b1\n"), 0o644)
	var out, errs bytes.Buffer
	code := run([]string{a, filepath.Join(dir, "missing"), dir, "-", b}, strings.NewReader("stdin\n"), &out, &errs, zoneFor("UTC", true))
	want := "1970-01-01 00:00:00.000000000 a1\npartialstdin\n1970-01-01 00:00:01.000000000 b1\n"
	if out.String() != want {
		t.Errorf("output %q, want %q", out.String(), want)
	}
	wantErr := "tai64nlocal: warning: unable to open " + filepath.Join(dir, "missing") + ": file does not exist\n" +
		"tai64nlocal: warning: unable to read " + dir + ": is a directory\n"
	if code != cli.ExitTemporary || errs.String() != wantErr {
		t.Errorf("exit %d, stderr %q; want 111, %q", code, errs.String(), wantErr)
	}
}

func TestWriteErrors(t *testing.T) {
	for _, c := range []struct{ shell, msg string }{
		{`echo hi | "$0" > /dev/full`, "tai64nlocal: fatal: unable to write output: out of disk space\n"},
	} {
		res := testref.Exec(t, []string{testref.BeCommand, "TZ=UTC"}, nil, "/bin/sh", "-c", c.shell, testref.Self(t))
		if res.Code != cli.ExitTemporary || string(res.Stderr) != c.msg {
			t.Errorf("%s: exit %d, stderr %q; want 111, %q", c.shell, res.Code, res.Stderr, c.msg)
		}
	}
}

// stampedLines returns n lines stamped with random labels whose Unix times
// lie in [lo, hi), mixed with unstamped and empty lines, ending with a
// partial line (which daemontools converts too).
func stampedLines(r *rand.Rand, n int, lo, hi int64, conv tai64n.Convention) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		switch r.IntN(12) {
		case 0:
			b.WriteString("\n")
		case 1:
			b.WriteString("no stamp here @4000000037c219bf2ef02e94\n")
		default:
			l := tai64n.FromUnix(lo+r.Int64N(hi-lo), uint32(r.IntN(1e9)), conv)
			fmt.Fprintf(&b, "%s line %d\n", l, i)
		}
	}
	l := tai64n.FromUnix(lo, 0, conv)
	fmt.Fprintf(&b, "%s last line without newline", l)
	return b.String()
}

// everyStep stamps one line every step seconds over [lo, hi): dense enough
// to cross every DST change of the years covered.
func everyStep(lo, hi, step int64, conv tai64n.Convention) string {
	var b strings.Builder
	for u := lo; u < hi; u += step {
		fmt.Fprintf(&b, "%s\n", tai64n.FromUnix(u, 999999999, conv))
	}
	return b.String()
}

var diffZones = []string{
	"UTC", "Europe/Berlin", "America/New_York", "America/St_Johns", "Asia/Kolkata", "Asia/Kathmandu",
	"Australia/Lord_Howe", "Pacific/Chatham", "Europe/Dublin", "America/Sao_Paulo", "Africa/Casablanca",
	"Antarctica/Troll", "Europe/Moscow", "Pacific/Kiritimati", "right/UTC", "right/Europe/Berlin",
	"EST5EDT", "<+0530>-5:30", "CET-1CEST,M3.5.0,M10.5.0/3", "", ":Asia/Tokyo",
}

// TestAgainstDaemontools compares ours with /usr/bin/tai64nlocal byte for
// byte in many zones: random stamps from 1970 to 2105, a stamp every 47
// minutes through 1995–2000 and 2020–2026 (every DST change), stamps in odd
// years, unstamped, empty and partial lines.
func TestAgainstDaemontools(t *testing.T) {
	const ref = "/usr/bin/tai64nlocal"
	testref.Need(t, ref)
	r := rand.New(rand.NewPCG(11, 12))
	const y1970, y2105 = 0, 4260211200
	input := stampedLines(r, 20000, y1970, y2105, tai64n.Daemontools) + "\n" +
		everyStep(788918400, 946684800, 47*60+1, tai64n.Daemontools) +
		everyStep(1577836800, 1798761600, 47*60+1, tai64n.Daemontools) +
		stampedLines(r, 300, -62135596800, 253402300800, tai64n.Daemontools) + "\n" // years 1–9999
	for _, tz := range diffZones {
		t.Run(tz, func(t *testing.T) {
			res := testref.Exec(t, []string{"TZ=" + tz}, []byte(input), ref)
			if res.Code != 0 {
				t.Fatalf("%s exited %d", ref, res.Code)
			}
			if got := ours(t, tz, nil, input); got != string(res.Stdout) {
				t.Fatalf("TZ=%q differs from daemontools:\n%s", tz, testref.Diff(string(res.Stdout), got))
			}
		})
	}
	t.Run("TZ unset", func(t *testing.T) {
		res := testref.Exec(t, []string{"TZ"}, []byte(input), ref)
		var out, errs bytes.Buffer
		run(nil, strings.NewReader(input), &out, &errs, zoneFor("", false))
		if out.String() != string(res.Stdout) {
			t.Fatalf("TZ unset differs from daemontools:\n%s", testref.Diff(string(res.Stdout), out.String()))
		}
	})
}

// TestLeapAwareAgainstS6 compares -l with s6-tai64nlocal, which reads s6's
// leap-aware stamps: in UTC (-g) around every leap second, and in local zones.
func TestLeapAwareAgainstS6(t *testing.T) {
	const ref = "/usr/bin/s6-tai64nlocal"
	testref.Need(t, ref)
	r := rand.New(rand.NewPCG(21, 22))
	input := stampedLines(r, 5000, 0, 2000000000, tai64n.LeapAware) + "\n" + leapNeighbourhoods()
	for _, c := range []struct {
		tz        string
		ours, s6s []string
	}{
		{"UTC", []string{"-l", "-u"}, []string{"-g"}},
		{"Europe/Berlin", []string{"-l", "-u"}, []string{"-g"}},
		{"Europe/Berlin", []string{"-l"}, nil},
		{"Asia/Kathmandu", []string{"-l"}, nil},
		{"America/St_Johns", []string{"-l"}, nil},
	} {
		res := testref.Exec(t, []string{"TZ=" + c.tz}, []byte(input), ref, c.s6s...)
		if got := ours(t, c.tz, c.ours, input); got != string(res.Stdout) {
			t.Fatalf("TZ=%s ours %q vs s6 %q:\n%s", c.tz, c.ours, c.s6s, testref.Diff(string(res.Stdout), got))
		}
	}
}

// leapNeighbourhoods stamps the seconds around every leap second in the
// leap-aware convention, the leap second itself included.
func leapNeighbourhoods() string {
	var b strings.Builder
	for _, u := range []int64{78796800, 94694400, 126230400, 157766400, 189302400, 220924800, 252460800,
		283996800, 315532800, 362793600, 394329600, 425865600, 489024000, 567993600, 631152000, 662688000,
		709948800, 741484800, 773020800, 820454400, 867715200, 915148800, 1136073600, 1230768000,
		1341100800, 1435708800, 1483228800} {
		l := tai64n.FromUnix(u, 250000000, tai64n.LeapAware)
		for d := -3; d <= 2; d++ {
			fmt.Fprintf(&b, "%s around the leap second at %d\n", tai64n.Label{Sec: uint64(int64(l.Sec) + int64(d)), Nano: l.Nano}, u)
		}
	}
	return b.String()
}

func TestBrokenPipe(t *testing.T) {
	// The reader went away (`tai64nlocal … | head`): exit 111, and no message,
	// since the user closed the pipe on purpose.
	self := testref.Self(t)
	in := []byte(strings.Repeat("@400000000000000a00000000 line\n", 100000))
	res := testref.ExecBrokenPipe(t, []string{testref.BeCommand, "TZ=UTC"}, in, self)
	if res.Code != cli.ExitTemporary || len(res.Stderr) != 0 {
		t.Fatalf("exit %d, stderr %q; want 111 and nothing", res.Code, res.Stderr)
	}
}

// TestAgainstDaemontoolsEveryZone runs a smaller input through every zone
// file the system has (right/ ones included), so that no zone's history,
// rule string or leap table is left untried.
func TestAgainstDaemontoolsEveryZone(t *testing.T) {
	const ref = "/usr/bin/tai64nlocal"
	testref.Need(t, ref)
	if testing.Short() {
		t.Skip("-short: skipping the sweep over every zone file")
	}
	const dir = "/usr/share/zoneinfo"
	var zones []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		head := make([]byte, 4)
		if f, err := os.Open(p); err == nil {
			f.Read(head)
			f.Close()
		}
		if string(head) == "TZif" && !strings.HasPrefix(p, dir+"/posix/") {
			zones = append(zones, strings.TrimPrefix(p, dir+"/"))
		}
		return nil
	})
	if len(zones) < 300 {
		t.Fatalf("found only %d zone files under %s", len(zones), dir)
	}
	r := rand.New(rand.NewPCG(31, 32))
	input := stampedLines(r, 1500, -2208988800, 4260211200, tai64n.Daemontools) + "\n" + // 1900–2105
		everyStep(1600000000, 1800000000, 86400*3+3607, tai64n.Daemontools) // 2020–2027, every ~3 days
	for _, tz := range zones {
		res := testref.Exec(t, []string{"TZ=" + tz}, []byte(input), ref)
		if res.Code != 0 {
			t.Errorf("TZ=%s: %s exited %d", tz, ref, res.Code)
			continue
		}
		if got := ours(t, tz, nil, input); got != string(res.Stdout) {
			t.Errorf("TZ=%s differs from daemontools:\n%s", tz, testref.Diff(string(res.Stdout), got))
		}
	}
	t.Logf("%d zones compared", len(zones))
}
