package campaign

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/taikit/taikit/supervise"
)

// svCrashLoop runs a service whose run exits 1 at once under taikit's
// supervise, and under daemontools' beside it when installed, for 15 s
// (3 minutes in the long form). Each start of run appends a line to a
// file, so the starts are counted from outside. The restart rate must
// stay at about one a second (daemontools' throttle), the restart count
// in supervise/extra must agree with the starts, and supervise's own CPU
// time over the period must be close to nothing.
func svCrashLoop(t *testing.T, tools svTools) {
	period := svPick(15*time.Second, 3*time.Minute)
	root := svRoot(t)

	type loop struct {
		name, prog, dir, starts string
		sup                     *svProc
		cpu0                    svCPU
		starts0                 int
		rss0                    int
	}
	loops := []*loop{{name: "taikit", prog: tools.supervise}}
	if _, err := os.Stat("/usr/bin/supervise"); err == nil {
		loops = append(loops, &loop{name: "daemontools", prog: "/usr/bin/supervise"})
	} else {
		t.Logf("/usr/bin/supervise is not installed (apt-get install daemontools): measuring taikit's supervise alone")
	}
	for _, l := range loops {
		l.dir = filepath.Join(root, l.name, "crasher")
		l.starts = filepath.Join(root, l.name, "starts")
		svWriteScript(t, filepath.Join(l.dir, "run"), "echo start >>../starts\nexit 1")
		l.sup = svStart(t, filepath.Dir(l.dir), tools.svPath(), l.prog, "crasher")
	}
	// Measure from the first start on, so that supervise's own start-up
	// (making supervise/, the FIFOs) is not counted.
	for _, l := range loops {
		svWait(t, l.name+" supervise to start run", func() bool { return svCountLines(l.starts) >= 1 })
	}
	began := time.Now()
	for _, l := range loops {
		l.cpu0, l.starts0, l.rss0 = svCPUOf(l.sup.pid()), svCountLines(l.starts), svRSS(l.sup.pid())
	}
	time.Sleep(period)
	wall := time.Since(began)

	for _, l := range loops {
		if l.sup.exited() {
			t.Fatalf("%s supervise died during the crash loop; stderr:\n%s", l.name, l.sup.stderr())
		}
		cpu := svCPUOf(l.sup.pid()).sub(l.cpu0)
		starts := svCountLines(l.starts) - l.starts0
		rate := float64(starts) / wall.Seconds()
		svFigure(t, "%s supervise: %d starts of a run that exits 1 at once in %.1f s = %.2f/s; supervise CPU %v = %.3f%% of one CPU (%.2f ms per restart); RSS %d→%d KiB; %d bytes on stderr",
			l.name, starts, wall.Seconds(), rate, cpu, cpu.percent(wall), float64(cpu.sched)/float64(time.Millisecond)/float64(max(starts, 1)),
			l.rss0, svRSS(l.sup.pid()), len(l.sup.stderr()))

		// The throttle allows one start a second; a start may fall on
		// either edge of the period.
		if limit := int(wall.Seconds()) + 2; starts > limit {
			t.Errorf("%s supervise started run %d times in %v: more than about once a second (limit %d)", l.name, starts, wall.Round(time.Millisecond), limit)
		}
		if l.name != "taikit" {
			continue
		}
		// It must keep restarting, even on a loaded machine.
		if floor := int(wall.Seconds() / 3); starts < floor {
			t.Errorf("taikit supervise started run only %d times in %v: it gave up or stalls (want at least %d)", starts, wall.Round(time.Millisecond), floor)
		}
		// ≈ 0: a restart costs a fork, an exec and two small files. Two
		// percent of a CPU is far above that and far below a busy loop.
		if pct := cpu.percent(wall); pct > 2 {
			t.Errorf("taikit supervise used %v of CPU in %v (%.2f%% of a CPU) while run crash-looped: want about nothing", cpu, wall.Round(time.Millisecond), pct)
		}
		// supervise/extra counts the automatic restarts: every start but
		// the first. Read it with the status record it goes with.
		total := svCountLines(l.starts)
		st, err := supervise.ReadStatus(l.dir)
		if err != nil {
			t.Fatal(err)
		}
		ex, err := supervise.ReadExtra(l.dir)
		if err != nil {
			t.Fatal(err)
		}
		if total2 := svCountLines(l.starts); ex.Matches(st) && (ex.Restarts < total-2 || ex.Restarts > total2) {
			t.Errorf("supervise/extra says %d restarts; run was started %d–%d times", ex.Restarts, total, total2)
		}
		if ex.Matches(st) && (!ex.Exited || ex.ExitCode != 1) && st.PID == 0 {
			t.Errorf("supervise/extra says exited=%v code %d; run exits 1", ex.Exited, ex.ExitCode)
		}
		if bad := strings.TrimSpace(l.sup.stderr()); bad != "" {
			t.Logf("taikit supervise said:\n%s", bad)
		}
	}
}

// svRSS returns the resident set of pid in KiB from /proc, or -1.
func svRSS(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for l := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			var kb int
			fmt.Sscanf(strings.TrimSpace(v), "%d", &kb)
			return kb
		}
	}
	return -1
}
