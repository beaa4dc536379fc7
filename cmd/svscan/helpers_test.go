package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/taikit/taikit/internal/testref"
)

// writerEnv, set to a directory, makes the test binary the service of the
// logged-service test instead of running tests (see writer).
const writerEnv = "SVSCAN_TEST_WRITER"

func TestMain(m *testing.M) {
	if dir := os.Getenv(writerEnv); dir != "" {
		writer(dir)
		return
	}
	testref.TestMainOr(m, main)
}

// builds holds the commands built for the tests, each built once.
var builds struct {
	sync.Mutex
	dir  string
	errs map[string]error
}

// writer writes numbered lines "generation sequence" to standard output
// without end, one write(2) each. Each start is a new generation (counted
// in dir/generation); after each write that returned it records the
// sequence number in dir/progress.<generation>, so the test knows which
// lines were written: a line the writer was killed before writing is not
// lost. When dir/stop exists it writes no more and waits. While dir/pause
// exists it writes nothing, having said so in dir/paused.<generation>: then
// every line it wrote is in the progress file.
func writer(dir string) {
	gen := 1
	if b, err := os.ReadFile(filepath.Join(dir, "generation")); err == nil {
		gen, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		gen++
	}
	// Written whole under another name and renamed: a test reading it
	// must never see it empty, between a truncation and a write.
	if err := os.WriteFile(filepath.Join(dir, "generation.new"), []byte(strconv.Itoa(gen)), 0o644); err != nil {
		os.Exit(111)
	}
	if err := os.Rename(filepath.Join(dir, "generation.new"), filepath.Join(dir, "generation")); err != nil {
		os.Exit(111)
	}
	progress, err := os.Create(filepath.Join(dir, fmt.Sprintf("progress.%d", gen)))
	if err != nil {
		os.Exit(111)
	}
	stop, pause := filepath.Join(dir, "stop"), filepath.Join(dir, "pause")
	for seq := 1; ; seq++ {
		if _, err := os.Stat(stop); err == nil {
			os.WriteFile(filepath.Join(dir, fmt.Sprintf("stopped.%d", gen)), nil, 0o644)
			for {
				time.Sleep(time.Hour)
			}
		}
		if _, err := os.Stat(pause); err == nil {
			os.WriteFile(filepath.Join(dir, fmt.Sprintf("paused.%d", gen)), nil, 0o644)
			for ; err == nil; _, err = os.Stat(pause) {
				time.Sleep(time.Millisecond)
			}
		}
		if _, err := syscall.Write(1, fmt.Appendf(nil, "%d %d\n", gen, seq)); err != nil {
			os.Exit(111)
		}
		if _, err := progress.WriteAt(fmt.Appendf(nil, "%12d", seq), 0); err != nil {
			os.Exit(111)
		}
		time.Sleep(500 * time.Microsecond)
	}
}

// tree is a scan directory with its own bin directory first in PATH, and
// the processes a test starts in it.
type tree struct {
	t    *testing.T
	root string // holds everything; processes working under it are killed at the end
	dir  string // the scan directory
	bin  string
}

func newTree(t *testing.T) *tree {
	t.Helper()
	root := t.TempDir()
	tr := &tree{t: t, root: root, dir: filepath.Join(root, "service"), bin: filepath.Join(root, "bin")}
	for _, d := range []string{tr.dir, tr.bin} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// Registered after TempDir, so it runs before the removal.
	t.Cleanup(func() { testref.KillUnder(root) })
	return tr
}

func (tr *tree) path() string { return tr.bin + ":/usr/bin:/bin" }

func (tr *tree) write(name, content string, mode os.FileMode) {
	tr.t.Helper()
	p := filepath.Join(tr.dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		tr.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		tr.t.Fatal(err)
	}
}

func (tr *tree) mkdir(names ...string) {
	tr.t.Helper()
	for _, n := range names {
		if err := os.MkdirAll(filepath.Join(tr.dir, n), 0o755); err != nil {
			tr.t.Fatal(err)
		}
	}
}

// svscan is a running svscan, ours or daemontools'.
type svscan struct {
	cmd     *exec.Cmd
	errFile string // its standard error, a file: a pipe would keep Wait waiting for the services, which share it
	done    chan struct{}
	code    int
}

// stderr returns what svscan (and the programs it started) wrote to
// standard error so far.
func (s *svscan) stderr() string {
	b, _ := os.ReadFile(s.errFile)
	return string(b)
}

