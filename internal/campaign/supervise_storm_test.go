package campaign

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/taikit/taikit/supervise"
)

// svStatusReader reads a service's supervise/status without pause until
// stopped, counting the reads that were not a valid 18-byte record.
type svStatusReader struct {
	path       string
	reads, bad int
	firstBad   string
	stop, done chan struct{}
}

func svReadStatusContinuously(t *testing.T, dir string) *svStatusReader {
	r := &svStatusReader{path: supervise.StatusPath(dir), stop: make(chan struct{}), done: make(chan struct{})}
	go func() { // owned by r: ends on halt
		defer close(r.done)
		for {
			select {
			case <-r.stop:
				return
			default:
			}
			b, err := os.ReadFile(r.path)
			r.reads++
			if err == nil && len(b) == supervise.StatusSize {
				_, err = supervise.DecodeStatus(b)
			} else if err == nil {
				err = errors.New("not 18 bytes")
			}
			if err != nil {
				r.bad++
				if r.firstBad == "" {
					r.firstBad = err.Error()
				}
			}
		}
	}()
	t.Cleanup(r.halt)
	return r
}

func (r *svStatusReader) halt() {
	select {
	case <-r.stop:
	default:
		close(r.stop)
	}
	<-r.done
}

// svControlStorm sends a supervise thousands of random t, k, d and u
// commands in a tight loop, straight into supervise/control and through
// our svc command, while another goroutine reads supervise/status without
// pause. supervise must never die, the status file must always be a
// valid 18-byte record, and once the queued commands are drained the
// service must be in the state the last command asked for: down with no
// child left, or up with exactly one run.
//
// The same storm goes to daemontools' supervise when it is installed, as
// a reference for the first two points only: daemontools sleeps a second
// after each start of run, so its queue of commands takes about a second
// per start to drain (hours for a storm like this one); what is left in
// it when taikit's is done is reported instead.
func svControlStorm(t *testing.T, tools svTools) {
	direct := svPick(1_000, 20_000)
	viaSvc := svPick(100, 2_000)
	root := svRoot(t)
	type target struct {
		name, prog, dir string
		sup             *svProc
	}
	targets := []*target{{name: "taikit", prog: tools.supervise}}
	if _, err := os.Stat("/usr/bin/supervise"); err == nil {
		targets = append(targets, &target{name: "daemontools", prog: "/usr/bin/supervise"})
	}
	for _, tg := range targets {
		tg.dir = filepath.Join(root, tg.name, "storm")
		svWriteScript(t, filepath.Join(tg.dir, "run"), "exec sleep 100000")
		tg.sup = svStart(t, filepath.Dir(tg.dir), tools.svPath(), tg.prog, "storm")
		svWait(t, tg.name+" supervise to start run", func() bool {
			st, err := supervise.ReadStatus(tg.dir)
			return err == nil && st.PID != 0
		})
	}
	var wg sync.WaitGroup
	for _, tg := range targets {
		wg.Add(1)
		go func() { // the storm against one supervise; wg waits for it
			defer wg.Done()
			svStorm(t, tools, tg.name, tg.dir, tg.sup, direct, viaSvc, tg.name == "taikit")
		}()
	}
	wg.Wait()
}

