package campaign

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/taikit/taikit/internal/testref"
	"github.com/taikit/taikit/supervise"
)

// svKey names one supervise process svscan keeps: its working directory
// and its argument ("alpha" in the scan directory, "log" in alpha).
type svKey struct{ cwd, name string }

func (k svKey) String() string { return filepath.Join(filepath.Base(k.cwd), k.name) }

// svSeen is what a watcher of the supervise processes saw of one pid.
type svSeen struct {
	key         svKey
	first, last time.Time
}

// svWatcher samples the supervise processes of a scan directory every
// 50 ms until stopped, recording when each pid was seen.
type svWatcher struct {
	keys    []svKey
	mu      sync.Mutex
	seen    map[int]*svSeen
	samples int
	stop    chan struct{}
	done    chan struct{}
}

func svWatch(t *testing.T, keys []svKey) *svWatcher {
	w := &svWatcher{keys: keys, seen: map[int]*svSeen{}, stop: make(chan struct{}), done: make(chan struct{})}
	go w.run()
	t.Cleanup(w.halt)
	return w
}

func (w *svWatcher) run() {
	defer close(w.done)
	dirs, wanted := map[string]bool{}, map[svKey]bool{}
	for _, k := range w.keys {
		dirs[k.cwd] = true
		wanted[k] = true
	}
	for {
		now := time.Now()
		got := map[int]svKey{}
		for d := range dirs {
			for name, pids := range svSupervisors(d) {
				// "supervise alpha" working in service/alpha matches
				// the directory service/alpha too; only keys count.
				if k := (svKey{d, name}); wanted[k] {
					for _, pid := range pids {
						got[pid] = k
					}
				}
			}
		}
		w.mu.Lock()
		w.samples++
		for pid, k := range got {
			s := w.seen[pid]
			if s == nil {
				s = &svSeen{key: k, first: now}
				w.seen[pid] = s
			}
			s.last = now
		}
		w.mu.Unlock()
		select {
		case <-w.stop:
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (w *svWatcher) halt() {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	<-w.done
}

// svScanKill9 runs two services, each writing numbered lines through our
// multilog as its log/run, under our svscan, and kills svscan with
// SIGKILL several times (3 in the short form, 30 in the long), restarting
// it on the same directory each time. The supervise processes outlive
// svscan, so the services and their loggers must keep working (lines keep
// arriving while svscan is dead), the restarted svscan must not add a
// second lasting supervise for any directory (the lock makes the ones it
// starts exit at once), and in the end every line written is in the log
// exactly once and in order.
//
// With daemontools' svscan and supervise (and our multilog), the same
// campaign is the reference: its figures are reported beside ours.
func svScanKill9(t *testing.T, tools svTools, reference bool) {
	kills := svPick(3, 30)
	root := svRoot(t)
	svscanProg, path := tools.svscan, tools.svPath()
	if reference {
		for _, p := range []string{"/usr/bin/svscan", "/usr/bin/supervise"} {
			testref.Need(t, p)
		}
		// daemontools' svscan and supervise from /usr/bin, our multilog.
		bin := filepath.Join(root, "bin")
		if err := os.Mkdir(bin, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(tools.multilog, filepath.Join(bin, "multilog")); err != nil {
			t.Fatal(err)
		}
		svscanProg, path = "/usr/bin/svscan", bin+":/usr/bin:/bin"
	}
	scan := filepath.Join(root, "service")
	names := []string{"alpha", "beta"}
	stop := filepath.Join(root, "stop")
	var keys []svKey
	for _, n := range names {
		dir := filepath.Join(scan, n)
		svWriteScript(t, filepath.Join(dir, "run"), svWriterScript(n, 20, stop,
			filepath.Join(root, n+".written"), filepath.Join(root, n+".progress")))
		svWriteScript(t, filepath.Join(dir, "log", "run"), "exec multilog s4096 n1000 ./main")
		keys = append(keys, svKey{scan, n}, svKey{dir, "log"})
	}
	logOf := func(n string) string { return filepath.Join(scan, n, "log", "main") }
	logLines := func() int {
		total := 0
		for _, n := range names {
			ls, _ := svReadLog(logOf(n))
			total += len(ls)
		}
		return total
	}

	svscan := svStart(t, root, path, svscanProg, scan)
	for _, n := range names {
		svWait(t, n+"'s lines to reach its log", func() bool {
			ls, _ := svReadLog(logOf(n))
			return len(ls) > 0
		})
	}
	// The supervise processes of the first svscan are the ones that must
	// last; note them and the pids of run.
	original := map[svKey]int{}
	for _, k := range keys {
		pids := svSupervisors(k.cwd)[k.name]
		if len(pids) != 1 {
			t.Fatalf("%v: want one supervise before any kill, found pids %v; svscan said:\n%s", k, pids, svscan.stderr())
		}
		original[k] = pids[0]
	}
	runPid := func(k svKey) int {
		st, err := supervise.ReadStatus(filepath.Join(k.cwd, k.name))
		if err != nil {
			return -1
		}
		return st.PID
	}
	runs := map[svKey]int{}
	for _, k := range keys {
		runs[k] = runPid(k)
	}
	watch := svWatch(t, keys)

	var stderrs []*svProc
	var deadGrowth []int
	for i := range kills {
		time.Sleep(time.Second)
		svscan.kill9()
		stderrs = append(stderrs, svscan)
		// svscan is dead: the services and loggers carry on without it.
		before := logLines()
		time.Sleep(time.Second)
		grown := logLines() - before
		deadGrowth = append(deadGrowth, grown)
		if grown <= 0 {
			t.Errorf("kill %d: no line reached the logs in the second after svscan was killed", i+1)
		}
		svscan = svStart(t, root, path, svscanProg, scan)
		// Let it make a pass or two (it scans at once, then every 5 s).
		time.Sleep(time.Duration(1+i%3) * time.Second)
	}
	// Settle: beyond one full scan interval, so the restarted svscan has
	// tried again and the supervise processes it started have given up.
	time.Sleep(6 * time.Second)
	stderrs = append(stderrs, svscan)
	watch.halt()

	for _, k := range keys {
		pids := svSupervisors(k.cwd)[k.name]
		if !slices.Equal(pids, []int{original[k]}) {
			t.Errorf("%v: after %d kills of svscan the supervise processes are %v, want the original %d alone", k, kills, pids, original[k])
		}
		if got := runPid(k); got != runs[k] {
			t.Errorf("%v: run's pid changed from %d to %d: a service or logger was restarted", k, runs[k], got)
		}
	}
	// Every supervise but the originals must have been short-lived: one
	// that stays is a duplicate.
	extras := 0
	var longest time.Duration
	watch.mu.Lock()
	for _, pid := range slices.Sorted(maps.Keys(watch.seen)) {
		s := watch.seen[pid]
		if original[s.key] == pid {
			continue
		}
		extras++
		life := s.last.Sub(s.first)
		longest = max(longest, life)
		if life > 3*time.Second {
			t.Errorf("a second supervise for %v (pid %d) was seen for %v: a duplicate", s.key, pid, life.Round(time.Millisecond))
		}
	}
	samples := watch.samples
	watch.mu.Unlock()

	// Stop the writers, and check that every line arrived exactly once.
	if err := os.WriteFile(stop, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	totalWritten, totalMissing, totalSurplus := 0, 0, 0
	for _, n := range names {
		written := filepath.Join(root, n+".written")
		svWait(t, n+" to stop writing", func() bool { return svReadInt(written) >= 0 })
		want := svReadInt(written)
		var lines []string
		svWait(t, fmt.Sprintf("%s's %d lines to reach its log", n, want), func() bool {
			lines, _ = svReadLog(logOf(n))
			return len(lines) >= want
		})
		time.Sleep(200 * time.Millisecond) // anything beyond would be surplus
		lines, err := svReadLog(logOf(n))
		if err != nil {
			t.Fatal(err)
		}
		missing, surplus, disorder := svSequence(lines, n, want)
		totalWritten += want
		totalMissing += missing
		totalSurplus += surplus
		if missing != 0 || surplus != 0 || disorder != "" {
			t.Errorf("%s: %d lines written, %d in the log: %d missing, %d surplus; %s", n, want, len(lines), missing, surplus, disorder)
		}
	}

	var fatals []string
	for _, p := range stderrs {
		for l := range strings.SplitSeq(p.stderr(), "\n") {
			if l != "" && !slices.Contains(fatals, l) {
				fatals = append(fatals, l)
			}
		}
	}
	who := "taikit svscan and supervise"
	if reference {
		who = "daemontools' svscan and supervise"
	}
	svFigure(t, "%s: %d kill -9 of svscan with 2 logged services running: %d lines written, %d lost, %d duplicated; lines reaching the logs in the second after each kill: %v",
		who, kills, totalWritten, totalMissing, totalSurplus, deadGrowth)
	svFigure(t, "supervise processes: the 4 originals lasted; %d short-lived ones started by restarted svscans (longest seen %v, sampled %d times); run and log/run never restarted",
		extras, longest.Round(time.Millisecond), samples)
	svFigure(t, "messages of the restarted svscans (each line once): %q", fatals)
}
