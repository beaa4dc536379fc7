package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/taikit/taikit/internal/testref"
)

// TestLoggedServiceLosesNothing is the promise of the log pipe: a service
// writing numbered lines through taikit's multilog, under our svscan, with
// the service killed (-9) and the logger killed (-9) several times, each
// restarted by supervise: every line written reaches the log exactly once,
// in order. The same test runs with daemontools' svscan as a check of the
// test itself.
func TestLoggedServiceLosesNothing(t *testing.T) {
	bothSvscans(t, loggedService)
}

func loggedService(t *testing.T, prog string) {
	tr := newTree(t)
	sup := tr.installSupervise()
	if _, err := buildInto(t, tr.bin, "multilog"); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(tr.root, "state")
	os.Mkdir(state, 0o755)
	tr.write("app/run", fmt.Sprintf("#!/bin/sh\nexec env %s=%s %s\n", writerEnv, state, testref.Self(t)), 0o755)
	tr.write("app/log/run", "#!/bin/sh\nexec multilog t s65536 n1000 ./main\n", 0o755)
	app, logger := filepath.Join(tr.dir, "app"), filepath.Join(tr.dir, "app", "log")
	s := tr.start(prog)
	t.Logf("svscan %q, supervise %s", prog, sup)

	restarted := func(dir string, old int) int {
		var pid int
		testref.WaitFor(t, dir+" to run again", func() bool {
			pid = statusPid(dir)
			return pid != 0 && pid != old && syscall.Kill(pid, 0) == nil
		})
		return pid
	}
	restarted(app, 0)
	restarted(logger, 0)
	const rounds = 4
	generation := func() string {
		b, _ := os.ReadFile(filepath.Join(state, "generation"))
		return strings.TrimSpace(string(b))
	}
	pause := filepath.Join(state, "pause")
	// wrote waits until the current writer has written n lines more
	// than from, and returns its generation. Waiting for lines,
	// not for time, matters on a busy machine: a writer killed or paused
	// before its first line (or before it counted its generation) would
	// leave nothing to check.
	wrote := func(n int, gen string, from int) string {
		var g string
		testref.WaitFor(t, fmt.Sprintf("the writer to write %d lines", n), func() bool {
			g = generation()
			if g == "" || g == gen {
				return false
			}
			gi, _ := strconv.Atoi(g)
			return progress(state, gi) >= from+n
		})
		return g
	}
	gen := wrote(50, "", 0)
	for range rounds {
		// The writer dies between lines or in the middle of a write(2);
		// what it wrote is in the pipe.
		w := statusPid(app)
		syscall.Kill(w, syscall.SIGKILL)
		restarted(app, w)
		gen = wrote(50, gen, 0)
		// The logger dies while waiting for input, so that it holds no
		// line read but not written (a loss no pipe can prevent): the
		// writer pauses between lines, and once the logger has the last
		// line it wrote the pipe is empty. The writer goes on writing
		// while the logger is down, into the pipe svscan holds.
		os.WriteFile(pause, nil, 0o644)
		testref.WaitFor(t, "the writer to pause", func() bool {
			_, err := os.Stat(filepath.Join(state, "paused."+gen))
			return err == nil
		})
		testref.WaitFor(t, "the logger to catch up", func() bool { return logHas(tr, state) })
		l := statusPid(logger)
		syscall.Kill(l, syscall.SIGKILL)
		os.Remove(pause)
		restarted(logger, l)
	}
	// The last writer writes on after its pause.
	g, _ := strconv.Atoi(gen)
	wrote(50, "", progress(state, g))
	os.WriteFile(filepath.Join(state, "stop"), nil, 0o644)
	testref.WaitFor(t, "the writer to stop", func() bool {
		gen, _ := os.ReadFile(filepath.Join(state, "generation"))
		_, err := os.Stat(filepath.Join(state, "stopped."+strings.TrimSpace(string(gen))))
		return err == nil
	})
	testref.WaitFor(t, "the logger to catch up", func() bool { return logHas(tr, state) })
	checkLog(t, tr, state, rounds+1)
	if got := s.stderr(); got != "" {
		t.Errorf("stderr: %q", got)
	}
}

// logHas reports whether the log holds the last line the current writer
// recorded as written.
func logHas(tr *tree, state string) bool {
	gen, _ := os.ReadFile(filepath.Join(state, "generation"))
	g := strings.TrimSpace(string(gen))
	p, _ := os.ReadFile(filepath.Join(state, "progress."+g))
	want := " " + g + " " + strings.TrimSpace(string(p)) + "\n"
	// The line is in current, or in the newest archive if current was
	// just cut.
	dir := filepath.Join(tr.dir, "app", "log", "main")
	b, _ := os.ReadFile(filepath.Join(dir, "current"))
	if archives, _ := filepath.Glob(filepath.Join(dir, "@*")); len(archives) > 0 {
		sort.Strings(archives)
		a, _ := os.ReadFile(archives[len(archives)-1])
		b = append(a, b...)
	}
	return len(p) > 0 && strings.Contains(string(b), want)
}

// checkLog reads the whole log directory, archives in name order then
// current, and checks that each writer generation's lines are there from
// 1 up to at least what it recorded as written, once each, in order, and
// generations in the order they started.
func checkLog(t *testing.T, tr *tree, state string, gens int) {
	t.Helper()
	dir := filepath.Join(tr.dir, "app", "log", "main")
	names, _ := filepath.Glob(filepath.Join(dir, "@*"))
	sort.Strings(names)
	names = append(names, filepath.Join(dir, "current"))
	lastGen, lastSeq, lines := 0, 0, 0
	seen := map[int]int{}
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		for l := range strings.SplitSeq(strings.TrimSuffix(string(b), "\n"), "\n") {
			f := strings.Fields(l)
			if len(f) != 3 || !strings.HasPrefix(f[0], "@") {
				t.Fatalf("%s: line %q", n, l)
			}
			g, _ := strconv.Atoi(f[1])
			q, _ := strconv.Atoi(f[2])
			switch {
			case g == lastGen && q == lastSeq+1:
			case g > lastGen && q == 1 && seen[g] == 0:
				if lastGen > 0 && lastSeq < progress(state, lastGen) {
					t.Fatalf("generation %d: lines %d..%d written but not logged", lastGen, lastSeq+1, progress(state, lastGen))
				}
			default:
				t.Fatalf("%s: %q after generation %d line %d: lost, repeated or out of order", n, l, lastGen, lastSeq)
			}
			lastGen, lastSeq = g, q
			seen[g] = q
			lines++
		}
	}
	if lastSeq < progress(state, lastGen) {
		t.Fatalf("generation %d: lines %d..%d written but not logged", lastGen, lastSeq+1, progress(state, lastGen))
	}
	if len(seen) != gens {
		t.Errorf("%d generations logged, want %d", len(seen), gens)
	}
	t.Logf("%d lines from %d writers in %d files, none lost or repeated", lines, len(seen), len(names))
}

func progress(state string, gen int) int {
	b, _ := os.ReadFile(filepath.Join(state, fmt.Sprintf("progress.%d", gen)))
	n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return n
}
