package campaign

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/taikit/taikit/supervise"
	"github.com/taikit/taikit/tai64n"
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

// svCrashLoopBackoff measures what a backoff file saves while run fails at
// once: taikit's supervise on a run that exits 1 at once, first without a
// backoff file (daemontools' rule: a start a second), then with "1 300",
// for 4 s each (10 minutes each in the long form), one after the other so
// that the machine's figure belongs to one case. Reported: starts per
// second, supervise's own CPU, the CPU of the runs it started (its reaped
// children, /proc/PID/stat cutime+cstime) and the machine's busy share
// (/proc/stat, every CPU, other work included). Asserted: without the file
// at most about a start a second; with it, no more starts than the
// doubling waits 1, 2, 4... 300 allow in the period.
func svCrashLoopBackoff(t *testing.T, tools svTools) {
	period := svPick(4*time.Second, 10*time.Minute)
	root := svRoot(t)
	for _, c := range []struct{ name, backoff string }{{"no backoff", ""}, {"backoff 1 300", "1 300\n"}} {
		dir := filepath.Join(root, strings.ReplaceAll(c.name, " ", "-"), "crasher")
		starts := filepath.Join(filepath.Dir(dir), "starts")
		svWriteScript(t, filepath.Join(dir, "run"), "echo start >>../starts\nexit 1")
		if c.backoff != "" {
			svWriteFile(t, filepath.Join(dir, "backoff"), c.backoff, 0o644)
		}
		sup := svStart(t, filepath.Dir(dir), tools.svPath(), tools.supervise, "crasher")
		svWait(t, c.name+": supervise to start run", func() bool { return svCountLines(starts) >= 1 })
		cpu0, kids0, mach0, n0 := svCPUOf(sup.pid()), svChildTicks(sup.pid()), svMachine(), svCountLines(starts)
		began := time.Now()
		time.Sleep(period)
		wall := time.Since(began)
		cpu, kids, mach, n := svCPUOf(sup.pid()).sub(cpu0), svChildTicks(sup.pid())-kids0, svMachine().sub(mach0), svCountLines(starts)-n0
		if sup.exited() {
			t.Fatalf("%s: supervise died; stderr:\n%s", c.name, sup.stderr())
		}
		svFigure(t, "%s: %d starts of a run that exits 1 at once in %.1f s = %.3f/s; supervise CPU %v = %.3f%% of one CPU; runs' CPU %d ticks; machine %.1f%% busy of %d CPUs (other work included)",
			c.name, n, wall.Seconds(), float64(n)/wall.Seconds(), cpu, cpu.percent(wall), kids, mach.busyPercent(), mach.cpus)
		limit := int(wall.Seconds()) + 2 // the once-a-second rule
		if c.backoff != "" {
			// Starts the waits 1, 2, 4... (at most 300) leave room for
			// after the first, counted from the first exit.
			limit = 1
			for wait, spent := 1, 0; spent+wait <= int(wall.Seconds())+1; wait = min(2*wait, 300) {
				spent += wait
				limit++
			}
		}
		if n > limit {
			t.Errorf("%s: %d starts in %v, want at most %d", c.name, n, wall.Round(time.Millisecond), limit)
		}
		if n == 0 {
			t.Errorf("%s: no start in %v: supervise stopped restarting", c.name, wall.Round(time.Millisecond))
		}
		syscall.Kill(-sup.pid(), syscall.SIGKILL)
		<-sup.done
	}
}

