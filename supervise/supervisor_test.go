package supervise

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/taikit/taikit/errtext"
	"github.com/taikit/taikit/internal/testref"
)

// patience bounds every wait for a supervisor to act: generous, because
// the machine may be busy; tests finish as soon as the state is reached.
const patience = 15 * time.Second

// service makes a service directory whose run is the given shell script.
func service(t *testing.T, run string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "svc")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if run != "" {
		script(t, dir, "run", run)
	}
	return dir
}

// script writes an executable shell script name into dir, through a new
// name and a rename, so that no half-written file is ever executed.
func script(t *testing.T, dir, name, body string) {
	t.Helper()
	tmp := filepath.Join(dir, "."+name+".tmp")
	if err := os.WriteFile(tmp, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

// started runs a Supervisor on dir until the test ends and returns it with
// its warnings. The run is stopped (down and exit) at cleanup.
func started(t *testing.T, s *Supervisor) *testref.Buffer {
	t.Helper()
	warnings := &testref.Buffer{}
	if s.Name == "" {
		s.Name = s.Dir
	}
	s.Warnings = warnings
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(patience):
			t.Errorf("Run did not return after its context was cancelled")
		}
	})
	testref.WaitFor(t, "supervisor to be running", func() bool { ok, _ := Running(s.Dir); return ok })
	return warnings
}

func status(t *testing.T, dir string) Status {
	t.Helper()
	st, err := ReadStatus(dir)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func control(t *testing.T, dir, cmds string) {
	t.Helper()
	if err := Control(dir, cmds); err != nil {
		t.Fatal(err)
	}
}

// procState returns the state letter of a process from /proc (R, S, T...).
func procState(pid int) byte {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 || i+2 >= len(b) {
		return 0
	}
	return b[i+2]
}

func TestCommands(t *testing.T) {
	dir := service(t, "exec sleep 1000")
	started(t, &Supervisor{Dir: dir})
	testref.WaitFor(t, "run up", func() bool { return status(t, dir).Up() })
	st := status(t, dir)
	if st.Want != WantUp || st.Paused {
		t.Fatalf("after start: %+v", st)
	}
	pid := st.PID

	control(t, dir, "p")
	testref.WaitFor(t, "paused", func() bool { return status(t, dir).Paused && procState(pid) == 'T' })
	control(t, dir, "c")
	testref.WaitFor(t, "continued", func() bool { return !status(t, dir).Paused && procState(pid) != 'T' })

	control(t, dir, "k")
	testref.WaitFor(t, "restart after kill", func() bool { s := status(t, dir); return s.Up() && s.PID != pid })
	pid = status(t, dir).PID
	control(t, dir, "t")
	testref.WaitFor(t, "restart after term", func() bool { s := status(t, dir); return s.Up() && s.PID != pid })

	control(t, dir, "pd") // down must also wake a paused process
	testref.WaitFor(t, "down", func() bool { s := status(t, dir); return !s.Up() && s.Want == WantDown && !s.Paused })

	control(t, dir, "o")
	testref.WaitFor(t, "once up", func() bool { s := status(t, dir); return s.Up() && s.Want == WantNone })
	control(t, dir, "k")
	testref.WaitFor(t, "once not restarted", func() bool { return !status(t, dir).Up() })
	time.Sleep(1500 * time.Millisecond) // past the throttle: a restart would show now
	if s := status(t, dir); s.Up() {
		t.Fatalf("run started again after once: %+v", s)
	}
	ex, err := ReadExtra(dir)
	if err != nil || !ex.Exited || ex.Signal != int(syscall.SIGKILL) || ex.Restarts != 2 {
		t.Fatalf("extra %+v, %v: want the kill recorded and 2 restarts", ex, err)
	}
	if d := Describe(dir, time.Now()); !strings.HasPrefix(d, "down ") || !strings.HasSuffix(d, ", normally up, killed by signal 9, 2 restarts") {
		t.Errorf("Describe: %q", d)
	}
}

func TestSignals(t *testing.T) {
	dir := service(t, `for s in HUP ALRM INT; do trap "echo $s >> got" $s; done
trap "echo TERM >> got; exit 0" TERM
echo ready > started
while :; do sleep 0.05; done`)
	started(t, &Supervisor{Dir: dir})
	testref.WaitFor(t, "run up", func() bool { _, err := os.Stat(filepath.Join(dir, "started")); return err == nil })
	got := func() string { b, _ := os.ReadFile(filepath.Join(dir, "got")); return string(b) }
	for _, c := range []struct{ cmd, want string }{{"h", "HUP\n"}, {"a", "HUP\nALRM\n"}, {"i", "HUP\nALRM\nINT\n"}} {
		control(t, dir, c.cmd)
		testref.WaitFor(t, "signal from -"+c.cmd, func() bool { return got() == c.want })
	}
	control(t, dir, "d")
	testref.WaitFor(t, "down by TERM", func() bool { return !status(t, dir).Up() && strings.HasSuffix(got(), "TERM\n") })
}

func TestExit(t *testing.T) {
	dir := service(t, "exec sleep 1000")
	s := &Supervisor{Dir: dir, Name: dir, Warnings: &testref.Buffer{}}
	done := make(chan error, 1)
	go func() { done <- s.Run(context.Background()) }()
	testref.WaitFor(t, "run up", func() bool { st, err := ReadStatus(dir); return err == nil && st.Up() })
	control(t, dir, "x")
	select {
	case <-done:
		t.Fatal("supervise exited with run still up; daemontools waits for it to be down")
	case <-time.After(300 * time.Millisecond):
	}
	control(t, dir, "d")
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(patience):
		t.Fatal("supervise did not exit after x and d")
	}
	if ok, _ := Running(dir); ok {
		t.Error("supervise/ok still has a reader")
	}
	if st := status(t, dir); st.Up() || st.Want != WantDown {
		t.Errorf("final status %+v", st)
	}
}

