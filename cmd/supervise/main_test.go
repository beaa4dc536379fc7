package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/taikit/taikit/internal/testref"
	"github.com/taikit/taikit/supervise"
	"github.com/taikit/taikit/tai64n"
)

func TestMain(m *testing.M) { testref.TestMainOr(m, main) }

const patience = 15 * time.Second

// proc is a supervise process (ours or daemontools') started in root on
// the service named svc; it and everything it started are killed when the
// test ends.
type proc struct {
	cmd    *exec.Cmd
	stderr *testref.Buffer
	done   chan struct{}
}

func startSupervise(t *testing.T, root, path string, env ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(path, "svc"), stderr: &testref.Buffer{}, done: make(chan struct{})}
	p.cmd.Dir = root
	p.cmd.Env = testref.Environ(env...)
	p.cmd.Stderr = p.stderr
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	})
	return p
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func ours(t *testing.T, root string) *proc {
	return startSupervise(t, root, testref.Self(t), testref.BeCommand)
}

// newService makes root/svc with a run that records its pid and sleeps.
func newService(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "svc")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeScript(t, dir, "run", "echo $$ > pid\nexec sleep 1000")
	return root
}

func writeScript(t *testing.T, dir, name, body string) {
	t.Helper()
	tmp := filepath.Join(dir, "."+name)
	if err := os.WriteFile(tmp, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

// ref runs a daemontools program in root.
func ref(t *testing.T, root, prog string, args ...string) testref.Result {
	t.Helper()
	return testref.Exec(t, nil, nil, "/bin/sh", append([]string{"-c", `cd "$1" && shift && exec "$@"`, "sh", root, prog}, args...)...)
}

// waitSvstat waits until daemontools' svstat's line matches re and
// returns the submatches.
func waitSvstat(t *testing.T, root, re string) []string {
	t.Helper()
	rx := regexp.MustCompile("^svc: " + re + "\n$")
	var m []string
	var last string
	deadline := time.Now().Add(patience)
	for m = rx.FindStringSubmatch(last); m == nil; m = rx.FindStringSubmatch(last) {
		if time.Now().After(deadline) {
			t.Fatalf("svstat says %q, waited for %q", last, re)
		}
		time.Sleep(20 * time.Millisecond)
		last = string(ref(t, root, "/usr/bin/svstat", "svc").Stdout)
	}
	return m
}

func svc(t *testing.T, root string, args ...string) {
	t.Helper()
	if r := ref(t, root, "/usr/bin/svc", append(args, "svc")...); r.Code != 0 || len(r.Stderr) != 0 {
		t.Fatalf("svc %v: exit %d, %s", args, r.Code, r.Stderr)
	}
}

// TestDrivenByDaemontools: our supervise under daemontools' svc, svstat
// and svok, through every command.
func TestDrivenByDaemontools(t *testing.T) {
	for _, p := range []string{"/usr/bin/svc", "/usr/bin/svstat", "/usr/bin/svok"} {
		testref.Need(t, p)
	}
	root := newService(t)
	p := ours(t, root)
	pid := waitSvstat(t, root, `up \(pid (\d+)\) \d+ seconds`)[1]
	if r := ref(t, root, "/usr/bin/svok", "svc"); r.Code != 0 {
		t.Fatalf("svok: %d", r.Code)
	}
	svc(t, root, "-p")
	waitSvstat(t, root, `up \(pid `+pid+`\) \d+ seconds, paused`)
	svc(t, root, "-c")
	waitSvstat(t, root, `up \(pid `+pid+`\) \d+ seconds`)
	for _, c := range []string{"-k", "-t"} {
		svc(t, root, c)
		old := pid
		testref.WaitFor(t, "a restart after svc "+c, func() bool {
			pid = waitSvstat(t, root, `up \(pid (\d+)\) \d+ seconds`)[1]
			return pid != old
		})
	}
	svc(t, root, "-d")
	waitSvstat(t, root, `down \d+ seconds, normally up`)
	svc(t, root, "-o")
	waitSvstat(t, root, `up \(pid \d+\) \d+ seconds`)
	svc(t, root, "-k")
	waitSvstat(t, root, `down \d+ seconds, normally up`)
	svc(t, root, "-u")
	waitSvstat(t, root, `up \(pid \d+\) \d+ seconds`)
	svc(t, root, "-x")
	time.Sleep(200 * time.Millisecond)
	if p.exited() {
		t.Fatal("supervise exited on x with run up")
	}
	svc(t, root, "-d")
	testref.WaitFor(t, "supervise to exit after x and d", p.exited)
	if code := p.cmd.ProcessState.ExitCode(); code != 0 || p.stderr.String() != "" {
		t.Fatalf("exit %d, stderr %q", code, p.stderr.String())
	}
	waitSvstat(t, root, `supervise not running`)
	if r := ref(t, root, "/usr/bin/svok", "svc"); r.Code != 100 {
		t.Fatalf("svok after exit: %d", r.Code)
	}
}

// TestStatusBytes checks the record field by field against what is known
// of the process: its pid, the clock, pause and want.
func TestStatusBytes(t *testing.T) {
	root := newService(t)
	ours(t, root)
	dir := filepath.Join(root, "svc")
	var pid int
	testref.WaitFor(t, "run's pid", func() bool {
		b, _ := os.ReadFile(filepath.Join(dir, "pid"))
		_, err := fmt.Sscan(string(b), &pid)
		return err == nil
	})
	testref.WaitFor(t, "status with that pid", func() bool { st, _ := supervise.ReadStatus(dir); return st.PID == pid })
	if err := supervise.Control(dir, "p"); err != nil {
		t.Fatal(err)
	}
	var raw []byte
	testref.WaitFor(t, "paused", func() bool { raw, _ = os.ReadFile(supervise.StatusPath(dir)); return len(raw) == 18 && raw[16] == 1 })
	now := tai64n.FromTime(time.Now(), tai64n.Daemontools).Sec
	want := []byte{byte(pid), byte(pid >> 8), byte(pid >> 16), byte(pid >> 24), 1, 'u'}
	if !bytes.Equal(raw[12:], want) {
		t.Errorf("bytes 12–17 % x, want % x", raw[12:], want)
	}
	sec := uint64(raw[0])<<56 | uint64(raw[1])<<48 | uint64(raw[2])<<40 | uint64(raw[3])<<32 | uint64(raw[4])<<24 | uint64(raw[5])<<16 | uint64(raw[6])<<8 | uint64(raw[7])
	nano := uint32(raw[8])<<24 | uint32(raw[9])<<16 | uint32(raw[10])<<8 | uint32(raw[11])
	if sec > now || now-sec > 60 || nano >= 1e9 {
		t.Errorf("stamp %x.%x, now %x", sec, nano, now)
	}
}

// TestHandover: a directory left by daemontools' supervise is taken over
// by ours and the other way round: same lock, FIFOs and records.
func TestHandover(t *testing.T) {
	testref.Need(t, "/usr/bin/supervise")
	testref.Need(t, "/usr/bin/svc")
	root := newService(t)
	theirs := startSupervise(t, root, "/usr/bin/supervise")
	waitSvstat(t, root, `up \(pid \d+\) \d+ seconds`)
	// Each refuses to run beside the other, with the same message.
	mine := ours(t, root)
	testref.WaitFor(t, "ours to refuse", mine.exited)
	if got, want := mine.stderr.String(), "supervise: fatal: unable to acquire svc/supervise/lock: temporary failure\n"; got != want || mine.cmd.ProcessState.ExitCode() != 111 {
		t.Fatalf("ours beside theirs: exit %d, %q; want 111, %q", mine.cmd.ProcessState.ExitCode(), got, want)
	}
	svc(t, root, "-dx")
	testref.WaitFor(t, "theirs to exit", theirs.exited)

	mine = ours(t, root)
	waitSvstat(t, root, `up \(pid \d+\) \d+ seconds`)
	theirs = startSupervise(t, root, "/usr/bin/supervise")
	testref.WaitFor(t, "theirs to refuse", theirs.exited)
	if got := theirs.stderr.String(); got != "supervise: fatal: unable to acquire svc/supervise/lock: temporary failure\n" {
		t.Fatalf("theirs beside ours: %q", got)
	}
	svc(t, root, "-dx")
	testref.WaitFor(t, "ours to exit", mine.exited)
	theirs = startSupervise(t, root, "/usr/bin/supervise")
	waitSvstat(t, root, `up \(pid \d+\) \d+ seconds`)
	svc(t, root, "-dx")
	testref.WaitFor(t, "theirs to exit", theirs.exited)
}

// TestMessages compares usage and failures with daemontools' supervise.
func TestMessages(t *testing.T) {
	testref.Need(t, "/usr/bin/supervise")
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "file"), nil, 0o644)
	os.Mkdir(filepath.Join(root, "loop"), 0o755)
	os.Symlink("down", filepath.Join(root, "loop", "down")) // stat fails: ELOOP
	os.Mkdir(filepath.Join(root, "blocked"), 0o755)
	os.WriteFile(filepath.Join(root, "blocked", "supervise"), nil, 0o644) // not a directory
	for _, args := range [][]string{{}, {"a", "b"}, {"missing"}, {"file"}, {"loop"}, {"blocked"}} {
		theirs := ref(t, root, "/usr/bin/supervise", args...)
		var stderr bytes.Buffer
		wd, _ := os.Getwd()
		os.Chdir(root)
		code := run(args, &stderr)
		os.Chdir(wd)
		if code != theirs.Code || stderr.String() != string(theirs.Stderr) {
			t.Errorf("%q: ours exit %d %q; theirs exit %d %q", args, code, stderr.String(), theirs.Code, theirs.Stderr)
		}
	}
}

