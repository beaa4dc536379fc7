package main

import (
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/taikit/taikit/internal/testref"
	"github.com/taikit/taikit/tai64n"
)

// invalidTZ are TZ values glibc does not take as written: out-of-range
// months, weeks, days and Julian days, missing and extra parts, offsets
// beyond 24 hours, names too short or long, quoted names. glibc keeps
// whatever its parser stored before it gave up, and for a month above 12 it
// reads past its month table; tzlocal follows it (issue 13).
var invalidTZ = []string{
	"EST5EDT,M99.99.99", "EST5EDT,M13.1.0", "EST5EDT,M13.5.0", "EST5EDT,M13.99.0", "EST5EDT,M14.2.0",
	"EST5EDT,M20.2.0", "EST5EDT,M26.2.0", "EST5EDT,M27.2.0", "EST5EDT,M100.1.1", "EST5EDT,M999.9.9",
	"EST5EDT,M2000.2.0", "EST5EDT,M0.2.0", "EST5EDT,M3.0.0", "EST5EDT,M3.6.0", "EST5EDT,M3.2.7",
	"EST5EDT,M3.2.9,M11.1.0", "EST5EDT,M3.2.0,M11.9.0", "EST5EDT,M3.2.0,M11.1.7", "EST5EDT,M3.2.0,M13.1.0",
	"EST5EDT,M3.2.0,M99.99.99", "EST5EDT,M3.2.0/65535,M99.1.0", "EST5EDT,M3.2.0,M0.1.0",
	"EST5EDT,J0", "EST5EDT,J366", "EST5EDT,J365,J400", "EST5EDT,366", "EST5EDT,J60,366", "EST5EDT,-1",
	"EST5EDT,M3", "EST5EDT,M3.2", "EST5EDT,M3.2.", "EST5EDT,M3.2.0,", "EST5EDT,M3.2.0,M11",
	"EST5EDT,M3.2.0,M11.1.0x", "EST5EDT,M3.2.0,M11.1.0,garbage", "EST5EDT,M3.2.0x,M11.1.0",
	"EST5EDT,M3.2.0/,M11.1.0", "EST5EDT,M3.2.0/x,M11.1.0", "EST5EDT,M3.2.0,M11.1.0/",
	"EST5EDT;M3.2.0,M11.1.0", "EST5EDT M3.2.0,M11.1.0", "EST25EDT,M3.2.0,M11.1.0",
	"EST99EDT,M3.2.0,M11.1.0", "EST-25EDT,M3.2.0,M11.1.0", "EST5EDT99,M3.2.0,M11.1.0",
	"EST5EDT-99:99:99,M3.2.0,M11.1.0", "EST65536EDT", "EST4294967301", "EST5:99:99",
	"ES5EDT,M3.2.0,M11.1.0", "E5", "EST5ED,M3.2.0,M11.1.0", "EST5E",
	"ESTESTESTESTESTESTESTESTESTESTESTEST5EDT,M3.2.0,M11.1.0",
	"EST5EDTEDTEDTEDTEDTEDTEDTEDTEDTEDTEDT,M3.2.0,M11.1.0", "<+05>-5", "<+05>-5<+06>,M3.2.0,M11.1.0",
	"<+05-5", "<+5>-5", "<>5", "<A>5", "<+0530>-5:30<+0630>,J1,J365", "<ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789>3",
	"EST", "EST5EDT,", "EST5EDT,,", "EST5EDT,,M3.2.0,M11.1.0", "5EST", "-5", "EST+", "EST-",
	"EST5EDT,J60/-167,J300/167", "EST5EDT,M3.2.0/-65535,M11.1.0/65535", "EST5EDT,J1/25:61:61,J365/-1",
}

// hostileInput stamps 1900–2105 at random and every change of 2020–2027.
func hostileInput() string {
	r := rand.New(rand.NewPCG(13, 14))
	return stampedLines(r, 1500, -2208988800, 4260211200, tai64n.Daemontools) + "\n" +
		everyStep(1577836800, 1798761600, 86400+3607, tai64n.Daemontools)
}