func TestDownFile(t *testing.T) {
	dir := service(t, "exec sleep 1000")
	os.WriteFile(filepath.Join(dir, "down"), nil, 0o644)
	started(t, &Supervisor{Dir: dir})
	time.Sleep(300 * time.Millisecond)
	if st := status(t, dir); st.Up() || st.Want != WantDown {
		t.Fatalf("with down: %+v, want down and want d", st)
	}
	control(t, dir, "u")
	testref.WaitFor(t, "up", func() bool { return status(t, dir).Up() })
	if d := Describe(dir, time.Now()); !strings.Contains(d, ", normally down") {
		t.Errorf("Describe: %q", d)
	}
}

// TestThrottle: a run that exits at once is started at most once a second.
func TestThrottle(t *testing.T) {
	dir := service(t, "echo x >> starts; exit 1")
	begin := time.Now()
	started(t, &Supervisor{Dir: dir})
	starts := func() int { b, _ := os.ReadFile(filepath.Join(dir, "starts")); return strings.Count(string(b), "x") }
	testref.WaitFor(t, "three starts", func() bool { return starts() >= 3 })
	// A busy machine can only make starts fewer than one a second.
	n, elapsed := starts(), time.Since(begin)
	if max := int(elapsed/time.Second) + 1; n > max {
		t.Fatalf("%d starts in %v; want at most %d", n, elapsed, max)
	}
}

func TestRunMissingThenAdded(t *testing.T) {
	dir := service(t, "")
	begin := time.Now()
	warnings := started(t, &Supervisor{Dir: dir, Name: "svc"})
	testref.WaitFor(t, "two warnings", func() bool { return strings.Count(warnings.String(), "\n") >= 2 })
	n, elapsed := strings.Count(warnings.String(), "\n"), time.Since(begin)
	if n > int(elapsed/time.Second)+1 {
		t.Fatalf("%d attempts in %v: busy loop", n, elapsed)
	}
	if line, _, _ := strings.Cut(warnings.String(), "\n"); line != "supervise: warning: unable to start svc/run: file does not exist" {
		t.Fatalf("warning %q", line)
	}
	if st := status(t, dir); st.Up() || st.Want != WantUp {
		t.Fatalf("status %+v", st)
	}
	script(t, dir, "run", "exec sleep 1000")
	testref.WaitFor(t, "run up once it exists", func() bool { return status(t, dir).Up() })
}