// TestRenamedAndRemoved: supervise works inside its directory, so a
// rename does not disturb it; a removal ends it once run has exited.
func TestRenamedAndRemoved(t *testing.T) {
	root := newService(t)
	p := ours(t, root)
	dir := filepath.Join(root, "svc")
	testref.WaitFor(t, "up", func() bool { st, _ := supervise.ReadStatus(dir); return st.Up() })
	moved := filepath.Join(root, "moved")
	if err := os.Rename(dir, moved); err != nil {
		t.Fatal(err)
	}
	if err := supervise.Control(moved, "k"); err != nil {
		t.Fatal(err)
	}
	pid := 0
	b, _ := os.ReadFile(filepath.Join(moved, "pid"))
	fmt.Sscan(string(b), &pid)
	testref.WaitFor(t, "restart in the moved directory", func() bool { st, _ := supervise.ReadStatus(moved); return st.Up() && st.PID != pid })
	st, _ := supervise.ReadStatus(moved)
	// supervise may be writing its status beside RemoveAll ("directory
	// not empty" when a file appears behind it): remove until gone.
	testref.WaitFor(t, "the directory removed", func() bool { return os.RemoveAll(moved) == nil })
	syscall.Kill(st.PID, syscall.SIGTERM)
	testref.WaitFor(t, "supervise to exit", p.exited)
	if got := p.stderr.String(); !strings.Contains(got, "supervise: warning: svc has been removed; exiting\n") || p.cmd.ProcessState.ExitCode() != 0 {
		t.Fatalf("exit %d, stderr %q", p.cmd.ProcessState.ExitCode(), got)
	}
}

