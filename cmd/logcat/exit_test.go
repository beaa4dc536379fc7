package main

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/taikit/taikit/internal/testref"
)

// logcat exits as grep does for what it selected (0 something, 1 nothing,
// whatever the options), and as daemontools programs do for trouble (100
// usage, 111 an input or the output failed), with 3 for data pruned before
// it was read: every status of trouble is 2 or more, as grep's is.
func TestExitStatus(t *testing.T) {
	root := t.TempDir()
	full := filepath.Join(root, "full")
	empty := filepath.Join(root, "empty")
	for _, d := range []string{full, empty} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	content := lbl(1_800_000_000, 0) + " GET /orders 200\n" + lbl(1_800_000_001, 0) + " GET /orders 500\n"
	if err := os.WriteFile(filepath.Join(full, "current"), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(empty, "current"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(root, "missing")
	cases := []struct {
		name  string
		stdin string
		args  []string
		code  int
		out   string
	}{
		{"lines read", "", []string{full}, 0, content},
		{"an empty log", "", []string{empty}, 1, ""},
		{"empty standard input", "", nil, 1, ""},
		{"standard input", "x\n", nil, 0, "x\n"},
		{"a line without a newline", "x", nil, 0, "x"},
		{"a match", "", []string{"-E", " 500$", full}, 0, lbl(1_800_000_001, 0) + " GET /orders 500\n"},
		{"no match", "", []string{"-E", " 404$", full}, 1, ""},
		{"-c, a match", "", []string{"-c", "-E", "GET", full}, 0, "2\n"},
		{"-c, no match: 0 and exit 1, as grep -c", "", []string{"-c", "-E", "POST", full}, 1, "0\n"},
		{"-v selecting none", "", []string{"-v", "-E", "GET", full}, 1, ""},
		{"a time range with nothing in it", "", []string{"-S", "2030-01-01", full}, 1, ""},
		{"-m 1", "", []string{"-m", "1", full}, 0, lbl(1_800_000_000, 0) + " GET /orders 200\n"},
		{"a merge of an empty log and a full one", "", []string{"--no-label", empty, full}, 0, content},
		{"a usage error", "", []string{"-A", "x", full}, 100, ""},
		{"a missing input, though lines were selected", "", []string{full, missing}, 111, content},
		{"a missing input alone", "", []string{missing}, 111, ""},
	}
	for _, c := range cases {
		r := run(t, c.stdin, c.args...)
		if r.code != c.code || r.out != c.out {
			t.Errorf("%s: logcat %q: exit %d, output %q (%s); want %d, %q", c.name, c.args, r.code, r.out, r.err, c.code, c.out)
		}
	}
	// The same statuses from the process, through os.Exit.
	for _, c := range []struct {
		args []string
		code int
	}{{[]string{full}, 0}, {[]string{"-E", "404", full}, 1}, {[]string{empty}, 1}, {[]string{missing}, 111}, {[]string{"--nope"}, 100}} {
		cmd := exec.Command(testref.Self(t), c.args...)
		cmd.Env = testref.Environ(testref.BeCommand)
		cmd.Stdin = strings.NewReader("")
		if code := exitCode(t, cmd.Run()); code != c.code {
			t.Errorf("the process, logcat %q: exit %d, want %d", c.args, code, c.code)
		}
	}
}

// An output that cannot be written is trouble: 111, whatever was selected.
func TestExitStatusWriteError(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "current"), []byte(lbl(1_800_000_000, 0)+" x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skipf("no /dev/full: %v", err)
	}
	defer full.Close()
	cmd := exec.Command(testref.Self(t), dir)
	cmd.Env = testref.Environ(testref.BeCommand)
	cmd.Stdout = full
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if code := exitCode(t, cmd.Run()); code != 111 || !strings.Contains(stderr.String(), "unable to write output") {
		t.Errorf("writing to /dev/full: exit %d, %q; want 111", code, stderr.String())
	}
}

// Writing to a pipe, logcat makes it hold 1 MiB, so that its 256 KiB
// writes do not each wait for the reader; the output is unchanged.
func TestWidensOutputPipe(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "current"), []byte(lbl(1_800_000_000, 0)+" x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	before, err := unix.FcntlInt(r.Fd(), unix.F_GETPIPE_SZ, 0)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(testref.Self(t), dir)
	cmd.Env = testref.Environ(testref.BeCommand)
	cmd.Stdout = w
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	after, err := unix.FcntlInt(r.Fd(), unix.F_GETPIPE_SZ, 0)
	if err != nil {
		t.Fatal(err)
	}
	if before >= 1<<20 || after != 1<<20 {
		t.Errorf("the pipe held %d bytes before, %d after; want 1 MiB after", before, after)
	}
	out, _ := io.ReadAll(r)
	if string(out) != lbl(1_800_000_000, 0)+" x\n" {
		t.Errorf("output %q", out)
	}
}