func TestRunNotExecutable(t *testing.T) {
	dir := service(t, "")
	os.WriteFile(filepath.Join(dir, "run"), []byte("#!/bin/sh\nexec sleep 1000\n"), 0o644)
	warnings := started(t, &Supervisor{Dir: dir, Name: "svc"})
	testref.WaitFor(t, "a warning", func() bool { return warnings.String() != "" })
	if line, _, _ := strings.Cut(warnings.String(), "\n"); line != "supervise: warning: unable to start svc/run: access denied" {
		t.Fatalf("warning %q", line)
	}
	os.Chmod(filepath.Join(dir, "run"), 0o755)
	testref.WaitFor(t, "run up once executable", func() bool { return status(t, dir).Up() })
}

func TestSecondSupervisorRefused(t *testing.T) {
	dir := service(t, "exec sleep 1000")
	started(t, &Supervisor{Dir: dir})
	err := (&Supervisor{Dir: dir, Name: "svc"}).Run(context.Background())
	var fe *errtext.Error
	if !errors.As(err, &fe) || fe.Op != "unable to acquire" || fe.Path != "svc/supervise/lock" || !errors.Is(err, syscall.EAGAIN) {
		t.Fatalf("second supervisor: %v", err)
	}
	if err.Error() != "unable to acquire svc/supervise/lock: temporary failure" {
		t.Errorf("message %q", err.Error())
	}
}

func TestFiles(t *testing.T) {
	dir := service(t, "exec sleep 1000")
	started(t, &Supervisor{Dir: dir})
	for name, mode := range map[string]os.FileMode{
		"supervise": os.ModeDir | 0o700, "supervise/lock": 0o600,
		"supervise/control": os.ModeNamedPipe | 0o600, "supervise/ok": os.ModeNamedPipe | 0o600,
	} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode() & (os.ModeType | 0o777); got != mode {
			t.Errorf("%s: mode %v, want %v", name, got, mode)
		}
	}
	fi, err := os.Stat(StatusPath(dir))
	if err != nil || fi.Size() != StatusSize {
		t.Fatalf("status: %v %v", fi, err)
	}
}

func TestDebianSupervisorLink(t *testing.T) {
	dir := service(t, "exec sleep 1000")
	target := filepath.Join(t.TempDir(), "sup")
	os.Symlink(target, filepath.Join(dir, "supervise"))
	started(t, &Supervisor{Dir: dir})
	if _, err := os.Stat(filepath.Join(target, "status")); err != nil {
		t.Fatalf("the link's target was not made and used: %v", err)
	}
}

func TestDirectoryRemoved(t *testing.T) {
	dir := service(t, "exec sleep 1000")
	s := &Supervisor{Dir: dir, Name: "svc", Warnings: &testref.Buffer{}}
	done := make(chan error, 1)
	go func() { done <- s.Run(context.Background()) }()
	testref.WaitFor(t, "run up", func() bool { st, err := ReadStatus(dir); return err == nil && st.Up() })
	pid := status(t, dir).PID
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	syscall.Kill(pid, syscall.SIGTERM)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(patience):
		syscall.Kill(pid, syscall.SIGKILL)
		t.Fatal("supervise still runs after its directory was removed and run exited")
	}
	if w := s.Warnings.(*testref.Buffer).String(); !strings.Contains(w, "supervise: warning: svc has been removed; exiting\n") {
		t.Errorf("warnings %q", w)
	}
}