// svStorm is the storm against one supervise: two rounds, one ending
// with d and one with u. With settle, each round is followed by waiting
// for the queue to drain and checking the final state.
func svStorm(t *testing.T, tools svTools, name, dir string, sup *svProc, direct, viaSvc int, settle bool) {
	reader := svReadStatusContinuously(t, dir)
	rnd := newSvRand(int64(len(name)))
	const letters = "tkdu"
	writes, commands, full := 0, 0, 0
	var svcFailures []string
	var storming, draining time.Duration
	for round, last := range []string{"d", "u"} {
		began := time.Now()
		for range direct / 2 {
			cmds := make([]byte, 1+rnd.IntN(4))
			for i := range cmds {
				cmds[i] = letters[rnd.IntN(len(letters))]
			}
			err := supervise.Control(dir, string(cmds))
			if errors.Is(err, syscall.EAGAIN) {
				// The FIFO is full: supervise is behind. Not an
				// error for a storm; let it catch up.
				full++
				time.Sleep(time.Millisecond)
				continue
			}
			if err != nil {
				t.Errorf("%s: round %d: writing supervise/control: %v", name, round, err)
				return
			}
			writes++
			commands += len(cmds)
		}
		for i := range viaSvc / 2 {
			flags := make([]byte, 1+rnd.IntN(3))
			for i := range flags {
				flags[i] = letters[rnd.IntN(len(letters))]
			}
			if i == viaSvc/2-1 {
				flags = []byte(last) // the last command of the round
			}
			out, err := exec.Command(tools.svc, "-"+string(flags), dir).CombinedOutput()
			if err != nil || len(out) != 0 {
				svcFailures = append(svcFailures, string(out)+errString(err))
			}
			writes++
			commands += len(flags)
		}
		storming += time.Since(began)
		if sup.exited() {
			t.Fatalf("%s supervise died during the storm; stderr:\n%s", name, sup.stderr())
		}
		if !settle {
			continue
		}
		drainBegan := time.Now()
		svDrain(t, name, supervise.ControlPath(dir))
		draining += time.Since(drainBegan)
		svCheckFinal(t, name, dir, sup, last)
	}
	reader.halt()
	if sup.exited() {
		t.Fatalf("%s supervise died during the storm; stderr:\n%s", name, sup.stderr())
	}
	outcome := fmt.Sprintf("queue drained in %v (%.0f commands/s); final state matched the last command (d, then u)",
		draining.Round(time.Millisecond), float64(commands)/(storming+draining).Seconds())
	if !settle {
		outcome = fmt.Sprintf("%d commands still queued at the end (it sleeps 1 s after each start)", svFIFOPending(supervise.ControlPath(dir)))
	}
	svFigure(t, "%s supervise: %d commands in %d writes (%d by svc) in %v, %d waits on a full FIFO; %d reads of supervise/status, %d not a valid 18-byte record; %s",
		name, commands, writes, viaSvc, storming.Round(time.Millisecond), full, reader.reads, reader.bad, outcome)
	if reader.bad != 0 {
		t.Errorf("%s: %d of %d reads of supervise/status were not a valid record (first: %s)", name, reader.bad, reader.reads, reader.firstBad)
	}
	if len(svcFailures) > 0 {
		t.Errorf("%s: %d svc commands failed or said something, the first: %q", name, len(svcFailures), svcFailures[0])
	}
}

// svDrain waits until the FIFO at path is empty, failing the test if it
// stops draining for svPatience (a supervisor that stopped reading).
func svDrain(t *testing.T, name, path string) {
	t.Helper()
	low, lowAt := svFIFOPending(path), time.Now()
	for {
		n := svFIFOPending(path)
		switch {
		case n == 0:
			return
		case n < 0:
			t.Fatalf("%s: nobody reads %s any more", name, path)
		case n < low:
			low, lowAt = n, time.Now()
		case time.Since(lowAt) > svPatience:
			t.Fatalf("%s: %d commands have waited in %s for %v without one being read", name, n, path, svPatience)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// svCheckFinal waits until the service is in the state the last command
// asked for, and stays in it (same run) for longer than the restart
// throttle once the control FIFO is drained: a want that already matches
// while commands are still queued is not the end of the storm. It checks
// supervise's children too: none after d, exactly run after u, and no
// zombie.
func svCheckFinal(t *testing.T, name, dir string, sup *svProc, last string) {
	t.Helper()
	type state struct {
		st      supervise.Status
		live    string
		zombies int
	}
	var prev state
	var since time.Time
	svWait(t, name+" supervise to settle in the state of the last command "+last, func() bool {
		st, err := supervise.ReadStatus(dir)
		if err != nil || svFIFOPending(supervise.ControlPath(dir)) != 0 {
			since = time.Time{}
			return false
		}
		live, zombies := svChildren(sup.pid())
		cur := state{st: st, live: fmt.Sprint(live), zombies: zombies}
		ok := st.Want == supervise.Want(last[0]) && zombies == 0
		if last == "d" {
			ok = ok && st.PID == 0 && len(live) == 0
		} else {
			ok = ok && st.PID != 0 && len(live) == 1 && live[0].pid == st.PID
		}
		if !ok || cur != prev || since.IsZero() {
			prev, since = cur, time.Now()
			return false
		}
		return time.Since(since) > 1500*time.Millisecond
	})
	if last == "u" {
		info, ok := svInfo(prev.st.PID)
		if !ok || len(info.argv) == 0 || filepath.Base(info.argv[0]) != "sleep" {
			t.Errorf("%s: after the storm the status names pid %d, which is %+v, not run", name, prev.st.PID, info)
		}
	}
}

// svFIFOPending returns how many bytes wait in the FIFO at path, or -1
// when it cannot be opened (no reader).
func svFIFOPending(path string) int {
	fd, err := syscall.Open(path, syscall.O_WRONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		return -1
	}
	defer syscall.Close(fd)
	n, err := unix.IoctlGetInt(fd, unix.TIOCINQ)
	if err != nil {
		return -1
	}
	return n
}
