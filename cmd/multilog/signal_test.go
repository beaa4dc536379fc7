package main

// Signals and readiness, on multilog running as a process fed through a
// pipe (spec §11, the procedural cases P01–P04 and P15, and §18.2: TERM and
// ALRM act promptly even while a processor runs or an error pauses). Waits
// are polls bounded by generous limits; the only timing assertions are
// "within 2 s" where daemontools would wait for more input or for ever.

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/taikit/taikit/internal/conformance"
)

// prompt is how soon a signal must take effect.
const prompt = 2 * time.Second

// pipe returns a new pipe, both ends closed when the test ends.
func pipe(t *testing.T) (r, w *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	return r, w
}

// write writes s to the pipe.
func write(t *testing.T, w *os.File, s string) {
	t.Helper()
	if _, err := w.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
}

// lockHeld reports whether some process holds the flock on path.
func lockHeld(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if err == nil {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		return false
	}
	return errors.Is(err, syscall.EWOULDBLOCK)
}

// waitOneByteRead waits until some thread of process pid waits for the
// rest of the line after a TERM in the middle of one, as
// /proc/<pid>/task/*/syscall shows: in read(0, …, 1) when standard input
// is not a pipe, in select on descriptor 0 alone (no wake-up descriptor
// any more) when it is. It returns false at once where
// that cannot be seen (another architecture, no access), and after limit.
func waitOneByteRead(pid int, limit time.Duration) bool {
	nr := map[string]string{"amd64": "0", "arm64": "63"}[runtime.GOARCH]
	sel := map[string]string{"amd64": "23", "arm64": "72"}[runtime.GOARCH]
	if nr == "" {
		return false
	}
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/syscall", pid))
		if err != nil || len(tasks) == 0 {
			return false
		}
		for _, f := range tasks {
			b, err := os.ReadFile(f)
			if err != nil {
				return false
			}
			// "<nr> <fd> <buf> <count> …"
			w := strings.Fields(string(b))
			if len(w) >= 4 && w[0] == nr && w[1] == "0x0" && w[3] == "0x1" {
				return true
			}
			if len(w) >= 2 && w[0] == sel && w[1] == "0x1" {
				return true
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}

// fileIs returns a condition: path holds exactly want.
func fileIs(path, want string) func() bool {
	return func() bool { b, err := os.ReadFile(path); return err == nil && string(b) == want }
}

// TestSignalALRM (P01): ALRM rotates every directory whose current is not
// empty, at once, without waiting for more input (§18.2); an empty current
// is left alone.
func TestSignalALRM(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r, w := pipe(t)
	p := start(t, ours(t), dir, r, nil, "./d1", "-*", "./d2")
	d1, d2 := filepath.Join(dir, "d1"), filepath.Join(dir, "d2")
	write(t, w, "x\ny\n")
	eventually(t, 10*time.Second, "d1/current holds the input", fileIs(filepath.Join(d1, "current"), "x\ny\n"))

	p.signal(t, syscall.SIGALRM)
	eventually(t, prompt, "ALRM rotated d1 (no input after it)", func() bool {
		return len(archives(t, d1)) == 1 && mode(filepath.Join(d1, "current")) == 0o644 &&
			len(readFile(filepath.Join(d1, "current"))) == 0
	})
	a := filepath.Join(d1, archives(t, d1)[0])
	eventually(t, prompt, "the archive complete", func() bool { return mode(a) == 0o744 })
	if got := string(readFile(a)); !strings.HasSuffix(a, ".s") || got != "x\ny\n" {
		t.Errorf("archive %s holds %q", filepath.Base(a), got)
	}
	if n := archives(t, d2); len(n) != 0 {
		t.Errorf("d2's empty current was rotated: %q", n)
	}

	// Every current empty now: another ALRM changes nothing.
	p.signal(t, syscall.SIGALRM)
	time.Sleep(300 * time.Millisecond)
	if n1, n2 := archives(t, d1), archives(t, d2); len(n1) != 1 || len(n2) != 0 {
		t.Errorf("ALRM with empty currents made archives: d1 %q, d2 %q", n1, n2)
	}

	write(t, w, "z\n")
	w.Close()
	if code := p.wait(t, 10*time.Second); code != 0 {
		t.Errorf("exit %d", code)
	}
	if got, m := string(readFile(filepath.Join(d1, "current"))), mode(filepath.Join(d1, "current")); got != "z\n" || m != 0o744 {
		t.Errorf("d1/current %q mode %04o; want \"z\\n\" 0744", got, m)
	}
	if s := p.stderr.String(); s != "" {
		t.Errorf("stderr %q", s)
	}
}

// TestSignalTERMMidLine (P02): TERM in the middle of a line finishes that
// line, reading exactly up to and including its newline, logs it, and
// leaves the rest in the pipe for the next reader.
func TestSignalTERMMidLine(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r, w := pipe(t) // the test keeps r open: it reads what is left
	p := start(t, ours(t), dir, r, nil, "./d")
	cur := filepath.Join(dir, "d", "current")
	write(t, w, "a1\nb2")
	eventually(t, 10*time.Second, "the input consumed", func() bool {
		return pipeAvailable(w) == 0 && strings.HasPrefix(string(readFile(cur)), "a1\n")
	})

	p.signal(t, syscall.SIGTERM)
	// The TERM must have been taken before more input comes: as with
	// daemontools, input that arrives together with the signal may be
	// read in one go. Taken, it reads one byte at a time.
	if !waitOneByteRead(p.cmd.Process.Pid, 10*time.Second) {
		time.Sleep(time.Second)
	}
	if p.exited() {
		t.Fatalf("multilog exited before the line in progress ended; stderr %q", p.stderr.String())
	}
	write(t, w, "tail\nNEXT1\nNEXT2\n")
	if code := p.wait(t, 5*time.Second); code != 0 {
		t.Errorf("exit %d; stderr %q", code, p.stderr.String())
	}
	if got, m := string(readFile(cur)), mode(cur); got != "a1\nb2tail\n" || m != 0o744 {
		t.Errorf("current %q mode %04o; want \"a1\\nb2tail\\n\" 0744", got, m)
	}
	w.Close()
	rest, err := io.ReadAll(r)
	if err != nil || string(rest) != "NEXT1\nNEXT2\n" {
		t.Errorf("left in the pipe: %q (%v); want \"NEXT1\\nNEXT2\\n\"", rest, err)
	}
}

// TestSignalTERMAtBoundary (P03): TERM at a line boundary, or before any
// input, ends multilog at once with exit 0 and a cleanly closed current.
func TestSignalTERMAtBoundary(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ name, input string }{{"after a line", "a\n"}, {"before any input", ""}} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			r, w := pipe(t)
			p := start(t, ours(t), dir, r, nil, "./d")
			cur := filepath.Join(dir, "d", "current")
			write(t, w, c.input)
			// current exists once multilog catches TERM (main installs
			// its handlers before opening the directories).
			eventually(t, 10*time.Second, "the input consumed", func() bool {
				return mode(cur) >= 0 && pipeAvailable(w) == 0 && string(readFile(cur)) == c.input
			})
			sent := time.Now()
			p.signal(t, syscall.SIGTERM)
			if code := p.wait(t, prompt); code != 0 {
				t.Errorf("exit %d; stderr %q", code, p.stderr.String())
			}
			t.Logf("exited %v after TERM", time.Since(sent).Round(time.Millisecond))
			if got, m := string(readFile(cur)), mode(cur); got != c.input || m != 0o744 {
				t.Errorf("current %q mode %04o; want %q 0744", got, m, c.input)
			}
			if s := p.stderr.String(); s != "" {
				t.Errorf("stderr %q", s)
			}
		})
	}
}

