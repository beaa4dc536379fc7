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

// svLogFault is one way a log service cannot start.
type svLogFault struct {
	name string
	// broken sets up log/ so that it cannot start.
	broken func(t *testing.T, logDir string)
	// message is what must be on svscan's standard error (where its
	// supervise processes write), or "" when supervise has nothing to
	// say and svstat tells instead (describe).
	message  string
	describe string
}

var svLogFaults = []svLogFault{
	{
		name:    "missing",
		broken:  func(t *testing.T, logDir string) { os.MkdirAll(logDir, 0o755) },
		message: "supervise: warning: unable to start log/run: file does not exist",
	},
	{
		name: "not_executable",
		broken: func(t *testing.T, logDir string) {
			svWriteFile(t, filepath.Join(logDir, "run"), "#!/bin/sh\nexec multilog ./main\n", 0o644)
		},
		message: "supervise: warning: unable to start log/run: access denied",
	},
	{
		name:     "exits_at_once",
		broken:   func(t *testing.T, logDir string) { svWriteScript(t, filepath.Join(logDir, "run"), "exit 1") },
		describe: "exited 1",
	},
}

// svLogCannotStart runs, under our svscan, three services whose log/run
// is missing, not executable, or exits at once, each service writing
// numbered lines. The service must keep running (its writes block once
// the pipe is full: nothing reads it), the failure must be reported, no
// process may spin meanwhile, and once log/run is fixed every line
// written meanwhile (held in the pipe) must reach the log exactly once
// and in order, and the service must carry on.
func svLogCannotStart(t *testing.T, tools svTools) {
	window := svPick(4*time.Second, time.Minute)
	root := svRoot(t)
	scan := filepath.Join(root, "service")
	stop := filepath.Join(root, "stop")
	for _, f := range svLogFaults {
		dir := filepath.Join(scan, f.name)
		svWriteScript(t, filepath.Join(dir, "run"), svWriterScript(f.name, 200, stop,
			filepath.Join(root, f.name+".written"), filepath.Join(root, f.name+".progress")))
		f.broken(t, filepath.Join(dir, "log"))
	}
	svscan := svStart(t, root, tools.svPath(), tools.svscan, scan)

	// Wait until every writer is blocked: its count stays put for a
	// second and a half while its run is the same process.
	blockedAt := map[string]int{}
	runPids := map[string]int{}
	for _, f := range svLogFaults {
		progress := filepath.Join(root, f.name+".progress")
		last, since := -1, time.Now()
		svWait(t, f.name+"'s writer to block on its full log pipe", func() bool {
			n := svReadInt(progress)
			if n != last || n <= 0 {
				last, since = n, time.Now()
				return false
			}
			return time.Since(since) > 1500*time.Millisecond
		})
		blockedAt[f.name] = last
		st, err := supervise.ReadStatus(filepath.Join(scan, f.name))
		if err != nil || st.PID == 0 {
			t.Fatalf("%s: run is not up while its logger cannot start: %+v, %v", f.name, st, err)
		}
		runPids[f.name] = st.PID
	}

	// Measure the CPU of everything involved while the writers are
	// blocked and the loggers keep failing.
	type watched struct {
		what string
		pid  int
		cpu0 svCPU
	}
	ws := []*watched{{what: "svscan", pid: svscan.pid()}}
	for _, f := range svLogFaults {
		for _, k := range []svKey{{scan, f.name}, {filepath.Join(scan, f.name), "log"}} {
			pids := svSupervisors(k.cwd)[k.name]
			if len(pids) != 1 {
				t.Fatalf("%v: want one supervise, found %v", k, pids)
			}
			ws = append(ws, &watched{what: "supervise " + k.String(), pid: pids[0]})
		}
		ws = append(ws, &watched{what: f.name + " run (blocked writer)", pid: runPids[f.name]})
	}
	msgs0 := svscan.stderr()
	began := time.Now()
	for _, w := range ws {
		w.cpu0 = svCPUOf(w.pid)
	}
	time.Sleep(window)
	wall := time.Since(began)
	var cpuFigures []string
	for _, w := range ws {
		c := svCPUOf(w.pid).sub(w.cpu0)
		if !c.ok {
			t.Errorf("%s (pid %d) ended while the logger could not start", w.what, w.pid)
			continue
		}
		cpuFigures = append(cpuFigures, fmt.Sprintf("%s %v", w.what, c.sched.Round(10*time.Microsecond)))
		if pct := c.percent(wall); pct > 2 {
			t.Errorf("%s used %v of CPU in %v (%.2f%% of a CPU) while a logger could not start: want about nothing", w.what, c, wall.Round(time.Millisecond), pct)
		}
	}
	msgs := strings.TrimPrefix(svscan.stderr(), msgs0)
	svFigure(t, "CPU over %v with 3 loggers failing and their services blocked: %s", wall.Round(time.Millisecond), strings.Join(cpuFigures, ", "))

	for _, f := range svLogFaults {
		dir := filepath.Join(scan, f.name)
		bytesHeld := 0
		for i := 1; i <= blockedAt[f.name]; i++ {
			bytesHeld += len(fmt.Sprintf("%s %d\n", f.name, i))
		}
		what := fmt.Sprintf("%s: writer blocked after %d lines (%d bytes held in the pipe)", f.name, blockedAt[f.name], bytesHeld)
		if f.message != "" {
			n := strings.Count(msgs, f.message)
			what += fmt.Sprintf("; %q printed %d times in %v", f.message, n, wall.Round(time.Millisecond))
			if n == 0 {
				t.Errorf("%s: svscan's standard error lacks %q; it has:\n%s", f.name, f.message, svscan.stderr())
			}
			if limit := int(wall.Seconds()) + 2; n > limit {
				t.Errorf("%s: %q printed %d times in %v: more than once a second", f.name, f.message, n, wall.Round(time.Millisecond))
			}
		}
		if f.describe != "" {
			d := supervise.Describe(filepath.Join(dir, "log"), time.Now())
			what += fmt.Sprintf("; svstat says %q", d)
			if !strings.Contains(d, f.describe) {
				t.Errorf("%s: svstat of log says %q, lacking %q", f.name, d, f.describe)
			}
		}
		// A pipe holds 64 KiB; the writer blocks when it is full.
		if bytesHeld > 65536 || bytesHeld < 4096 {
			t.Errorf("%s: the writer blocked after %d bytes: not a full 64 KiB pipe", f.name, bytesHeld)
		}
		svFigure(t, "%s", what)
	}

	// Fix every log/run: the lines held in the pipe must come out.
	fixedAt := time.Now()
	for _, f := range svLogFaults {
		svWriteScript(t, filepath.Join(scan, f.name, "log", "run"), "exec multilog s16384 n1000 ./main")
	}
	for _, f := range svLogFaults {
		progress := filepath.Join(root, f.name+".progress")
		svWait(t, f.name+"'s writer to carry on once log/run is fixed", func() bool {
			return svReadInt(progress) > blockedAt[f.name]+100
		})
		svFigure(t, "%s: writing again %v after log/run was fixed", f.name, time.Since(fixedAt).Round(time.Millisecond))
	}
	if err := os.WriteFile(stop, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, f := range svLogFaults {
		written := filepath.Join(root, f.name+".written")
		svWait(t, f.name+" to stop writing", func() bool { return svReadInt(written) >= 0 })
		want := svReadInt(written)
		logDir := filepath.Join(scan, f.name, "log", "main")
		var lines []string
		svWait(t, fmt.Sprintf("%s's %d lines to reach its log", f.name, want), func() bool {
			lines, _ = svReadLog(logDir)
			return len(lines) >= want
		})
		time.Sleep(200 * time.Millisecond)
		lines, err := svReadLog(logDir)
		if err != nil {
			t.Fatal(err)
		}
		missing, surplus, disorder := svSequence(lines, f.name, want)
		svFigure(t, "%s: %d lines written (%d of them while log/run could not start), %d lost, %d duplicated", f.name, want, blockedAt[f.name], missing, surplus)
		if missing != 0 || surplus != 0 || disorder != "" {
			t.Errorf("%s: %d lines written, %d in the log: %d missing, %d surplus; %s", f.name, want, len(lines), missing, surplus, disorder)
		}
		st, err := supervise.ReadStatus(filepath.Join(scan, f.name))
		if err != nil || st.PID != runPids[f.name] {
			t.Errorf("%s: run's pid is %d (%v), was %d: the service was restarted", f.name, st.PID, err, runPids[f.name])
		}
	}
}