func TestReadinessCheck(t *testing.T) {
	dir := service(t, "sleep 0.3; touch listening; exec sleep 1000")
	script(t, dir, "check", "test -e listening")
	started(t, &Supervisor{Dir: dir})
	testref.WaitFor(t, "up", func() bool { return status(t, dir).Up() })
	extra := func() Extra { e, _ := ReadExtra(dir); return e }
	if e := extra(); e.Readiness != Checking && e.Readiness != Ready {
		t.Fatalf("just started: %+v", e)
	}
	testref.WaitFor(t, "ready", func() bool { return extra().Readiness == Ready })
	st := status(t, dir)
	if e := extra(); !e.Matches(st) || e.ReadyWhen.Before(st.When) {
		t.Fatalf("ready %+v for %+v", e, st)
	}
	if d := Describe(dir, time.Now()); !strings.Contains(d, " seconds, ready ") {
		t.Errorf("Describe: %q", d)
	}
	// An automatic restart is checked again.
	os.Remove(filepath.Join(dir, "listening"))
	control(t, dir, "k")
	testref.WaitFor(t, "restarted", func() bool { s := status(t, dir); return s.Up() && s.PID != st.PID })
	testref.WaitFor(t, "ready again", func() bool {
		e := extra()
		return e.Readiness == Ready && e.Matches(status(t, dir)) && e.Restarts == 1
	})
	if _, err := os.Stat(filepath.Join(dir, "listening")); err != nil {
		t.Fatal("ready before run made its file: check was not run again")
	}
}

func TestReadinessTimeout(t *testing.T) {
	dir := service(t, "exec sleep 1000")
	script(t, dir, "check", "exit 1")
	warnings := started(t, &Supervisor{Dir: dir, Name: "svc", CheckTimeout: 400 * time.Millisecond})
	testref.WaitFor(t, "check failed", func() bool { e, _ := ReadExtra(dir); return e.Readiness == CheckFailed })
	if !strings.Contains(warnings.String(), "supervise: warning: svc/check did not succeed within 400ms\n") {
		t.Errorf("warnings %q", warnings.String())
	}
	if d := Describe(dir, time.Now()); !strings.HasSuffix(d, ", check failed") {
		t.Errorf("Describe: %q", d)
	}
}

func TestReadinessHangingCheck(t *testing.T) {
	dir := service(t, "exec sleep 1000")
	script(t, dir, "check", "echo $$ > checkpid; exec sleep 1000")
	started(t, &Supervisor{Dir: dir, CheckTimeout: 300 * time.Millisecond})
	testref.WaitFor(t, "check failed", func() bool { e, _ := ReadExtra(dir); return e.Readiness == CheckFailed })
	b, _ := os.ReadFile(filepath.Join(dir, "checkpid"))
	var pid int
	fmt.Sscan(string(b), &pid)
	testref.WaitFor(t, "hanging check killed", func() bool { return pid > 0 && syscall.Kill(pid, 0) != nil })
}

func TestFinish(t *testing.T) {
	dir := service(t, `test -e crashed || { touch crashed; exit 3; }; exec sleep 1000`)
	script(t, dir, "finish", `echo "$1 $2" >> finished`)
	started(t, &Supervisor{Dir: dir})
	finished := func() string { b, _ := os.ReadFile(filepath.Join(dir, "finished")); return string(b) }
	testref.WaitFor(t, "finish after exit 3", func() bool { return finished() == "3 0\n" })
	testref.WaitFor(t, "restarted", func() bool { return status(t, dir).Up() })
	control(t, dir, "k")
	testref.WaitFor(t, "finish after kill", func() bool { return finished() == "3 0\n-1 9\n" })
	testref.WaitFor(t, "restarted", func() bool { return status(t, dir).Up() })
	if e, _ := ReadExtra(dir); e.Restarts != 2 {
		t.Errorf("restarts %d, want 2", e.Restarts)
	}
}