// TestSignalTERMDuringProcessor (P04 reversed, §18.2): daemontools ignores a
// TERM that arrives while its processor runs until more input comes; taikit
// stops the processor and exits at once, keeping the unprocessed file as a
// .u archive: nothing is lost.
func TestSignalTERMDuringProcessor(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r, w := pipe(t)
	p := start(t, ours(t), dir, r, nil, "s4096", "!sleep 2; cat", "./d")
	d := filepath.Join(dir, "d")
	first := string(conformance.GenLines(21, 100)) // 2100 bytes: closed at its last newline
	write(t, w, first+"tail\n")
	eventually(t, 10*time.Second, "the processor running", func() bool {
		return mode(filepath.Join(d, "processed")) >= 0 && string(readFile(filepath.Join(d, "current"))) == "tail\n"
	})
	sent := time.Now()
	p.signal(t, syscall.SIGTERM)
	code := p.wait(t, 10*time.Second)
	took := time.Since(sent)
	t.Logf("exited %v after TERM, exit %d, stderr %q", took.Round(time.Millisecond), code, p.stderr.String())
	if took > 1500*time.Millisecond {
		t.Errorf("BUG: multilog took %v to exit after TERM: it waited for the processor (sleep 2) instead of stopping it", took.Round(time.Millisecond))
	}
	if code != 0 {
		t.Errorf("exit %d; want 0", code)
	}
	names := archives(t, d)
	if len(names) != 1 || !strings.HasSuffix(names[0], ".u") {
		t.Errorf("BUG: archives %q; want one .u holding the unprocessed file", names)
	} else if got := string(readFile(filepath.Join(d, names[0]))); got != first {
		t.Errorf("the .u holds %d bytes; want the %d of the unprocessed file", len(got), len(first))
	}
	for _, f := range []string{"previous", "processed", "newstate"} {
		if mode(filepath.Join(d, f)) >= 0 {
			t.Errorf("%s left behind", f)
		}
	}
	if got, m := string(readFile(filepath.Join(d, "current"))), mode(filepath.Join(d, "current")); got != "tail\n" || m != 0o744 {
		t.Errorf("current %q mode %04o; want \"tail\\n\" 0744", got, m)
	}
}