// start runs svscan (prog, or ours when prog is "") on the scan directory
// in a process group of its own, with env changes as testref.Environ.
func (tr *tree) start(prog string, env ...string) *svscan {
	tr.t.Helper()
	env = append([]string{"PATH=" + tr.path()}, env...)
	if prog == "" {
		prog = testref.Self(tr.t)
		env = append(env, testref.BeCommand)
	}
	errs, err := os.CreateTemp(tr.root, "stderr")
	if err != nil {
		tr.t.Fatal(err)
	}
	defer errs.Close()
	s := &svscan{cmd: exec.Command(prog, tr.dir), errFile: errs.Name(), done: make(chan struct{})}
	s.cmd.Args[0] = "svscan"
	s.cmd.Env = testref.Environ(env...)
	s.cmd.Stderr = errs
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		tr.t.Fatal(err)
	}
	go func() {
		s.cmd.Wait()
		s.code = s.cmd.ProcessState.ExitCode()
		close(s.done)
	}()
	pid := s.cmd.Process.Pid
	tr.t.Cleanup(func() { syscall.Kill(-pid, syscall.SIGKILL); <-s.done })
	return s
}

// stop kills svscan and everything in its process group.
func (s *svscan) stop() {
	syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	<-s.done
}

// statusPid reads the pid of a service's status file, as supervise
// (daemontools' or ours) writes it: 18 bytes, pid little-endian at 12.
func statusPid(dir string) int {
	b, err := os.ReadFile(filepath.Join(dir, "supervise", "status"))
	if err != nil || len(b) < 18 {
		return 0
	}
	return int(binary.LittleEndian.Uint32(b[12:16]))
}

// buildInto puts the command in ../name into dir, built once per test
// run, and returns its path.
func buildInto(t *testing.T, dir, name string) (string, error) {
	t.Helper()
	builds.Lock()
	defer builds.Unlock()
	if builds.dir == "" {
		d, err := testref.TempDirForBinary("taikit-svscan-builds-")
		if err != nil {
			t.Fatal(err)
		}
		builds.dir, builds.errs = d, map[string]error{}
	}
	built := filepath.Join(builds.dir, name)
	err, done := builds.errs[name]
	if !done {
		err = testref.BuildCommands(builds.dir, name)
		builds.errs[name] = err
	}
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, name)
	return out, os.Symlink(built, out)
}

// installSupervise puts a supervise in the tree's bin: $TAIKIT_SUPERVISE if
// set, else taikit's own if cmd/supervise builds, else daemontools'.
func (tr *tree) installSupervise() string {
	tr.t.Helper()
	dst := filepath.Join(tr.bin, "supervise")
	if p := os.Getenv("TAIKIT_SUPERVISE"); p != "" {
		if err := os.Symlink(p, dst); err != nil {
			tr.t.Fatal(err)
		}
		return p
	}
	if _, err := os.Stat("../supervise/main.go"); err == nil {
		if _, err := buildInto(tr.t, tr.bin, "supervise"); err == nil {
			return "taikit supervise"
		} else {
			tr.t.Logf("using daemontools' supervise: %v", err)
		}
	}
	testref.Need(tr.t, "/usr/bin/supervise")
	if err := os.Symlink("/usr/bin/supervise", dst); err != nil {
		tr.t.Fatal(err)
	}
	return "/usr/bin/supervise"
}

// procStatus returns the kB values of /proc/pid/status fields.
func procStatus(pid int, field string) int {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for l := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return n
		}
	}
	return 0
}

// cpuTicks returns utime+stime of pid in clock ticks.
func cpuTicks(pid int) int {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.Atoi(f[11])
	st, _ := strconv.Atoi(f[12])
	return u + st
}

// cpuTime returns the CPU time all of pid's threads used, from the
// scheduler's nanosecond accounting (clock ticks are too coarse for an
// idle svscan).
func cpuTime(pid int) time.Duration {
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	var total time.Duration
	for _, task := range tasks {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/schedstat", pid, task.Name()))
		f := strings.Fields(string(b))
		if len(f) > 0 {
			n, _ := strconv.ParseInt(f[0], 10, 64)
			total += time.Duration(n)
		}
	}
	return total
}

// bothSvscans runs test in parallel subtests with our svscan ("taikit",
// prog "") and with daemontools' ("daemontools", skipped when absent): the
// run on daemontools' checks the test itself.
func bothSvscans(t *testing.T, test func(t *testing.T, prog string)) {
	for _, prog := range []string{"", refSvscan} {
		name := "taikit"
		if prog != "" {
			name = "daemontools"
		}
		t.Run(name, func(t *testing.T) {
			if prog != "" {
				testref.Need(t, prog)
			}
			t.Parallel()
			test(t, prog)
		})
	}
}
