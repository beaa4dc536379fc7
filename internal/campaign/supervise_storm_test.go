package campaign

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

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
// valid 18-byte record, and once the storm ends the service must be in
// the state the last command asked for: down with no child left, or up
// with exactly one run. The same storm is sent to daemontools' supervise
// when it is installed, as a reference.
func svControlStorm(t *testing.T, tools svTools) {
	direct := svPick(20_000, 500_000)
	viaSvc := svPick(300, 5_000)
	root := svRoot(t)
	sups := []struct{ name, prog string }{{"taikit", tools.supervise}}
	if _, err := os.Stat("/usr/bin/supervise"); err == nil {
		sups = append(sups, struct{ name, prog string }{"daemontools", "/usr/bin/supervise"})
	}
	var wg sync.WaitGroup
	for _, s := range sups {
		dir := filepath.Join(root, s.name, "storm")
		svWriteScript(t, filepath.Join(dir, "run"), "exec sleep 100000")
		sup := svStart(t, filepath.Dir(dir), tools.svPath(), s.prog, "storm")
		svWait(t, s.name+" supervise to start run", func() bool {
			st, err := supervise.ReadStatus(dir)
			return err == nil && st.PID != 0
		})
		wg.Add(1)
		go func() {
			defer wg.Done()
			svStorm(t, tools, s.name, dir, sup, direct, viaSvc)
		}()
	}
	wg.Wait()
}

// svStorm is the storm against one supervise: two rounds, one ending
// with d and one with u, each checked.
func svStorm(t *testing.T, tools svTools, name, dir string, sup *svProc, direct, viaSvc int) {
	reader := svReadStatusContinuously(t, dir)
	rnd := newSvRand(int64(len(name)))
	const letters = "tkdu"
	sent, full := 0, 0
	var svcFailures []string
	began := time.Now()
	for round, last := range []string{"d", "u"} {
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
				t.Errorf("%s: round %d: svc-like write: %v", name, round, err)
				return
			}
			sent++
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
			sent++
		}
		svCheckFinal(t, name, dir, sup, last)
		if sup.exited() {
			t.Fatalf("%s supervise died during the storm; stderr:\n%s", name, sup.stderr())
		}
	}
	storm := time.Since(began)
	reader.halt()
	svFigure(t, "%s supervise: %d command writes (%d via svc) in %v, %d waits on a full FIFO; %d reads of supervise/status, %d not a valid 18-byte record; final state matched the last command (d, then u)",
		name, sent, viaSvc, storm.Round(time.Millisecond), full, reader.reads, reader.bad)
	if reader.bad != 0 {
		t.Errorf("%s: %d of %d reads of supervise/status were not a valid record (first: %s)", name, reader.bad, reader.reads, reader.firstBad)
	}
	if len(svcFailures) > 0 {
		t.Errorf("%s: %d svc commands failed or said something, the first: %q", name, len(svcFailures), svcFailures[0])
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// svCheckFinal waits until the service is in the state the last command
// asked for and checks supervise's children: none after d, exactly run
// after u, and no zombie.
func svCheckFinal(t *testing.T, name, dir string, sup *svProc, last string) {
	t.Helper()
	var st supervise.Status
	svWait(t, name+" supervise to settle in the state of the last command "+last, func() bool {
		var err error
		st, err = supervise.ReadStatus(dir)
		if err != nil || st.Want != supervise.Want(last[0]) {
			return false
		}
		live, zombies := svChildren(sup.pid())
		if last == "d" {
			return st.PID == 0 && len(live) == 0 && zombies == 0
		}
		return st.PID != 0 && len(live) == 1 && live[0].pid == st.PID && zombies == 0
	})
	if last == "u" {
		info, ok := svInfo(st.PID)
		if !ok || len(info.argv) == 0 || filepath.Base(info.argv[0]) != "sleep" {
			t.Errorf("%s: after the storm the status names pid %d, which is %+v, not run", name, st.PID, info)
		}
	}
}