// TestSignalTERMDuringPause: TERM during an error pause acts at once
// (daemontools ignores it while it sleeps, §11.6, §14.8): a processor that
// keeps failing, and a full disk (a 64 KiB tmpfs; root only).
func TestSignalTERMDuringPause(t *testing.T) {
	t.Parallel()
	t.Run("failing processor", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		r, w := pipe(t)
		p := start(t, ours(t), dir, r, nil, "s4096", "!exit 1", "./d")
		d := filepath.Join(dir, "d")
		first := string(conformance.GenLines(21, 100))
		write(t, w, first)
		eventually(t, 10*time.Second, "the processor failing", func() bool {
			return strings.Contains(p.stderr.String(), "multilog: warning: processor failed in ./d, pausing\n")
		})
		sent := time.Now()
		p.signal(t, syscall.SIGTERM)
		code := p.wait(t, prompt)
		t.Logf("exited %v after TERM, exit %d, stderr %q", time.Since(sent).Round(time.Millisecond), code, p.stderr.String())
		if code != 0 {
			t.Errorf("exit %d; want 0 (nothing was lost)", code)
		}
		names := archives(t, d)
		if len(names) != 1 || !strings.HasSuffix(names[0], ".u") || string(readFile(filepath.Join(d, names[0]))) != first {
			t.Errorf("archives %q; want one .u holding the unprocessed file", names)
		}
		if m := mode(filepath.Join(d, "current")); m != 0o744 {
			t.Errorf("current mode %04o; want 0744", m)
		}
	})
	t.Run("full disk", func(t *testing.T) {
		t.Parallel()
		if os.Geteuid() != 0 {
			t.Skip("mounting a small tmpfs needs root")
		}
		dir := t.TempDir()
		mnt := filepath.Join(dir, "mnt")
		if err := os.Mkdir(mnt, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=64k"); err != nil {
			t.Skipf("cannot mount a tmpfs: %v", err)
		}
		t.Cleanup(func() {
			if err := syscall.Unmount(mnt, 0); err != nil {
				t.Errorf("unmount %s: %v", mnt, err)
			}
		})
		r, w := pipe(t)
		p := start(t, ours(t), dir, r, nil, "s16777215", "./mnt/d")
		go func() {
			// More than the disk holds; the writes block once multilog
			// pauses and fail once it exits.
			w.Write([]byte(strings.Repeat(strings.Repeat("f", 99)+"\n", 1500)))
		}()
		eventually(t, 10*time.Second, "the disk full", func() bool {
			return strings.Contains(p.stderr.String(), "multilog: warning: unable to write to ./mnt/d/current, pausing: out of disk space\n")
		})
		sent := time.Now()
		p.signal(t, syscall.SIGTERM)
		code := p.wait(t, prompt)
		t.Logf("exited %v after TERM, exit %d, stderr %q", time.Since(sent).Round(time.Millisecond), code, p.stderr.String())
		// Some input could not be logged: exit 111, with a warning saying
		// so (doc/man8/multilog.8, EXIT STATUS).
		if code != 111 || !strings.Contains(p.stderr.String(), "multilog: warning: stopping on SIGTERM while a directory still refused data") {
			t.Errorf("exit %d; want 111 and a warning that input was not logged", code)
		}
		if m := mode(filepath.Join(mnt, "d", "current")); m != 0o744 {
			t.Errorf("current mode %04o; want 0744 (a clean stop)", m)
		}
	})
}