// TestFinishDelaysRestart: run is not started again while finish runs, and
// a finish that hangs is killed.
func TestFinishDelaysRestart(t *testing.T) {
	// Each start records when it began, in nanoseconds.
	dir := service(t, "date +%s%N >> starts; exit 0")
	script(t, dir, "finish", "exec sleep 1000")
	const finishTimeout = 1500 * time.Millisecond
	warnings := started(t, &Supervisor{Dir: dir, Name: "svc", FinishTimeout: finishTimeout})
	var starts []string
	testref.WaitFor(t, "second start after finish was killed", func() bool {
		b, _ := os.ReadFile(filepath.Join(dir, "starts"))
		starts = strings.Fields(string(b))
		return len(starts) >= 2
	})
	first, _ := strconv.ParseInt(starts[0], 10, 64)
	second, _ := strconv.ParseInt(starts[1], 10, 64)
	// A busy machine can only make the gap longer.
	if gap := time.Duration(second - first); gap < finishTimeout {
		t.Fatalf("run started again %v after its first start, while finish ran (finish timeout %v)", gap, finishTimeout)
	}
	if !strings.Contains(warnings.String(), "supervise: warning: svc/finish did not exit within 1.5s; killing it\n") {
		t.Errorf("warnings %q", warnings.String())
	}
}

// TestExitWaitsForFinish: after x, supervise returns only once finish has
// run to its end, and does not start run again.
func TestExitWaitsForFinish(t *testing.T) {
	dir := service(t, "echo x >> starts; exit 0")
	os.WriteFile(filepath.Join(dir, "down"), nil, 0o644)
	script(t, dir, "finish", "touch finishing; sleep 1; touch finished")
	s := &Supervisor{Dir: dir, Name: dir, Warnings: &testref.Buffer{}}
	done := make(chan error, 1)
	go func() { done <- s.Run(context.Background()) }()
	testref.WaitFor(t, "supervisor", func() bool { ok, _ := Running(dir); return ok })
	control(t, dir, "u")
	testref.WaitFor(t, "finish running", func() bool { _, err := os.Stat(filepath.Join(dir, "finishing")); return err == nil })
	control(t, dir, "x")
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(patience):
		t.Fatal("supervise did not exit after x")
	}
	if _, err := os.Stat(filepath.Join(dir, "finished")); err != nil {
		t.Error("supervise exited before finish did")
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "starts")); string(b) != "x\n" {
		t.Errorf("starts %q: run started again after x", b)
	}
}

// TestExtraRewrittenOnlyWhenChanged: a command that changes only the
// status record (pause, continue) leaves supervise/extra as it was, while
// the status record is replaced; a new run replaces both.
func TestExtraRewrittenOnlyWhenChanged(t *testing.T) {
	dir := service(t, "exec sleep 1000")
	started(t, &Supervisor{Dir: dir})
	testref.WaitFor(t, "run up", func() bool { return status(t, dir).Up() })
	inode := func(name string) uint64 {
		fi, err := os.Stat(filepath.Join(dir, "supervise", name))
		if err != nil {
			t.Fatal(err)
		}
		return fi.Sys().(*syscall.Stat_t).Ino
	}
	extra, stat := inode("extra"), inode("status")
	control(t, dir, "p")
	testref.WaitFor(t, "paused", func() bool { return status(t, dir).Paused })
	if inode("status") == stat {
		t.Fatalf("the status record was not replaced for a pause")
	}
	if inode("extra") != extra {
		t.Errorf("supervise/extra was rewritten for a pause, which does not change it")
	}
	pid := status(t, dir).PID
	control(t, dir, "ck")
	testref.WaitFor(t, "restart", func() bool { s := status(t, dir); return s.Up() && s.PID != pid })
	if inode("extra") == extra {
		t.Errorf("supervise/extra was not rewritten for a new run")
	}
	if ex, err := ReadExtra(dir); err != nil || !ex.Matches(status(t, dir)) {
		t.Errorf("extra %+v, %v does not go with the status record", ex, err)
	}
}
