package main

// A hostile or broken directory, or a broken invocation, gets a clear
// answer: a fatal message naming what is wrong, or a warning and a pause
// that SIGTERM ends — never a write into the wrong file, a hang or a
// runtime crash (issue 13).

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/taikit/taikit/internal/testref"
)

// runExtra runs prog like run, with extra as descriptors 3, 4, …
func runExtra(t *testing.T, prog, dir string, stdin []byte, extra []*os.File, args ...string) result {
	t.Helper()
	in := inputFile(t, stdin)
	defer in.Close()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Dir = dir
	cmd.Env = testref.Environ(commandEnv()...)
	cmd.Stdin = in
	cmd.ExtraFiles = extra
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%q did not finish within %v (stderr %q)", args, runTimeout, e.Bytes())
	}
	res := result{Stdout: o.Bytes(), Stderr: e.Bytes()}
	res.Offset, _ = in.Seek(0, 1)
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			res.Exit = -int(ws.Signal())
		} else {
			res.Exit = ee.ExitCode()
		}
	} else if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestReadinessDescriptorChecked: d<fd> names a descriptor multilog must
// have been given open for writing. One it was not given (d7, d9, d6: the
// numbers its own files and the Go runtime's poller would take — a write
// there crashed the runtime, closed current, or closed lock so that a
// second multilog took the directory), or one open only for reading, or
// one that is a directory, stops it at start-up with a message naming the
// descriptor, exit 111, nothing read and nothing created.
func TestReadinessDescriptorChecked(t *testing.T) {
	t.Parallel()
	prog := ours(t)
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	dirFile, err := os.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer dirFile.Close()
	for _, c := range []struct {
		word  string
		extra []*os.File
	}{
		{"d7", nil},
		{"d9", nil},
		{"d6", nil},
		{"d3", nil},
		{"d3", []*os.File{pr}},      // read end of a pipe
		{"d3", []*os.File{dirFile}}, // a directory
		{"d4", []*os.File{pw}},      // 3 given, 4 not
	} {
		dir := t.TempDir()
		res := runExtra(t, prog, dir, []byte("one\ntwo\n"), c.extra, "t", "./main", c.word, "./other")
		fd := c.word[1:]
		want := "multilog: fatal: unable to notify readiness on descriptor " + fd + ": "
		if res.Exit != 111 || !strings.HasPrefix(string(res.Stderr), want) || strings.Count(string(res.Stderr), "\n") != 1 {
			t.Errorf("%s with %d descriptors given: exit %d, stderr %q; want 111 and one line starting %q",
				c.word, len(c.extra), res.Exit, res.Stderr, want)
		}
		if res.Offset != 0 {
			t.Errorf("%s: read %d bytes of input before failing", c.word, res.Offset)
		}
		for _, d := range []string{"main", "other"} {
			if mode(filepath.Join(dir, d)) >= 0 {
				t.Errorf("%s: %s was created before the descriptor was checked", c.word, d)
			}
		}
	}
	// A descriptor given open for writing still works (TestReadiness),
	// also when it is the last of several.
	dir := t.TempDir()
	res := runExtra(t, prog, dir, []byte("one\n"), []*os.File{pr, pw}, "t", "./main", "d4")
	if res.Exit != 0 || len(res.Stderr) != 0 {
		t.Errorf("d4 given: exit %d, stderr %q", res.Exit, res.Stderr)
	}
	pw.Close()
	var b [8]byte
	if n, _ := pr.Read(b[:]); string(b[:n]) != "\n" {
		t.Errorf("d4 got %q; want one newline", b[:n])
	}
}

// stopHostile waits until multilog has exited or said something (a fatal
// message, or the warning of a pause), then sends SIGTERM if it still
// runs, and returns its exit code and standard error; it fails the test if
// multilog neither exits nor says anything (a hang in an open or a read),
// or does not exit on SIGTERM.
func stopHostile(t *testing.T, p *proc) (int, string) {
	t.Helper()
	testref.WaitFor(t, "multilog to exit or say something", func() bool { return p.exited() || p.stderr.String() != "" })
	// It may be exiting right after what it said: a SIGTERM that finds it
	// gone is no failure.
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatalf("sending SIGTERM: %v", err)
	}
	return p.wait(t, testref.Patience), p.stderr.String()
}