// TestSignalHUP (P15): HUP kills multilog, as daemontools' default action
// does: current stays 0644, for the next start to keep as a .u.
func TestSignalHUP(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r, w := pipe(t)
	// Under nohup the tests inherit SIGHUP ignored, and multilog would
	// too (as daemontools' does): while this process handles it, a child
	// starts with the default action.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	p := start(t, ours(t), dir, r, nil, "./d")
	signal.Stop(hup)
	cur := filepath.Join(dir, "d", "current")
	write(t, w, "x\n")
	eventually(t, 10*time.Second, "current holds the input", fileIs(cur, "x\n"))
	p.signal(t, syscall.SIGHUP)
	if code := p.wait(t, prompt); code != -int(syscall.SIGHUP) {
		t.Errorf("exit %d; want killed by SIGHUP (%d)", code, -int(syscall.SIGHUP))
	}
	if got, m := string(readFile(cur)), mode(cur); got != "x\n" || m != 0o644 {
		t.Errorf("current %q mode %04o; want \"x\\n\" 0644", got, m)
	}
}

// TestReadiness: the d3 word makes multilog write one newline to
// descriptor 3 once every directory is ready (created, locked, recovered),
// and then close it (s6-log's -d).
func TestReadiness(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r, w := pipe(t)
	nr, nw := pipe(t)
	p := start(t, ours(t), dir, r, []*os.File{nw}, "d3", "./d1", "./d2")
	nw.Close()
	got := make(chan []byte, 1)
	go func() { b, _ := io.ReadAll(nr); got <- b }()
	select {
	case b := <-got:
		if string(b) != "\n" {
			t.Errorf("descriptor 3 got %q; want one newline", b)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no readiness (or descriptor 3 not closed) within 10 s; stderr %q", p.stderr.String())
	}
	if p.exited() {
		t.Fatalf("multilog exited; stderr %q", p.stderr.String())
	}
	for _, d := range []string{"d1", "d2"} {
		for _, f := range []string{"current", "state", "lock"} {
			if mode(filepath.Join(dir, d, f)) < 0 {
				t.Errorf("ready, but %s/%s is missing", d, f)
			}
		}
		if !lockHeld(filepath.Join(dir, d, "lock")) {
			t.Errorf("ready, but %s is not locked", d)
		}
	}
	write(t, w, "x\n")
	w.Close()
	if code := p.wait(t, 10*time.Second); code != 0 {
		t.Errorf("exit %d", code)
	}
	if s := p.stderr.String(); s != "" {
		t.Errorf("stderr %q", s)
	}
}
