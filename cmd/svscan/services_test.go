package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/taikit/taikit/internal/testref"
)

// TestServiceExitingAtOnce: a run that exits at once is restarted by
// supervise at most once a second, svscan leaves that supervise alone, and
// neither spins.
func TestServiceExitingAtOnce(t *testing.T) {
	t.Parallel()
	tr := newTree(t)
	tr.installSupervise()
	starts := filepath.Join(tr.root, "starts")
	tr.write("quick/run", "#!/bin/sh\necho x >> "+starts+"\nexit 1\n", 0o755)
	s := tr.start("")
	dir := filepath.Join(tr.dir, "quick")
	testref.WaitFor(t, "the first start", func() bool { return statusPid(dir) != 0 || fileLines(starts) > 0 })
	sup := superviseOf(t, s.cmd.Process.Pid, "quick")
	before := cpuTicks(s.cmd.Process.Pid)
	const period = 4 * time.Second
	n0 := fileLines(starts)
	time.Sleep(period)
	n := fileLines(starts) - n0
	if n < 2 || n > int(period/time.Second)+1 {
		t.Errorf("%d starts in %v, want about one a second", n, period)
	}
	if again := superviseOf(t, s.cmd.Process.Pid, "quick"); again != sup {
		t.Errorf("supervise changed from %d to %d", sup, again)
	}
	if ticks := cpuTicks(s.cmd.Process.Pid) - before; ticks > 50 {
		t.Errorf("svscan used %d clock ticks in %v", ticks, period)
	}
	t.Logf("%d starts in %v", n, period)
}

// TestServiceDirectoryRemoved: svscan keeps the pipe of a service whose
// directory is gone while its supervise processes run, starts nothing new
// for it, and lets the pipe go once they are gone.
func TestServiceDirectoryRemoved(t *testing.T) {
	t.Parallel()
	tr := newTree(t)
	tr.installSupervise()
	tr.write("gone/run", "#!/bin/sh\nexec sleep 1000\n", 0o755)
	tr.write("gone/log/run", "#!/bin/sh\nexec cat > /dev/null\n", 0o755)
	tr.write("stays/run", "#!/bin/sh\nexec sleep 1000\n", 0o755)
	s := tr.start("")
	pid := s.cmd.Process.Pid
	// Each supervise running its run: taikit's exits rather than start
	// run in a directory that is gone.
	gone := filepath.Join(tr.dir, "gone")
	testref.WaitFor(t, "three supervise processes, each with its run up", func() bool {
		return len(children(pid)) == 3 && statusPid(gone) != 0 && statusPid(filepath.Join(gone, "log")) != 0 &&
			statusPid(filepath.Join(tr.dir, "stays")) != 0
	})
	pipes := pipesOf(pid)
	if len(pipes) != 2 {
		t.Fatalf("svscan holds %v, want both ends of one pipe", pipes)
	}
	sup, logSup := superviseOf(t, pid, "gone"), superviseOf(t, pid, "log")
	if err := os.RemoveAll(gone); err != nil {
		t.Fatal(err)
	}
	s.cmd.Process.Signal(syscall.SIGALRM)
	time.Sleep(500 * time.Millisecond)
	if got := pipesOf(pid); len(got) != 2 || len(children(pid)) != 3 {
		t.Fatalf("after removal: pipes %v, children %v", got, children(pid))
	}
	// Both supervise processes end (as svc -dx would make them): the
	// next pass forgets the service and closes its pipe.
	for _, p := range []int{sup, logSup} {
		syscall.Kill(p, syscall.SIGKILL)
	}
	testref.WaitFor(t, "the pipe to be closed", func() bool {
		s.cmd.Process.Signal(syscall.SIGALRM)
		time.Sleep(100 * time.Millisecond)
		return len(pipesOf(pid)) == 0
	})
	if c := children(pid); len(c) != 1 {
		t.Errorf("children %v, want only stays' supervise", c)
	}
	if e := s.stderr(); strings.Contains(e, "svscan:") {
		t.Errorf("stderr %q", e)
	}
}

// TestManyServices runs 200 services (half with a log) under one svscan,
// ours and daemontools', and reports memory and CPU. The supervise is the
// recording fake, so that only svscan's cost is measured.
func TestManyServices(t *testing.T) {
	bothSvscans(t, manyServices)
}