// svBackoffDelays runs a service whose run exits 1 a moment after it
// starts, with the backoff file "1 8", under taikit's svscan and
// supervise, and measures each wait from the status record: the stamp of a
// start minus the stamp of the exit before it. The record is polled; run
// exits only once the test has seen it up (it waits for a file named
// after its pid), so that no start is missed. The waits must be
// 1, 2, 4, 8, 8... seconds: never shorter (a wait cannot end early), and
// not so much longer that the doubling went past MAX; supervise/extra must
// announce each. The short form measures the first three waits; the long
// form six.
func svBackoffDelays(t *testing.T, tools svTools) {
	want := svPick([]int{1, 2, 4}, []int{1, 2, 4, 8, 8, 8})
	root := svRoot(t)
	scan := filepath.Join(root, "service")
	dir := filepath.Join(scan, "flapper")
	svWriteScript(t, filepath.Join(dir, "run"), "while [ ! -e seen.$$ ]; do sleep 0.02; done\nexit 1")
	svWriteFile(t, filepath.Join(dir, "backoff"), "1 8\n", 0o644)
	svscan := svStart(t, root, tools.svPath(), tools.svscan, scan)

	type record struct {
		when      time.Time
		up        bool
		announced int // supervise/extra's backoff, for a down record
	}
	var records []record
	var last supervise.Status
	deadline := time.Now().Add(svPatience + time.Duration(2*sum(want))*time.Second)
	for starts := 0; starts <= len(want); {
		if time.Now().After(deadline) {
			t.Fatalf("saw %d starts before the deadline; svscan said:\n%s", starts, svscan.stderr())
		}
		st, err := supervise.ReadStatus(dir)
		if err != nil || st == last {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if last.When == st.When { // a change of want or pause, not a start or exit
			last = st
			continue
		}
		last = st
		r := record{when: st.When.Time(tai64n.Daemontools), up: st.Up()}
		if !r.up && len(records) == 0 {
			continue // supervise's first record, before any start
		}
		if !r.up {
			if ex, err := supervise.ReadExtra(dir); err == nil && ex.Matches(st) {
				r.announced = ex.Backoff
			}
		} else {
			starts++
			svWriteFile(t, filepath.Join(dir, fmt.Sprintf("seen.%d", st.PID)), "", 0o644)
		}
		records = append(records, r)
	}
	// Records alternate from the first start: up, down, up, down...
	var got []string
	var measured []time.Duration
	var announced []int
	for i := 1; i < len(records); i++ {
		if records[i].up && !records[i-1].up {
			d := records[i].when.Sub(records[i-1].when)
			measured = append(measured, d)
			announced = append(announced, records[i-1].announced)
			got = append(got, fmt.Sprintf("%.3f s (announced %d)", d.Seconds(), records[i-1].announced))
		}
	}
	svFigure(t, "backoff 1 8 under svscan: waits between an exit and the next start, from supervise/status: %s", strings.Join(got, ", "))
	defer func() {
		if t.Failed() {
			for _, r := range records {
				t.Logf("record: %s up=%v announced %d", r.when.Format("15:04:05.000"), r.up, r.announced)
			}
		}
	}()
	if len(measured) < len(want) {
		t.Fatalf("measured %d waits, want %d: records %+v", len(measured), len(want), records)
	}
	for i, w := range want {
		d, exp := measured[i], time.Duration(w)*time.Second
		if d < exp-10*time.Millisecond || d > exp+5*time.Second {
			t.Errorf("wait %d: %v, want %v (not shorter, and far from twice as long)", i+1, d.Round(time.Millisecond), exp)
		}
		// 0: the down record was replaced before it was read.
		if announced[i] != 0 && announced[i] != w {
			t.Errorf("wait %d: supervise/extra announced backoff %d, want %d", i+1, announced[i], w)
		}
	}
}

func sum(xs []int) int {
	s := 0
	for _, x := range xs {
		s += x
	}
	return s
}

// svChildTicks is the CPU time, in clock ticks, of the children pid has
// reaped (cutime+cstime of /proc/PID/stat): for supervise, its runs.
func svChildTicks(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 15 {
		return 0
	}
	u, _ := strconv.Atoi(f[13])
	st, _ := strconv.Atoi(f[14])
	return u + st
}

// svMachineCPU is the first line of /proc/stat: clock ticks of all CPUs.
type svMachineCPU struct {
	busy, total int64
	cpus        int
}

func svMachine() svMachineCPU {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return svMachineCPU{}
	}
	var m svMachineCPU
	for i, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if i == 0 && len(f) > 8 && f[0] == "cpu" {
			// user nice system idle iowait irq softirq steal
			for j, v := range f[1:9] {
				n, _ := strconv.ParseInt(v, 10, 64)
				m.total += n
				if j != 3 && j != 4 {
					m.busy += n
				}
			}
		}
		if len(f) > 0 && strings.HasPrefix(f[0], "cpu") && f[0] != "cpu" {
			m.cpus++
		}
	}
	return m
}

func (m svMachineCPU) sub(o svMachineCPU) svMachineCPU {
	return svMachineCPU{busy: m.busy - o.busy, total: m.total - o.total, cpus: m.cpus}
}

func (m svMachineCPU) busyPercent() float64 {
	if m.total == 0 {
		return 0
	}
	return 100 * float64(m.busy) / float64(m.total)
}
