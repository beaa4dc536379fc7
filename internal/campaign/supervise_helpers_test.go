package campaign

// Helpers of the supervise half of the campaign (issue 7): the commands
// under test built once per TestSuperviseCampaign, service trees in a
// temporary directory whose processes are all killed at the end, and what
// /proc says about processes (CPU time, command line, working directory,
// children).

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/taikit/taikit/internal/testref"
)

// svPatience bounds every wait of these tests: generous, because the
// machines running them are shared and noisy.
const svPatience = 30 * time.Second

// svTools are taikit's commands under test, built into one directory.
type svTools struct {
	dir                              string
	supervise, svscan, svc, multilog string
}

// svBuild builds cmd/supervise, cmd/svscan, cmd/svc and cmd/multilog into
// dir with the go command that runs these tests.
func svBuild(t *testing.T, dir string) svTools {
	t.Helper()
	if err := testref.BuildCommands(dir, "supervise", "svscan", "svc", "multilog"); err != nil {
		t.Fatal(err)
	}
	return svTools{
		dir:       dir,
		supervise: filepath.Join(dir, "supervise"),
		svscan:    filepath.Join(dir, "svscan"),
		svc:       filepath.Join(dir, "svc"),
		multilog:  filepath.Join(dir, "multilog"),
	}
}

// svPath is the PATH the processes under test get: our commands first,
// so that svscan starts our supervise and log/run finds our multilog.
func (tl svTools) svPath() string { return tl.dir + ":/usr/bin:/bin" }

// svRoot makes a temporary directory for one test and arranges that every
// process working in it, or naming it on its command line, is killed when
// the test ends (supervise processes outlive a killed svscan, and their
// services outlive a killed process group when they make sessions).
func svRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	// Registered after TempDir, so it runs before the removal.
	t.Cleanup(func() { svKillUnder(root) })
	return root
}