// TestBackoffUnderDaemontools: a service with a backoff file, under our
// supervise, gives up after two fast exits; daemontools' svstat still
// reads the record (down, want up), ours says it gave up, and daemontools'
// svc -u starts run again.
func TestBackoffUnderDaemontools(t *testing.T) {
	for _, p := range []string{"/usr/bin/svc", "/usr/bin/svstat"} {
		testref.Need(t, p)
	}
	root := t.TempDir()
	dir := filepath.Join(root, "svc")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeScript(t, dir, "run", "echo >> starts\nexit 1")
	if err := os.WriteFile(filepath.Join(dir, "backoff"), []byte("1 60 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	starts := func() int { b, _ := os.ReadFile(filepath.Join(dir, "starts")); return len(b) }
	p := ours(t, root)
	testref.WaitFor(t, "the give-up", func() bool {
		return strings.Contains(supervise.Describe(dir, time.Now()), "gave up")
	})
	if d := supervise.Describe(dir, time.Now()); !regexp.MustCompile(`^down \d+ seconds, normally up, want up, exited 1, gave up after 2 fast exits, 1 restart$`).MatchString(d) {
		t.Errorf("our svstat: %q", d)
	}
	waitSvstat(t, root, `down \d+ seconds, normally up, want up`)
	if n := starts(); n != 2 {
		t.Errorf("run started %d times, want 2", n)
	}
	if want := "supervise: warning: svc/run exited 2 times in a row sooner than 60 seconds after it started; not starting it again until svc -u\n"; p.stderr.String() != want {
		t.Errorf("stderr %q, want %q", p.stderr.String(), want)
	}
	svc(t, root, "-u")
	testref.WaitFor(t, "a start after daemontools' svc -u", func() bool { return starts() == 3 })
}