func manyServices(t *testing.T, prog string) {
	tr := newTree(t)
	tr.write("../bin/supervise", recorder, 0o755)
	const n = 200
	for i := range n {
		if i%2 == 0 {
			tr.mkdir(fmt.Sprintf("svc%03d/log", i))
		} else {
			tr.mkdir(fmt.Sprintf("svc%03d", i))
		}
	}
	log := filepath.Join(tr.root, "starts")
	start := time.Now()
	s := tr.start(prog, "SCANLOG="+log, "SCANDIR="+tr.dir)
	pid := s.cmd.Process.Pid
	testref.WaitFor(t, "every supervise", func() bool { return fileLines(log) >= n+n/2 })
	startup := time.Since(start)
	ticks0, cpu0 := cpuTicks(pid), cpuTime(pid)
	// At least one pass of the five-second clock, with nothing to do.
	const idle = 5500 * time.Millisecond
	time.Sleep(idle)
	idleTicks, idleCPU := cpuTicks(pid)-ticks0, cpuTime(pid)-cpu0
	if got := fileLines(log); got != n+n/2 {
		t.Errorf("%d starts, want %d", got, n+n/2)
	}
	if got := len(pipesOf(pid)); got != n {
		t.Errorf("svscan holds %d pipe ends, want %d", got, n)
	}
	passes := ""
	if prog == "" {
		// Passes on demand: what one costs.
		const k = 20
		t0 := cpuTime(pid)
		for range k {
			s.cmd.Process.Signal(syscall.SIGALRM)
			time.Sleep(50 * time.Millisecond)
		}
		passes = fmt.Sprintf("; one pass (of %d on SIGALRM) %v", k, ((cpuTime(pid) - t0) / k).Round(time.Microsecond))
	}
	rss, hwm := procStatus(pid, "VmRSS"), procStatus(pid, "VmHWM")
	name := "taikit svscan"
	if prog != "" {
		name = prog
	}
	t.Logf("%s: %d services (%d supervise): all started in %v; VmRSS %d kB, VmHWM %d kB; CPU over %v idle: %v%s",
		name, n, n+n/2, startup.Round(time.Millisecond), rss, hwm, idle, idleCPU.Round(time.Microsecond), passes)
	if idleTicks > 100 {
		t.Errorf("svscan used %d clock ticks in %v with nothing to do", idleTicks, idle)
	}
	if e := s.stderr(); e != "" {
		t.Errorf("stderr %q", e)
	}
}

func fileLines(path string) int {
	b, _ := os.ReadFile(path)
	return strings.Count(string(b), "\n")
}

// children lists the pids whose parent is pid.
func children(pid int) []int {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	var out []int
	for f := range strings.FieldsSeq(string(b)) {
		c, _ := strconv.Atoi(f)
		out = append(out, c)
	}
	// A Go program's children may hang off any of its threads.
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	for _, task := range tasks {
		if task.Name() == strconv.Itoa(pid) {
			continue
		}
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", pid, task.Name()))
		for f := range strings.FieldsSeq(string(b)) {
			c, _ := strconv.Atoi(f)
			out = append(out, c)
		}
	}
	return out
}

// superviseOf returns the child of svscan whose last argument is arg.
func superviseOf(t *testing.T, svscan int, arg string) int {
	t.Helper()
	var found int
	testref.WaitFor(t, "supervise "+arg, func() bool {
		for _, c := range children(svscan) {
			b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", c))
			args := strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")
			if args[len(args)-1] == arg {
				found = c
				return true
			}
		}
		return false
	})
	return found
}

// pipesOf lists the pipe descriptors pid holds both ends of, as svscan
// holds its log pipes (a pipe it only inherited shows once).
func pipesOf(pid int) []string {
	fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	byPipe := map[string][]string{}
	for _, fd := range fds {
		l, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if strings.HasPrefix(l, "pipe:") {
			byPipe[l] = append(byPipe[l], fd.Name()+"="+l)
		}
	}
	var out []string
	for _, ends := range byPipe {
		if len(ends) == 2 {
			out = append(out, ends...)
		}
	}
	return out
}
