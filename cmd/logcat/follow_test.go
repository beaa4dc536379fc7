package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/taikit/taikit/internal/testref"
)

// ourMultilog builds cmd/multilog once for the follow tests: the writer.
func ourMultilog(t *testing.T) string { return testref.Ours(t, "multilog") }

// writer is our multilog writing a log directory from lines the test feeds.
type writer struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	dir string
}

func startWriter(t *testing.T, script ...string) *writer {
	t.Helper()
	return startWriterIn(t, filepath.Join(t.TempDir(), "log"), script...)
}

// startWriterIn is startWriter on the log directory dir, made by
// multilog if it is not there.
func startWriterIn(t *testing.T, dir string, script ...string) *writer {
	t.Helper()
	cmd := exec.Command(ourMultilog(t), append(script, dir)...)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w := &writer{cmd: cmd, in: in, dir: dir}
	t.Cleanup(func() { w.in.Close(); w.cmd.Process.Kill(); w.cmd.Wait() })
	testref.WaitFor(t, "the log directory", func() bool {
		_, err := os.Stat(filepath.Join(dir, "current"))
		return err == nil
	})
	return w
}

func (w *writer) lines(t *testing.T, from, to int) {
	t.Helper()
	bw := bufio.NewWriterSize(w.in, 64<<10)
	for i := from; i < to; i++ {
		fmt.Fprintf(bw, "line %d %s\n", i, strings.Repeat("y", i%50))
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
}

func (w *writer) finish(t *testing.T) {
	t.Helper()
	w.in.Close()
	if err := w.cmd.Wait(); err != nil {
		t.Fatalf("multilog: %v", err)
	}
}

// follower is logcat -F running as a process, its output in a file.
type follower struct {
	cmd     *exec.Cmd
	out     string
	errFile string // the follower's standard error, when kept apart
}

func startFollower(t *testing.T, out string, args ...string) *follower {
	t.Helper()
	f, err := os.OpenFile(out, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(testref.Self(t), args...)
	// Killed while saving its cursor, logcat leaves the file it was
	// writing in $TMPDIR (renameio writes there when it can, then renames):
	// in the test's, it goes with it.
	cmd.Env = testref.Environ(testref.BeCommand, "TMPDIR="+t.TempDir())
	cmd.Stdout, cmd.Stderr = f, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	fl := &follower{cmd: cmd, out: out}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return fl
}

func (f *follower) output(t *testing.T) string {
	b, err := os.ReadFile(f.out)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// finalContent is the directory's archives in order then current,
// decompressed.
func finalContent(t *testing.T, dir string) string {
	t.Helper()
	names, _ := filepath.Glob(filepath.Join(dir, "@*"))
	sort.Strings(names)
	var b strings.Builder
	for _, n := range append(names, filepath.Join(dir, "current")) {
		b.Write(dirFile(t, n))
	}
	return b.String()
}

// A follower of a directory that rotates every ~100 lines, with zstd
// compression beside the writer, prints exactly the directory's final
// content; killed with SIGKILL while idle and restarted with its cursor, it
// goes on with no line lost or repeated.
func TestFollowAcrossRotations(t *testing.T) {
	w := startWriter(t, "t", "s4096", "n100000", "z")
	out := filepath.Join(t.TempDir(), "out")
	cursor := filepath.Join(t.TempDir(), "cursor")
	f := startFollower(t, out, "-F", "--cursor", cursor, w.dir)

	// Batches at full speed; between two, the follower is killed once it
	// has caught up, and restarted.
	batch := 5000 // about 200 rotations
	if os.Getenv("TAIKIT_LONG") == "1" {
		batch = 50000
	}
	for i := range 4 {
		w.lines(t, i*batch, (i+1)*batch)
		want := fmt.Sprintf("line %d %s\n", (i+1)*batch-1, strings.Repeat("y", ((i+1)*batch-1)%50))
		testref.WaitFor(t, "the follower to catch up", func() bool { return strings.HasSuffix(f.output(t), want) })
		if i == 1 {
			// Idle: the output is written, and the cursor saved just after.
			time.Sleep(500 * time.Millisecond)
			f.cmd.Process.Signal(syscall.SIGKILL)
			f.cmd.Wait()
			f = startFollower(t, out, "-F", "--cursor", cursor, w.dir)
		}
	}
	w.finish(t)
	content := finalContent(t, w.dir)
	testref.WaitFor(t, "the follower to print everything", func() bool { return len(f.output(t)) >= len(content) })
	f.cmd.Process.Signal(syscall.SIGTERM)
	if err := f.cmd.Wait(); err != nil {
		t.Errorf("logcat -F after SIGTERM: %v", err)
	}
	if got := f.output(t); got != content {
		t.Fatalf("follower output vs final content: %s", testref.Diff(content, got))
	}
	archives, _ := filepath.Glob(filepath.Join(w.dir, "@*"))
	t.Logf("%d lines over %d archives followed exactly", 4*batch, len(archives))
}

// Killed at any moment while lines stream in, a follower restarted with its
// cursor loses nothing; it may repeat what it wrote just before the kill
// (it saves the cursor after writing), and nothing else.
func TestFollowKilledAnyTime(t *testing.T) {
	w := startWriter(t, "t", "s4096", "n100000", "zg")
	out := filepath.Join(t.TempDir(), "out")
	cursor := filepath.Join(t.TempDir(), "cursor")
	f := startFollower(t, out, "-F", "--cursor", cursor, w.dir)
	done := make(chan struct{})
	go func() {
		defer close(done)
		total := 20000
		if os.Getenv("TAIKIT_LONG") == "1" {
			total = 100000
		}
		for i := 0; i < total; i += 500 {
			w.lines(t, i, i+500)
			time.Sleep(time.Millisecond)
		}
	}()
	var kills []int
	for range 3 {
		time.Sleep(100 * time.Millisecond)
		f.cmd.Process.Signal(syscall.SIGKILL)
		f.cmd.Wait()
		kills = append(kills, strings.Count(f.output(t), "\n"))
		f = startFollower(t, out, "-F", "--cursor", cursor, w.dir)
	}
	<-done
	w.finish(t)
	content := finalContent(t, w.dir)
	want := slices.Collect(strings.Lines(content))
	var got []string
	testref.WaitFor(t, "the follower to print everything", func() bool {
		got = slices.Collect(strings.Lines(f.output(t)))
		return len(got) > 0 && got[len(got)-1] == want[len(want)-1]
	})
	f.cmd.Process.Signal(syscall.SIGTERM)
	f.cmd.Wait()
	// Remove repeats: a line whose number is not above the last one seen
	// must be a repeat of a line just before a kill.
	var dedup []string
	last, repeats := -1, 0
	for _, l := range got {
		n := lineNumber(l)
		if n <= last {
			repeats++
			continue
		}
		last = n
		dedup = append(dedup, l)
	}
	if !slices.Equal(dedup, want) {
		t.Fatalf("follower output (repeats removed) vs final content: %s", testref.Diff(content, strings.Join(dedup, "")))
	}
	t.Logf("killed after %v lines; %d lines repeated after restarts", kills, repeats)
}

// lineNumber reads the number of a "<stamp> line <n> ..." line.
func lineNumber(l string) int {
	f := strings.Fields(l)
	if len(f) < 3 {
		return -1
	}
	n, _ := strconv.Atoi(f[2])
	return n
}

// The time from a line's write to its appearance in a follower's output,
// and the CPU a follower uses while nothing is written.
func TestFollowLatencyAndIdleCPU(t *testing.T) {
	w := startWriter(t, "t", "s4096", "n100000")
	cmd := exec.Command(testref.Self(t), "-F", w.dir)
	cmd.Env = testref.Environ(testref.BeCommand)
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	lines := bufio.NewScanner(stdout)
	var lat []time.Duration
	for i := range 120 {
		start := time.Now()
		fmt.Fprintf(w.in, "probe %d\n", i)
		if !lines.Scan() {
			t.Fatal("follower output ended")
		}
		if !strings.HasSuffix(lines.Text(), fmt.Sprintf(" probe %d", i)) {
			t.Fatalf("got %q, want probe %d", lines.Text(), i)
		}
		lat = append(lat, time.Since(start))
		time.Sleep(5 * time.Millisecond)
	}
	slices.Sort(lat)
	median := lat[len(lat)/2]
	t.Logf("write → printed, through multilog and logcat -F: median %v, 90th percentile %v, max %v", median, lat[len(lat)*9/10], lat[len(lat)-1])
	if median > 2*time.Second {
		t.Errorf("median latency %v: the follower is not woken by writes", median)
	}

	time.Sleep(300 * time.Millisecond)
	before := cpuTicks(t, cmd.Process.Pid)
	time.Sleep(3 * time.Second)
	used := cpuTicks(t, cmd.Process.Pid) - before
	t.Logf("CPU while idle for 3 s: %d ticks (1 tick = 10 ms)", used)
	if used > 10 {
		t.Errorf("the idle follower used %d ticks of CPU in 3 s: it is polling", used)
	}
}

// cpuTicks returns utime+stime of pid from /proc, in clock ticks.
func cpuTicks(t *testing.T, pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	u, _ := strconv.Atoi(f[11])
	st, _ := strconv.Atoi(f[12])
	return u + st
}

// Stopped cleanly (SIGTERM, SIGINT or SIGHUP) at any moment while a writer
// rotates and compresses at full speed, and restarted with its cursor, a
// follower exits 0 with nothing to say, and its output over all the runs
// is the directory's content exactly: no line lost, none repeated.
func TestFollowCleanStopsExact(t *testing.T) {
	for _, comp := range []string{"zg", "z"} {
		t.Run(comp, func(t *testing.T) {
			w := startWriter(t, "t", "s4096", "n100000", comp)
			tmp := t.TempDir()
			out := filepath.Join(tmp, "out")
			cursor := filepath.Join(tmp, "cursor")
			total, cycles := 30000, 25
			if os.Getenv("TAIKIT_LONG") == "1" {
				total, cycles = 200000, 150
			}
			done := make(chan struct{})
			go func() {
				defer close(done)
				for i := 0; i < total; i += 250 {
					w.lines(t, i, i+250)
					time.Sleep(time.Duration(i%3) * time.Millisecond)
				}
			}()
			sigs := []syscall.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP}
			stop := func(f *follower, sig syscall.Signal) {
				t.Helper()
				f.cmd.Process.Signal(sig)
				if err := f.cmd.Wait(); err != nil {
					t.Fatalf("logcat -F after %v: %v", sig, err)
				}
				if msg, _ := os.ReadFile(f.errFile); len(msg) > 0 {
					t.Fatalf("logcat -F said: %s", msg)
				}
			}
			for i := range cycles {
				f := startQuietFollower(t, out, "-F", "--cursor", cursor, w.dir)
				// A signal that comes before logcat catches it kills it, as
				// it would any program: wait until it reads the directory.
				testref.WaitFor(t, "logcat to read the directory", func() bool { return reading(f.cmd.Process.Pid, w.dir) })
				// From a few milliseconds (still reading what is there)
				// to a while (following).
				time.Sleep(time.Duration(5+(i*37)%120) * time.Millisecond)
				stop(f, sigs[i%len(sigs)])
			}
			<-done
			w.finish(t)
			content := finalContent(t, w.dir)
			f := startQuietFollower(t, out, "-F", "--cursor", cursor, w.dir)
			testref.WaitFor(t, "logcat to read the directory", func() bool { return reading(f.cmd.Process.Pid, w.dir) })
			testref.WaitFor(t, "the follower to print everything", func() bool { return len(f.output(t)) >= len(content) })
			stop(f, syscall.SIGTERM)
			if got := f.output(t); got != content {
				t.Fatalf("output of %d runs vs final content: %s", cycles+1, testref.Diff(content, got))
			}
		})
	}
}

// startQuietFollower is startFollower with the follower's standard error
// kept in a file of its own (errFile), to be checked.
func startQuietFollower(t *testing.T, out string, args ...string) *follower {
	t.Helper()
	f, err := os.OpenFile(out, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	errFile, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer errFile.Close()
	cmd := exec.Command(testref.Self(t), args...)
	cmd.Env = testref.Environ(testref.BeCommand, "TMPDIR="+t.TempDir()) // as startFollower's
	cmd.Stdout, cmd.Stderr = f, errFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return &follower{cmd: cmd, out: out, errFile: errFile.Name()}
}

// reading reports whether process pid has a file of dir open, or an
// inotify descriptor: logcat is past catching its signals and reads the
// log directory.
func reading(pid int, dir string) bool {
	fds, _ := filepath.Glob(fmt.Sprintf("/proc/%d/fd/*", pid))
	for _, fd := range fds {
		if l, err := os.Readlink(fd); err == nil && (strings.HasPrefix(l, dir+"/") || l == "anon_inode:inotify") {
			return true
		}
	}
	return false
}
