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