// fifo makes a FIFO at path with mode.
func fifo(t *testing.T, path string, mode uint32) {
	t.Helper()
	if err := syscall.Mkfifo(path, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, os.FileMode(mode)); err != nil {
		t.Fatal(err)
	}
}

// TestHostileFIFOAtStart: a FIFO at lock, or at a cleanly closed current
// (mode 0744), made multilog block for ever in open(2), deaf to SIGTERM.
// It now stops at once with a message naming the file and exit 111,
// nothing read; daemontools' multilog (compared when installed) also exits
// 111, its open failing with "device not configured".
func TestHostileFIFOAtStart(t *testing.T) {
	t.Parallel()
	prog := ours(t)
	for _, c := range []struct {
		name, want string
		mode       uint32
	}{
		{"lock", "multilog: fatal: unable to lock directory ./d: lock is a FIFO, not a regular file\n", 0o600},
		{"current", "multilog: fatal: unable to append to ./d/current: current is a FIFO, not a regular file\n", 0o744},
	} {
		dir := t.TempDir()
		if err := os.Mkdir(filepath.Join(dir, "d"), 0o700); err != nil {
			t.Fatal(err)
		}
		fifo(t, filepath.Join(dir, "d", c.name), c.mode)
		r, w := pipe(t)
		write(t, w, "x\n")
		p := start(t, prog, dir, r, nil, "t", "./d")
		code, stderr := stopHostile(t, p)
		if code != 111 || stderr != c.want {
			t.Errorf("%s a FIFO: exit %d, stderr %q; want 111, %q", c.name, code, stderr, c.want)
		}
		if n := pipeAvailable(r); n != 2 {
			t.Errorf("%s a FIFO: input read (%d bytes left of 2)", c.name, n)
		}
		if refOK(t) {
			dir := t.TempDir()
			os.Mkdir(filepath.Join(dir, "d"), 0o700)
			fifo(t, filepath.Join(dir, "d", c.name), c.mode)
			res := run(t, refMultilog, dir, []byte("x\n"), nil, "t", "./d")
			t.Logf("%s a FIFO: daemontools: exit %d, stderr %q", c.name, res.Exit, res.Stderr)
			if res.Exit != 111 {
				t.Errorf("%s a FIFO: daemontools exits %d; this test expects 111", c.name, res.Exit)
			}
		}
	}
}

// TestHostileFIFOAtProcessing: a FIFO at state, newstate or processed,
// met when a rotation runs the processor, made the processing step block
// for ever in open(2), and SIGTERM then waited for it. Now the processor's
// run fails with a message naming the file, is retried after a pause, and
// SIGTERM stops multilog at once, the rotated file kept as a .u archive.
func TestHostileFIFOAtProcessing(t *testing.T) {
	t.Parallel()
	prog := ours(t)
	for _, name := range []string{"state", "newstate", "processed"} {
		dir := t.TempDir()
		d := filepath.Join(dir, "d")
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
		// A cleanly closed directory: start-up leaves what is there alone.
		if err := os.WriteFile(filepath.Join(d, "current"), nil, 0o744); err != nil {
			t.Fatal(err)
		}
		os.Chmod(filepath.Join(d, "current"), 0o744)
		fifo(t, filepath.Join(d, name), 0o644)
		r, w := pipe(t)
		p := start(t, prog, dir, r, nil, "t", "!cat", "./d")
		write(t, w, "x\n")
		testref.WaitFor(t, "the line in current", func() bool { return len(readFile(filepath.Join(d, "current"))) > 0 })
		p.signal(t, syscall.SIGALRM)
		code, stderr := stopHostile(t, p)
		want := name + " is a FIFO, not a regular file"
		if !strings.Contains(stderr, want) || code < 0 {
			t.Errorf("%s a FIFO: exit %d, stderr %q; want an exit and a message saying %q", name, code, stderr, want)
		}
		if len(archives(t, d)) != 1 {
			t.Errorf("%s a FIFO: archives %q; want the rotated file kept", name, archives(t, d))
		}
	}
}
