package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/taikit/taikit/internal/testref"
	"github.com/taikit/taikit/supervise"
	"github.com/taikit/taikit/tai64n"
)

const svstat = "/usr/bin/svstat"

// fakeService makes a service directory whose supervise/ok has a reader,
// as if a supervisor ran, and whose status record is st.
func fakeService(t *testing.T, root, name string, st supervise.Status, down bool) string {
	t.Helper()
	dir := filepath.Join(root, name)
	must(t, os.MkdirAll(filepath.Join(dir, "supervise"), 0o700))
	must(t, syscall.Mkfifo(supervise.OKPath(dir), 0o600))
	fd, err := syscall.Open(supervise.OKPath(dir), syscall.O_RDONLY|syscall.O_NONBLOCK, 0)
	must(t, err)
	t.Cleanup(func() { syscall.Close(fd) })
	must(t, os.WriteFile(supervise.StatusPath(dir), st.Append(nil), 0o644))
	if down {
		must(t, os.WriteFile(filepath.Join(dir, "down"), nil, 0o644))
	}
	return dir
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// compare runs daemontools' svstat and ours on the same directories; a
// difference is retried once in case a second ticked between the two.
func compare(t *testing.T, dirs []string) {
	t.Helper()
	for attempt := 0; ; attempt++ {
		theirs := testref.Exec(t, nil, nil, svstat, dirs...)
		var ours bytes.Buffer
		code := run(dirs, &ours, time.Now)
		if string(theirs.Stdout) == ours.String() && code == theirs.Code {
			return
		}
		if attempt == 1 {
			t.Fatalf("exit %d, want %d\n%s", code, theirs.Code, testref.Diff(string(theirs.Stdout), ours.String()))
		}
	}
}

// TestWordingAgainstDaemontools covers every combination of the record's
// fields and the down file, plus every failure svstat reports.
func TestWordingAgainstDaemontools(t *testing.T) {
	testref.Need(t, svstat)
	root := t.TempDir()
	var dirs []string
	past := tai64n.FromTime(time.Now().Add(-100*time.Second), tai64n.Daemontools)
	future := tai64n.FromTime(time.Now().Add(time.Hour), tai64n.Daemontools)
	i := 0
	for _, pid := range []int{0, 12345, 0x7fffffff} {
		for _, paused := range []bool{false, true} {
			for _, want := range []supervise.Want{supervise.WantUp, supervise.WantDown, supervise.WantNone, 'x'} {
				for _, down := range []bool{false, true} {
					for _, when := range []tai64n.Label{past, future} {
						i++
						st := supervise.Status{When: when, PID: pid, Paused: paused, Want: want}
						dirs = append(dirs, fakeService(t, root, fmt.Sprint("s", i), st, down))
					}
				}
			}
		}
	}
	// Failures, each as svstat words it.
	notRunning := filepath.Join(root, "notrunning")
	must(t, os.MkdirAll(filepath.Join(notRunning, "supervise"), 0o700))
	must(t, syscall.Mkfifo(supervise.OKPath(notRunning), 0o600))
	short := fakeService(t, root, "short", supervise.Status{}, false)
	must(t, os.WriteFile(supervise.StatusPath(short), []byte("0123456789abcdef"), 0o644))
	empty := fakeService(t, root, "empty", supervise.Status{}, false)
	must(t, os.WriteFile(supervise.StatusPath(empty), nil, 0o644))
	long := fakeService(t, root, "long", supervise.Status{PID: 7, When: past}, false)
	must(t, os.WriteFile(supervise.StatusPath(long), append(supervise.Status{PID: 7, When: past}.Append(nil), "more"...), 0o644))
	noStatus := fakeService(t, root, "nostatus", supervise.Status{}, false)
	must(t, os.Remove(supervise.StatusPath(noStatus)))
	noSupervise := filepath.Join(root, "nosupervise")
	must(t, os.Mkdir(noSupervise, 0o755))
	file := filepath.Join(root, "file")
	must(t, os.WriteFile(file, nil, 0o644))
	loop := fakeService(t, root, "loop", supervise.Status{}, false)
	must(t, os.Symlink("down", filepath.Join(loop, "down"))) // stat fails: ELOOP
	// A stale extra file (another state) must change nothing.
	stale := fakeService(t, root, "stale", supervise.Status{PID: 9, When: past}, false)
	must(t, os.WriteFile(supervise.ExtraPath(stale), supervise.Extra{Restarts: 4, Readiness: supervise.CheckFailed}.Append(nil), 0o644))
	dirs = append(dirs, notRunning, short, empty, long, noStatus, noSupervise, file, stale, loop,
		filepath.Join(root, "missing"), filepath.Join(file, "below"), "-x", "")
	compare(t, dirs)
	compare(t, nil)
}

// TestReadError: daemontools' svstat compares read's -1 with an unsigned
// size, so a status it cannot read (here a directory) is shown with the
// previous directory's record; taikit says what went wrong.
func TestReadError(t *testing.T) {
	dir := fakeService(t, t.TempDir(), "dirstatus", supervise.Status{}, false)
	must(t, os.Remove(supervise.StatusPath(dir)))
	must(t, os.Mkdir(supervise.StatusPath(dir), 0o700))
	var out bytes.Buffer
	run([]string{dir}, &out, time.Now)
	if want := dir + ": unable to read supervise/status: is a directory\n"; out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
}

func TestExtrasWording(t *testing.T) {
	root := t.TempDir()
	now := time.Now()
	when := tai64n.FromTime(now.Add(-50*time.Second), tai64n.Daemontools)
	readyAt := tai64n.FromTime(now.Add(-20*time.Second), tai64n.Daemontools)
	for _, c := range []struct {
		st   supervise.Status
		ex   supervise.Extra
		want string
	}{
		{supervise.Status{PID: 5, Want: 'u'}, supervise.Extra{Readiness: supervise.Ready, ReadyWhen: readyAt}, "up (pid 5) 50 seconds, ready 20 seconds"},
		{supervise.Status{PID: 5, Want: 'u'}, supervise.Extra{Readiness: supervise.Checking, Restarts: 1}, "up (pid 5) 50 seconds, not ready, 1 restart"},
		{supervise.Status{PID: 5, Want: 'd'}, supervise.Extra{Readiness: supervise.CheckFailed, Restarts: 2}, "up (pid 5) 50 seconds, want down, check failed, 2 restarts"},
		{supervise.Status{PID: 5, Want: 'u'}, supervise.Extra{Exited: true, ExitCode: 1}, "up (pid 5) 50 seconds"},
		{supervise.Status{Want: 'd'}, supervise.Extra{Exited: true, ExitCode: 3}, "down 50 seconds, normally up, exited 3"},
		{supervise.Status{Want: 'u'}, supervise.Extra{Exited: true, ExitCode: -1, Signal: 11, Restarts: 7}, "down 50 seconds, normally up, want up, killed by signal 11, 7 restarts"},
		{supervise.Status{Want: 'u'}, supervise.Extra{}, "down 50 seconds, normally up, want up"},
		{supervise.Status{Want: 'u'}, supervise.Extra{Exited: true, ExitCode: 1, Backoff: 16, Restarts: 4}, "down 50 seconds, normally up, want up, exited 1, backing off 16 seconds, 4 restarts"},
		{supervise.Status{Want: 'u'}, supervise.Extra{Exited: true, ExitCode: 2, GaveUp: 5, Restarts: 4}, "down 50 seconds, normally up, want up, exited 2, gave up after 5 fast exits, 4 restarts"},
		{supervise.Status{Want: 'u'}, supervise.Extra{Exited: true, ExitCode: 3, GaveUp: 1}, "down 50 seconds, normally up, want up, exited 3, gave up after 1 fast exit"},
	} {
		c.st.When, c.ex.Status = when, when
		dir := fakeService(t, root, fmt.Sprint(len(c.want), c.st.Want, c.ex.Restarts, c.ex.ExitCode), c.st, false)
		must(t, os.WriteFile(supervise.ExtraPath(dir), c.ex.Append(nil), 0o644))
		var out bytes.Buffer
		run([]string{dir}, &out, func() time.Time { return now })
		if got := strings.TrimPrefix(out.String(), dir+": "); got != c.want+"\n" {
			t.Errorf("%+v %+v:\n got %q\nwant %q", c.st, c.ex, got, c.want)
		}
	}
}
