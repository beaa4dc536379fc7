package testref

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Patience bounds every wait of the tests: long, because a wait ends as
// soon as what it waits for happens, and the machines running the tests
// are shared and noisy. It is only a bound on failure, never a way to let
// time pass.
const Patience = 60 * time.Second

// Failer is what WaitFor needs of a test: testing.TB has it, and so has
// the benchmark harness's stand-in (see internal/servertest).
type Failer interface {
	Helper()
	Fatalf(format string, args ...any)
}

// WaitFor polls cond until it holds, and fails the test, naming what it
// waited for, if Patience passes first. Tests wait for something the code
// does (a file, a status, a line, a process), never for time to pass.
func WaitFor(t Failer, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(Patience)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %v waiting for %s", Patience, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// ForProcs calls f for every process of the machine but this one, with
// its command line (NUL-separated, as /proc gives it) and working
// directory. Processes that end meanwhile are passed over.
func ForProcs(f func(pid int, cmdline []byte, cwd string)) {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil {
			continue
		}
		cwd, _ := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
		f(pid, cmdline, cwd)
	}
}

// FindProc returns a process whose command line begins with prefix
// (arguments separated by NUL bytes), or 0.
func FindProc(prefix string) int {
	found := 0
	ForProcs(func(pid int, cmdline []byte, _ string) {
		if bytes.HasPrefix(cmdline, []byte(prefix)) {
			found = pid
		}
	})
	return found
}

// KillUnder kills every process working under root or naming it on its
// command line, until none is left: services started by a supervise that
// made a session of their own escape a process-group kill, and a test's
// temporary root names everything it started.
func KillUnder(root string) {
	for range 100 {
		n := 0
		ForProcs(func(pid int, cmdline []byte, cwd string) {
			if strings.HasPrefix(cwd, root) || bytes.Contains(cmdline, []byte(root)) {
				syscall.Kill(pid, syscall.SIGKILL)
				n++
			}
		})
		if n == 0 {
			return
		}
		// Killed processes leave /proc once reaped; look again.
		time.Sleep(10 * time.Millisecond)
	}
}

// Receive waits for a value on ch (what a goroutine running a call that
// may hang sends when the call returns) and returns it, failing the test,
// naming what it waited for, if Patience passes first.
func Receive[T any](t testing.TB, what string, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(Patience):
		t.Fatalf("gave up after %v waiting for %s", Patience, what)
		panic("unreachable")
	}
}

// VmHWM returns the peak resident set, in KiB, of the running process pid
// (VmHWM of /proc/<pid>/status: the program's own, where ru_maxrss of a
// child started by fork and exec counts the parent's), or -1 when it
// cannot be read (the process has ended).
func VmHWM(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return -1
			}
			return kb
		}
	}
	return -1
}
