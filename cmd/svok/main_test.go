package main

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/taikit/taikit/internal/testref"
	"github.com/taikit/taikit/supervise"
)

// TestAgainstDaemontools: both svok programs on the same directories, from
// a running supervisor (a reader on supervise/ok) to no directory at all.
func TestAgainstDaemontools(t *testing.T) {
	root := t.TempDir()
	running := filepath.Join(root, "running")
	os.MkdirAll(filepath.Join(running, "supervise"), 0o700)
	syscall.Mkfifo(supervise.OKPath(running), 0o600)
	fd, err := syscall.Open(supervise.OKPath(running), syscall.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	stopped := filepath.Join(root, "stopped")
	os.MkdirAll(filepath.Join(stopped, "supervise"), 0o700)
	syscall.Mkfifo(supervise.OKPath(stopped), 0o600)
	okDir := filepath.Join(root, "okdir")
	os.MkdirAll(supervise.OKPath(okDir), 0o700) // supervise/ok is a directory: EISDIR
	noSupervise := filepath.Join(root, "nosupervise")
	os.Mkdir(noSupervise, 0o755)
	file := filepath.Join(root, "file")
	os.WriteFile(file, nil, 0o644)

	for _, c := range []struct {
		args []string
		code int
	}{
		{nil, 100}, {[]string{running}, 0}, {[]string{stopped}, 100}, {[]string{noSupervise}, 100},
		{[]string{okDir}, 111}, {[]string{file}, 111}, {[]string{filepath.Join(root, "missing")}, 111},
		{[]string{stopped, running}, 100},
	} {
		var stderr bytes.Buffer
		code := run(c.args, &stderr)
		if code != c.code {
			t.Errorf("%q: exit %d, want %d (%s)", c.args, code, c.code, stderr.String())
		}
		if _, err := os.Stat("/usr/bin/svok"); err != nil {
			continue
		}
		theirs := testref.Exec(t, nil, nil, "/usr/bin/svok", c.args...)
		if theirs.Code != code || string(theirs.Stderr) != stderr.String() {
			t.Errorf("%q:\nours   exit %d %q\ntheirs exit %d %q", c.args, code, stderr.String(), theirs.Code, theirs.Stderr)
		}
	}
	testref.Need(t, "/usr/bin/svok") // report the skipped comparison
}
