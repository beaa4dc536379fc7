package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/taikit/taikit/internal/cli"
	"github.com/taikit/taikit/internal/testref"
	"github.com/taikit/taikit/supervise/chain/chaintest"
)

// TestDevZero: a file linked to /dev/zero (a first line without end) is
// refused promptly, naming the file, with exit 111, in bounded memory. It
// once grew until Go's "fatal error: out of memory" (daemontools' envdir
// too grows until it runs out). The run has 2 GiB of address space
// (ulimit -v) and 20 seconds, so that the old behaviour fails fast.
func TestDevZero(t *testing.T) {
	dir := t.TempDir()
	if err := os.Symlink("/dev/zero", filepath.Join(dir, "ZERO")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", `ulimit -v 2097152 && exec "$0" "$@"`, testref.Self(t), dir, "true")
	cmd.Env = testref.Environ(testref.BeCommand)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	code := cmd.ProcessState.ExitCode()
	want := "envdir: fatal: unable to read " + dir + "/ZERO: first line longer than 131072 bytes\n"
	if ctx.Err() != nil || code != cli.ExitTemporary || stderr.String() != want {
		t.Fatalf("exit %d (%v), stderr %.300q; want exit 111, %q", code, err, stderr.String(), want)
	}
	if rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss; rss > 64<<10 {
		t.Errorf("peak resident set %d KiB, want at most 64 MiB", rss)
	}
}

// TestLongFirstLine: a value as long as execve takes is passed on, as by
// daemontools; a first line longer than MaxEnvLine is refused naming the
// file, with exit 111, where daemontools reads it whole and fails to run
// the child ("argument list too long", exit 111 too).
func TestLongFirstLine(t *testing.T) {
	dir := t.TempDir()
	mkdir(t, dir, "ok")
	mkdir(t, dir, "long")
	value := strings.Repeat("v", 131072-len("BIG=")-1) // NAME=value and its NUL: MAX_ARG_STRLEN
	write(t, dir, "ok/BIG", value+"\nsecond line\n")
	res := chaintest.Run{Name: "envdir", Args: []string{"ok", "sh", "-c", `test "${#BIG}" = 131067`}, Dir: dir}.Same(t, ref)
	if res.Code != 0 {
		t.Errorf("a value of %d bytes: exit %d, stderr %q", len(value), res.Code, res.Stderr)
	}

	write(t, dir, "long/BIG", strings.Repeat("v", 4<<20)+"\n")
	res = chaintest.Run{Name: "envdir", Args: []string{"long", "true"}, Dir: dir}.Ours(t)
	want := "envdir: fatal: unable to read long/BIG: first line longer than 131072 bytes\n"
	if res.Code != cli.ExitTemporary || string(res.Stderr) != want {
		t.Errorf("a 4 MiB first line: exit %d, stderr %q; want exit 111, %q", res.Code, res.Stderr, want)
	}
	if _, err := os.Stat(ref); err == nil {
		theirs := chaintest.Run{Name: "envdir", Args: []string{"long", "true"}, Dir: dir}.Theirs(t, ref)
		t.Logf("daemontools: exit %d, stderr %q", theirs.Code, theirs.Stderr)
		if theirs.Code != res.Code {
			t.Errorf("daemontools exits %d, ours %d", theirs.Code, res.Code)
		}
	}
}