// TestAgainstDaemontoolsInvalidTZ: TZ=EST5EDT,M99.99.99 was an hour off
// daemontools (issue 13). Every invalid TZ value gives what
// /usr/bin/tai64nlocal gives.
func TestAgainstDaemontoolsInvalidTZ(t *testing.T) {
	const ref = "/usr/bin/tai64nlocal"
	testref.Need(t, ref)
	input := hostileInput()
	for _, tz := range invalidTZ {
		res := testref.Exec(t, []string{"TZ=" + tz}, []byte(input), ref)
		if res.Code != 0 {
			t.Errorf("TZ=%q: %s exited %d", tz, ref, res.Code)
			continue
		}
		if got := ours(t, tz, nil, input); got != string(res.Stdout) {
			t.Errorf("TZ=%q differs from daemontools:\n%s", tz, testref.Diff(string(res.Stdout), got))
		}
	}
}

// TestAgainstDaemontoolsZoneFiles: TZ naming a file that is not a zone file
// (issue 13: a 200 MB one made us read 164 MB). glibc rejects a file that is
// short, truncated, not TZif, a directory or a device, and then reads TZ as
// a POSIX string; so do we, reading at most a bounded amount. Each is run
// side by side with /usr/bin/tai64nlocal, as "TZ=path" and "TZ=:path".
func TestAgainstDaemontoolsZoneFiles(t *testing.T) {
	const ref = "/usr/bin/tai64nlocal"
	testref.Need(t, ref)
	dir := t.TempDir()
	berlin, err := os.ReadFile("/usr/share/zoneinfo/Europe/Berlin")
	if err != nil {
		t.Skip(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	huge := write("huge", nil)
	// Sparse: 200 MB that take no disk.
	if err := os.Truncate(huge, 200<<20); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "dir")
	os.Mkdir(sub, 0o755)
	files := []string{
		huge,
		write("truncated", berlin[:len(berlin)/2]),
		write("header-only", berlin[:44]),
		write("short", []byte("TZif2")),
		write("text", []byte("CET-1CEST,M3.5.0,M10.5.0/3\n")),
		write("empty", nil),
		write("berlin", berlin), // accepted, as a check that files are read at all
		sub, "/dev/zero", "/dev/null", filepath.Join(dir, "missing"),
	}
	input := hostileInput()
	for _, f := range files {
		for _, tz := range []string{f, ":" + f} {
			res := testref.Exec(t, []string{"TZ=" + tz}, []byte(input), ref)
			if res.Code != 0 {
				t.Errorf("TZ=%q: %s exited %d", tz, ref, res.Code)
				continue
			}
			if got := ours(t, tz, nil, input); got != string(res.Stdout) {
				t.Errorf("TZ=%q differs from daemontools:\n%s", tz, testref.Diff(string(res.Stdout), got))
			}
		}
	}
}

// TestZoneFileFIFO: daemontools' tai64nlocal blocks for ever in fopen when
// TZ names a FIFO nobody writes to (glibc opens zone files without
// O_NONBLOCK). Ours must not: it refuses the FIFO unread and gives what
// daemontools gives for a file it cannot open.
func TestZoneFileFIFO(t *testing.T) {
	const ref = "/usr/bin/tai64nlocal"
	testref.Need(t, ref)
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	input := hostileInput()
	want := testref.Exec(t, []string{"TZ=:" + filepath.Join(dir, "missing")}, []byte(input), ref)
	self := testref.Self(t)
	for _, tz := range []string{fifo, ":" + fifo} {
		// A process of its own, so that a hang is bounded and ended.
		cmd := exec.Command(self)
		cmd.Env = testref.Environ(testref.BeCommand, "TZ="+tz)
		cmd.Stdin = strings.NewReader(input)
		var out bytes.Buffer
		cmd.Stdout = &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Ends it if the wait below gives up; a no-op once it has exited.
		t.Cleanup(func() { cmd.Process.Kill() })
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		err := testref.Receive(t, "tai64nlocal with TZ="+tz+" to exit", done)
		if err != nil || out.String() != string(want.Stdout) {
			t.Errorf("TZ=%q: %v, output differs from daemontools' for a missing file:\n%s",
				tz, err, testref.Diff(string(want.Stdout), out.String()))
		}
	}
}
