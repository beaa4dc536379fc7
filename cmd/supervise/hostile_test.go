package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/taikit/taikit/internal/testref"
)

// TestControlRegularFileDown, beside daemontools' supervise: with a down
// file and supervise/control a regular file (as "echo u >
// svc/supervise/control" leaves before any supervisor ran), taikit's
// supervise died at once ("all goroutines are asleep"), every 5 seconds
// under svscan. daemontools' stays up (spinning on the file, which always
// reads as end of file) and takes svc's commands through it; ours replaces
// it by a FIFO, says so, and takes them too. Both then end on SIGTERM.
func TestControlRegularFileDown(t *testing.T) {
	testref.Need(t, "/usr/bin/supervise")
	testref.Need(t, "/usr/bin/svc")
	testref.Need(t, "/usr/bin/svstat")
	for _, prog := range []string{"ours", "/usr/bin/supervise"} {
		t.Run(filepath.Base(prog), func(t *testing.T) {
			root := newService(t)
			dir := filepath.Join(root, "svc")
			must(t, os.WriteFile(filepath.Join(dir, "down"), nil, 0o644))
			must(t, os.Mkdir(filepath.Join(dir, "supervise"), 0o700))
			must(t, os.WriteFile(filepath.Join(dir, "supervise", "control"), nil, 0o644))
			var p *proc
			if prog == "ours" {
				p = ours(t, root)
			} else {
				p = startSupervise(t, root, prog)
			}
			waitSvstat(t, root, `down \d+ seconds`)
			svc(t, root, "-u")
			waitSvstat(t, root, `up \(pid \d+\) \d+ seconds, normally down`)
			if p.exited() {
				t.Fatalf("supervise exited; stderr %q", p.stderr.String())
			}
			if prog == "ours" {
				want := "supervise: warning: svc/supervise/control is a regular file, not a FIFO: replaced it with a new FIFO\n"
				if got := p.stderr.String(); got != want {
					t.Errorf("stderr %q; want %q", got, want)
				}
			}
			p.cmd.Process.Signal(syscall.SIGTERM)
			// Not p.exited: Wait also waits for run, which shares the
			// standard error pipe.
			testref.WaitFor(t, "supervise to end on SIGTERM", func() bool { return gone(p.cmd.Process.Pid) })
		})
	}
}

// TestLockFIFO, beside daemontools' supervise: a FIFO at supervise/lock
// held ours in open(2) for ever; both now exit 111 at once, ours naming
// what the lock is.
func TestLockFIFO(t *testing.T) {
	testref.Need(t, "/usr/bin/supervise")
	for _, prog := range []string{"ours", "/usr/bin/supervise"} {
		t.Run(filepath.Base(prog), func(t *testing.T) {
			root := newService(t)
			dir := filepath.Join(root, "svc")
			must(t, os.Mkdir(filepath.Join(dir, "supervise"), 0o700))
			must(t, syscall.Mkfifo(filepath.Join(dir, "supervise", "lock"), 0o600))
			var p *proc
			if prog == "ours" {
				p = ours(t, root)
			} else {
				p = startSupervise(t, root, prog)
			}
			testref.WaitFor(t, "supervise to exit", p.exited)
			code := p.cmd.ProcessState.ExitCode()
			want := "supervise: fatal: unable to acquire svc/supervise/lock: "
			if prog == "ours" {
				want += "is a FIFO, not a regular file\n"
			} else {
				want += "device not configured\n"
			}
			if code != 111 || p.stderr.String() != want {
				t.Errorf("exit %d, stderr %q; want 111, %q", code, p.stderr.String(), want)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// gone reports whether process pid has ended (a zombie, or reaped).
func gone(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	i := strings.LastIndexByte(string(b), ')')
	return i < 0 || i+2 >= len(b) || b[i+2] == 'Z' || b[i+2] == 'X'
}
