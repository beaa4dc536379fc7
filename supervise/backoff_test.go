package supervise

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/taikit/taikit/internal/testref"
)

func TestParseBackoff(t *testing.T) {
	good := []struct {
		in   string
		want Backoff
	}{
		{"1 300", Backoff{1, 300, 0}},
		{"1 300\n", Backoff{1, 300, 0}},
		{"\n  2\t8  5 \n\n", Backoff{2, 8, 5}},
		{"4 4 1", Backoff{4, 4, 1}},
	}
	for _, c := range good {
		got, err := ParseBackoff([]byte(c.in))
		if err != nil || got != c.want {
			t.Errorf("ParseBackoff(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
	bad := []struct {
		in   string
		line int
	}{
		{"", 1}, {"\n\n", 1}, {"1", 1}, {"1 2 3 4", 1}, {"0 8", 1}, {"8 1", 1},
		{"1 x", 1}, {"-1 8", 1}, {"1 8 0", 1}, {"1 86401", 1}, {"1 99999999999999999999", 1},
		{"1 8\n2 9", 2}, {"\n1 8\n\nfoo", 4},
	}
	for _, c := range bad {
		_, err := ParseBackoff([]byte(c.in))
		var be *BackoffError
		if !errors.Is(err, ErrBackoffFormat) || !errors.As(err, &be) || be.Line != c.line {
			t.Errorf("ParseBackoff(%q): %v, want a BackoffError on line %d", c.in, err, c.line)
		}
	}
}

func TestExtraBackoffLines(t *testing.T) {
	// A record as written before backoff existed still reads, as nothing.
	old := "taikit-extra 1\nstatus @400000006932a0d1000f4240\nrestarts 3\nready unchecked\nexit 1 0\n"
	e, err := DecodeExtra([]byte(old))
	if err != nil || e.Backoff != 0 || e.GaveUp != 0 || e.Restarts != 3 {
		t.Fatalf("old record: %+v, %v", e, err)
	}
	if got := string(e.Append(nil)); got != old {
		t.Errorf("old record re-encoded as %q, want it unchanged", got)
	}
	e.Backoff, e.GaveUp = 16, 5
	b := e.Append(nil)
	if !strings.HasSuffix(string(b), "exit 1 0\nbackoff 16\ngaveup 5\n") {
		t.Errorf("record with backoff: %q", b)
	}
	if again, err := DecodeExtra(b); err != nil || again != e {
		t.Errorf("round trip: %+v, %v; want %+v", again, err, e)
	}
	for _, line := range []string{"backoff 0", "backoff x", "gaveup -1"} {
		if _, err := DecodeExtra([]byte(old + line + "\n")); !errors.Is(err, ErrExtraFormat) {
			t.Errorf("%q: %v, want ErrExtraFormat", line, err)
		}
	}
}

// crashLoop makes a service whose run records its starts (one line each,
// the time in nanoseconds) in the file starts and exits 1 (or runs body
// first), and whose finish records SUPERVISE_BACKOFF ("unset" without it)
// in the file delays.
func crashLoop(t *testing.T, body, backoff string) string {
	t.Helper()
	dir := service(t, `date +%s%N >> starts
`+body+`
exit 1`)
	script(t, dir, "finish", `echo "${SUPERVISE_BACKOFF-unset}" >> delays`)
	if backoff != "" {
		if err := os.WriteFile(filepath.Join(dir, "backoff"), []byte(backoff), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func lines(dir, name string) []string {
	b, _ := os.ReadFile(filepath.Join(dir, name))
	return strings.Fields(string(b))
}

func startTimes(t *testing.T, dir string) []int64 {
	t.Helper()
	var ts []int64
	for _, l := range lines(dir, "starts") {
		n, err := strconv.ParseInt(l, 10, 64)
		if err != nil {
			t.Fatalf("starts: %q", l)
		}
		ts = append(ts, n)
	}
	return ts
}

// throttled checks that the starts recorded are no faster than one per
// delay. Each start's time is taken by run, some time after the start, so
// only the span from the first exit is bounded: the first line was
// written before the second start, and the last after the last start.
func throttled(t *testing.T, dir string, delay time.Duration) {
	t.Helper()
	ts := startTimes(t, dir)
	n := len(ts)
	if span := time.Duration(ts[n-1] - ts[0]); span < time.Duration(n-2)*delay {
		t.Errorf("%d starts in %v, want them at least %v apart", n, span, delay)
	}
}

// currentExtra returns the extra record if it goes with the status record.
func currentExtra(dir string) (Extra, bool) {
	st, err := ReadStatus(dir)
	if err != nil {
		return Extra{}, false
	}
	ex, err := ReadExtra(dir)
	return ex, err == nil && ex.Matches(st)
}

// TestBackoffDelays: with backoff 1 8 a run that exits at once waits 1,
// 2, 4, 8, 8 units: finish is told each wait, and the starts are at least
// that far apart (a lower bound, which load can only widen).
func TestBackoffDelays(t *testing.T) {
	const unit = 150 * time.Millisecond
	t.Setenv("SUPERVISE_BACKOFF", "stale") // finish must see the supervisor's value only
	dir := crashLoop(t, "", "1 8\n")
	started(t, &Supervisor{Dir: dir, RestartDelay: 10 * time.Millisecond, BackoffUnit: unit})
	want := "1 2 4 8 8"
	testref.WaitFor(t, "five backoff waits", func() bool {
		return len(lines(dir, "delays")) >= 5 && len(lines(dir, "starts")) >= 5
	})
	if got := strings.Join(lines(dir, "delays")[:5], " "); got != want {
		t.Fatalf("finish saw SUPERVISE_BACKOFF %s, want %s", got, want)
	}
	ts := startTimes(t, dir)
	for i, d := range []int64{1, 2, 4, 8} {
		gap := time.Duration(ts[i+1] - ts[i])
		if gap < time.Duration(d)*unit {
			t.Errorf("start %d came %v after start %d, want at least %v", i+2, gap, i+1, time.Duration(d)*unit)
		}
	}
}

// TestBackoffReset: a run that stays up MAX units resets the wait to MIN;
// finish is told 0 after it.
func TestBackoffReset(t *testing.T) {
	// MAX is a second, so that a run that exits at once is fast even on a
	// loaded machine, and the long run's sleep of two is surely past it.
	dir := crashLoop(t, `[ "$(wc -l < starts)" -eq 4 ] && sleep 2`, "1 4")
	started(t, &Supervisor{Dir: dir, RestartDelay: 10 * time.Millisecond, BackoffUnit: 250 * time.Millisecond})
	testref.WaitFor(t, "five exits", func() bool { return len(lines(dir, "delays")) >= 5 })
	if got, want := strings.Join(lines(dir, "delays")[:5], " "), "1 2 4 0 1"; got != want {
		t.Errorf("finish saw SUPERVISE_BACKOFF %s, want %s (the fourth run stayed up 2 s, past MAX)", got, want)
	}
}

// TestBackoffGiveUp: after GIVEUP fast exits run is left down, wanted up,
// and svstat says so; svc -u starts it again with the backoff reset.
func TestBackoffGiveUp(t *testing.T) {
	dir := crashLoop(t, "", "1 100 3")
	w := started(t, &Supervisor{Dir: dir, RestartDelay: 10 * time.Millisecond, BackoffUnit: 20 * time.Millisecond})
	testref.WaitFor(t, "give-up", func() bool { ex, ok := currentExtra(dir); return ok && ex.GaveUp == 3 })
	if n := len(lines(dir, "starts")); n != 3 {
		t.Errorf("run started %d times before the give-up, want 3", n)
	}
	if st := status(t, dir); st.Up() || st.Want != WantUp {
		t.Errorf("after give-up: %+v, want down and wanted up", st)
	}
	if d := Describe(dir, time.Now()); !strings.HasSuffix(d, ", normally up, want up, exited 1, gave up after 3 fast exits, 2 restarts") {
		t.Errorf("Describe: %q", d)
	}
	if !strings.Contains(w.String(), "supervise: warning: "+dir+"/run exited 3 times in a row sooner than 100 seconds after it started; not starting it again until svc -u\n") {
		t.Errorf("warnings: %q", w.String())
	}
	testref.WaitFor(t, "finish after the give-up", func() bool { return len(lines(dir, "delays")) == 3 })
	if got := strings.Join(lines(dir, "delays"), " "); got != "1 2 giveup" {
		t.Errorf("finish saw SUPERVISE_BACKOFF %s, want 1 2 giveup", got)
	}

	control(t, dir, "u")
	testref.WaitFor(t, "a start after svc -u, and its exit", func() bool {
		return len(lines(dir, "starts")) >= 4 && len(lines(dir, "delays")) >= 4
	})
	if got := lines(dir, "delays")[3]; got != "1" {
		t.Errorf("after svc -u finish saw SUPERVISE_BACKOFF %s, want 1 (reset)", got)
	}
}

// TestBackoffDownCancels: svc -d during a backoff wait ends it; svstat no
// longer says backing off, and svc -u starts run at once (a unit of an
// hour: the wait could not have ended).
func TestBackoffDownCancels(t *testing.T) {
	dir := crashLoop(t, "", "1 8")
	started(t, &Supervisor{Dir: dir, RestartDelay: 10 * time.Millisecond, BackoffUnit: time.Hour})
	testref.WaitFor(t, "backoff wait", func() bool { ex, ok := currentExtra(dir); return ok && ex.Backoff == 1 })
	if d := Describe(dir, time.Now()); !strings.HasSuffix(d, ", normally up, want up, exited 1, backing off 1 seconds") {
		t.Errorf("Describe during the wait: %q", d)
	}
	control(t, dir, "d")
	testref.WaitFor(t, "down", func() bool {
		ex, ok := currentExtra(dir)
		return ok && ex.Backoff == 0 && status(t, dir).Want == WantDown
	})
	if d := Describe(dir, time.Now()); strings.Contains(d, "backing off") {
		t.Errorf("Describe after svc -d: %q", d)
	}
	control(t, dir, "u")
	testref.WaitFor(t, "start after svc -u and a new wait of MIN", func() bool {
		ex, ok := currentExtra(dir)
		return len(lines(dir, "starts")) == 2 && ok && ex.Backoff == 1
	})
}

// TestBackoffSignalledByCommand: run ended by svc -t, -k or -i (svctl
// restart sends ut) is not a fast exit: it is started again at once (a
// unit of an hour would show any wait), and finish is told 0.
func TestBackoffSignalledByCommand(t *testing.T) {
	dir := crashLoop(t, "exec sleep 1000", "1 8 2")
	started(t, &Supervisor{Dir: dir, RestartDelay: 10 * time.Millisecond, BackoffUnit: time.Hour})
	for i, cmd := range []string{"t", "k", "ut", "tu", "i"} {
		testref.WaitFor(t, "run up", func() bool { return status(t, dir).Up() && len(lines(dir, "starts")) == i+1 })
		control(t, dir, cmd)
		testref.WaitFor(t, "a restart after svc -"+cmd, func() bool {
			return status(t, dir).Up() && len(lines(dir, "starts")) == i+2 && len(lines(dir, "delays")) == i+1
		})
	}
	if got := strings.Join(lines(dir, "delays"), " "); got != "0 0 0 0 0" {
		t.Errorf("finish saw SUPERVISE_BACKOFF %s, want 0 0 0 0 0", got)
	}
}

// TestNoBackoffFile: without a backoff file nothing changes: run is
// restarted after each exit as daemontools does, at most once per
// RestartDelay (a unit of an hour would stall a backoff at once), finish
// gets supervise's environment, and supervise/extra has the lines it
// always had.
func TestNoBackoffFile(t *testing.T) {
	dir := crashLoop(t, "", "")
	const delay = 30 * time.Millisecond
	started(t, &Supervisor{Dir: dir, RestartDelay: delay, BackoffUnit: time.Hour})
	testref.WaitFor(t, "six starts", func() bool { return len(lines(dir, "starts")) >= 6 })
	throttled(t, dir, delay)
	testref.WaitFor(t, "finish", func() bool { return len(lines(dir, "delays")) >= 5 })
	for _, d := range lines(dir, "delays") {
		if d != "unset" {
			t.Fatalf("finish saw SUPERVISE_BACKOFF=%s without a backoff file", d)
		}
	}
	b, err := os.ReadFile(ExtraPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		k, _, _ := strings.Cut(l, " ")
		keys = append(keys, k)
	}
	if got := strings.Join(keys, " "); got != "taikit-extra status restarts ready exit" && got != "taikit-extra status restarts ready" {
		t.Errorf("supervise/extra has the lines %s: %q", got, b)
	}
}

// TestBackoffMalformed: a backoff file that cannot be used is named in
// one warning, with the line, and the service restarts as daemontools'
// does: never a wait (a unit of an hour), never faster than the throttle.
func TestBackoffMalformed(t *testing.T) {
	cases := []struct{ name, content, warning string }{
		{"zero", "0 8\n", `backoff line 1: "0" is not a whole number from 1 to 86400; restarting at most once a second`},
		{"reversed", "8 1", "backoff line 1: MIN 8 is more than MAX 1; restarting at most once a second"},
		{"two lines", "1 8\n2 16\n", "backoff line 2: more than one line of numbers; restarting at most once a second"},
		{"long", strings.Repeat("1 ", 200), "backoff line 1: longer than 256 bytes; restarting at most once a second"},
		{"fifo", "", "unable to read %s/backoff: is a FIFO, not a regular file; restarting at most once a second"},
		{"directory", "", "unable to read %s/backoff: is a directory; restarting at most once a second"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := crashLoop(t, "", "")
			path := filepath.Join(dir, "backoff")
			switch c.name {
			case "fifo":
				if err := syscall.Mkfifo(path, 0o644); err != nil {
					t.Fatal(err)
				}
			case "directory":
				if err := os.Mkdir(path, 0o755); err != nil {
					t.Fatal(err)
				}
			default:
				if err := os.WriteFile(path, []byte(c.content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			const delay = 20 * time.Millisecond
			w := started(t, &Supervisor{Dir: dir, RestartDelay: delay, BackoffUnit: time.Hour})
			testref.WaitFor(t, "four starts", func() bool { return len(lines(dir, "starts")) >= 4 })
			want := "supervise: warning: " + dir + "/" + c.warning + "\n"
			if strings.Contains(c.warning, "%s") {
				want = "supervise: warning: " + strings.Replace(c.warning, "%s", dir, 1) + "\n"
			}
			if n := strings.Count(w.String(), want); n != 1 {
				t.Errorf("warning %q said %d times, want once; warnings:\n%s", want, n, w.String())
			}
			throttled(t, dir, delay)
		})
	}
}

// FuzzParseBackoff: no input makes the parser fail other than with a
// *BackoffError, and what it accepts is within the documented bounds.
func FuzzParseBackoff(f *testing.F) {
	for _, s := range []string{"1 300", "1 8 5\n", "\n2 2\n\n", "0 1", "1 2\n3 4", "1 86400 1"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		bo, err := ParseBackoff(b)
		if err != nil {
			var be *BackoffError
			if !errors.As(err, &be) || !errors.Is(err, ErrBackoffFormat) || be.Line < 1 {
				t.Fatalf("%q: %v", b, err)
			}
			return
		}
		if bo.Min < 1 || bo.Min > bo.Max || bo.Max > maxBackoffSeconds || bo.GiveUp < 0 {
			t.Fatalf("%q: %+v out of bounds", b, bo)
		}
	})
}