// svKillUnder kills every process whose working directory or command line
// is under root, until none is left.
func svKillUnder(root string) {
	for range 20 {
		found := false
		for _, pid := range svPids() {
			if pid == os.Getpid() {
				continue
			}
			cwd, _ := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
			cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
			if cwd == root || strings.HasPrefix(cwd, root+"/") || bytes.Contains(cmdline, []byte(root)) {
				syscall.Kill(pid, syscall.SIGKILL)
				found = true
			}
		}
		if !found {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// svPids lists the processes of the machine.
func svPids() []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// svWriteScript writes path as an executable /bin/sh script, through a
// rename so that a supervisor never runs half of it.
func svWriteScript(t *testing.T, path, body string) {
	t.Helper()
	svWriteFile(t, path, "#!/bin/sh\n"+body+"\n", 0o755)
}

func svWriteFile(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := os.WriteFile(tmp, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(tmp, mode); err != nil { // whatever the umask
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// svProc is a process a test started in a process group of its own, its
// standard error going to a file (a pipe would be inherited by services
// and keep Wait waiting).
type svProc struct {
	cmd     *exec.Cmd
	errFile string
	done    chan struct{}
}

// svStart starts prog with args in dir with the given PATH.
func svStart(t *testing.T, dir, path, prog string, args ...string) *svProc {
	t.Helper()
	errs, err := os.CreateTemp(t.TempDir(), "stderr-")
	if err != nil {
		t.Fatal(err)
	}
	defer errs.Close()
	cmd := exec.Command(prog, args...)
	cmd.Args[0] = filepath.Base(prog)
	cmd.Dir = dir
	cmd.Env = append(slices.DeleteFunc(os.Environ(), func(s string) bool { return strings.HasPrefix(s, "PATH=") }), "PATH="+path)
	cmd.Stderr = errs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", prog, err)
	}
	p := &svProc{cmd: cmd, errFile: errs.Name(), done: make(chan struct{})}
	go func() { // owned by p: ends when the process does
		cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	})
	return p
}

func (p *svProc) pid() int { return p.cmd.Process.Pid }

func (p *svProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// kill9 kills the process alone (not its group: what it started lives on)
// and waits for it.
func (p *svProc) kill9() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// stderr returns what the process and the programs that share its
// standard error wrote there so far.
func (p *svProc) stderr() string {
	b, _ := os.ReadFile(p.errFile)
	return string(b)
}

// svWait polls cond until it holds, failing the test after svPatience.
func svWait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(svPatience)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", svPatience, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// svCPU is the CPU time a process used, both as the kernel's clock-tick
// counters (utime+stime of /proc/PID/stat, what ps and top show) and as
// the scheduler's nanosecond sum over its threads (schedstat), which is
// precise enough for a process that is nearly idle.
type svCPU struct {
	ticks int // utime+stime, in clock ticks (1/100 s on Linux)
	sched time.Duration
	ok    bool // the process existed
}

func svCPUOf(pid int) svCPU {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return svCPU{}
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return svCPU{}
	}
	// Fields after the command: state is f[0], utime f[11], stime f[12].
	u, _ := strconv.Atoi(f[11])
	st, _ := strconv.Atoi(f[12])
	c := svCPU{ticks: u + st, ok: true}
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	for _, task := range tasks {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/schedstat", pid, task.Name()))
		if fs := strings.Fields(string(b)); len(fs) > 0 {
			n, _ := strconv.ParseInt(fs[0], 10, 64)
			c.sched += time.Duration(n)
		}
	}
	return c
}

func (c svCPU) sub(o svCPU) svCPU {
	return svCPU{ticks: c.ticks - o.ticks, sched: c.sched - o.sched, ok: c.ok && o.ok}
}

func (c svCPU) String() string {
	return fmt.Sprintf("%d ticks (%v)", c.ticks, c.sched.Round(10*time.Microsecond))
}

// svPercent is c as a percentage of one CPU over wall.
func (c svCPU) percent(wall time.Duration) float64 {
	return 100 * float64(c.sched) / float64(wall)
}

// svProcInfo is what /proc says of one process.
type svProcInfo struct {
	pid, ppid int
	state     byte // R, S, Z...
	argv      []string
	cwd       string
}

func svInfo(pid int) (svProcInfo, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return svProcInfo{}, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+4 > len(s) {
		return svProcInfo{}, false
	}
	f := strings.Fields(s[i+2:])
	if len(f) < 2 {
		return svProcInfo{}, false
	}
	ppid, _ := strconv.Atoi(f[1])
	info := svProcInfo{pid: pid, ppid: ppid, state: f[0][0]}
	cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if len(cmdline) > 0 {
		info.argv = strings.Split(strings.TrimSuffix(string(cmdline), "\x00"), "\x00")
	}
	info.cwd, _ = os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
	return info, true
}

// svSupervisors returns, for each service name, the pids of the processes
// whose command line is "supervise NAME" (argv[0] ending in supervise)
// started in dir: the supervise processes svscan started for the services
// of the scan directory dir. svscan starts them with dir as their working
// directory, and supervise changes to dir/NAME at once, as daemontools'
// does: either counts.
func svSupervisors(dir string) map[string][]int {
	out := map[string][]int{}
	for _, pid := range svPids() {
		info, ok := svInfo(pid)
		if !ok || info.state == 'Z' || len(info.argv) != 2 || filepath.Base(info.argv[0]) != "supervise" {
			continue
		}
		if info.cwd != dir && info.cwd != filepath.Join(dir, info.argv[1]) {
			continue
		}
		out[info.argv[1]] = append(out[info.argv[1]], pid)
	}
	return out
}

// svChildren returns the live (not zombie) children of pid, and how many
// zombies it has not reaped.
func svChildren(pid int) (live []svProcInfo, zombies int) {
	for _, p := range svPids() {
		info, ok := svInfo(p)
		if !ok || info.ppid != pid {
			continue
		}
		if info.state == 'Z' {
			zombies++
		} else {
			live = append(live, info)
		}
	}
	return live, zombies
}

// svCountLines returns how many lines the file at path holds (0 if none).
func svCountLines(path string) int {
	b, _ := os.ReadFile(path)
	return bytes.Count(b, []byte{'\n'})
}

// svArchives lists the archives of a multilog directory (@…s and @…u) by
// name, which is by time.
func svArchives(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range ents {
		if n := e.Name(); strings.HasPrefix(n, "@") && (strings.HasSuffix(n, ".s") || strings.HasSuffix(n, ".u")) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names, nil
}

// svReadLog returns the lines of a multilog directory in order: its
// archives then current. While multilog runs, current may become an
// archive between the listing and the reading; the reading is then done
// again, so that the lines returned are a consistent snapshot.
func svReadLog(dir string) ([]string, error) {
	for {
		before, err := svArchives(dir)
		if err != nil {
			return nil, err
		}
		lines, err := svReadLogFiles(dir, before)
		if os.IsNotExist(err) {
			continue // an archive was pruned meanwhile
		}
		if err != nil {
			return nil, err
		}
		after, err := svArchives(dir)
		if err != nil {
			return nil, err
		}
		if slices.Equal(before, after) {
			return lines, nil
		}
	}
}

func svReadLogFiles(dir string, archives []string) ([]string, error) {
	names := append(slices.Clone(archives), "current")
	var lines []string
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil && !(n == "current" && os.IsNotExist(err)) {
			return nil, err
		}
		for l := range strings.SplitSeq(string(b), "\n") {
			if l != "" {
				lines = append(lines, l)
			}
		}
	}
	return lines, nil
}

// svSequence compares lines with "PREFIX 1" … "PREFIX n": it returns how
// many of the expected lines are missing, how many lines are surplus
// (duplicates or strangers), and a description of the first place the
// order is wrong, or "".
func svSequence(lines []string, prefix string, n int) (missing, surplus int, disorder string) {
	seen := make([]int, n+1)
	next := 1
	for i, l := range lines {
		num, err := strconv.Atoi(strings.TrimPrefix(l, prefix+" "))
		if err != nil || !strings.HasPrefix(l, prefix+" ") || num < 1 || num > n {
			surplus++
			if disorder == "" {
				disorder = fmt.Sprintf("line %d of the log is %q, not one of %q 1…%d", i+1, l, prefix, n)
			}
			continue
		}
		seen[num]++
		if seen[num] > 1 {
			surplus++
		}
		if num != next && disorder == "" {
			disorder = fmt.Sprintf("line %d of the log is %q where %q %d was due", i+1, l, prefix, next)
		}
		next = num + 1
	}
	for _, c := range seen[1:] {
		if c == 0 {
			missing++
		}
	}
	return missing, surplus, disorder
}

// svWriterScript is the body of a run script that writes "PREFIX 1",
// "PREFIX 2"… to standard output, one write(2) each, pausing 20 ms after
// every burst lines, until the file stop exists; then it records how many
// it wrote in the file written and sleeps, so that supervise does not
// restart it (a new run would count from 1 again). After each line it
// records the count in progress, so that a test can see it blocked.
func svWriterScript(prefix string, burst int, stop, written, progress string) string {
	return fmt.Sprintf(`i=0
while [ ! -e %[2]s ]; do
	i=$((i+1))
	echo "%[1]s $i"
	echo $i >%[4]s
	if [ $((i %% %[5]d)) -eq 0 ]; then sleep 0.02; fi
done
echo $i >%[3]s.tmp && mv %[3]s.tmp %[3]s
exec sleep 100000`, prefix, stop, written, progress, burst)
}

// svReadInt reads a decimal number from a file, -1 if there is none yet.
func svReadInt(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return -1
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return -1
	}
	return n
}

// newSvRand returns a random source seeded with seed, so that a failing
// storm can be replayed.
func newSvRand(seed int64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), 0x5e7f1ce))
}
