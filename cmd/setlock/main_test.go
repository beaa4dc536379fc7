package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/taikit/taikit/internal/cli"
	"github.com/taikit/taikit/internal/testref"
	"github.com/taikit/taikit/supervise/chain"
	"github.com/taikit/taikit/supervise/chain/chaintest"
)

func TestMain(m *testing.M) { testref.TestMainOr(m, main) }

const ref = "/usr/bin/setlock"

func TestUsage(t *testing.T) {
	for _, argv := range [][]string{{"setlock"}, {"setlock", "f"}, {"setlock", "-n", "f"}, nil} {
		var errs bytes.Buffer
		if code := run(argv, nil, &errs); code != cli.ExitUsage || errs.String() != usage {
			t.Errorf("%q: exit %d, %q", argv, code, errs.String())
		}
	}
}

func TestSameMessagesAsDaemontools(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{}, {"lk"}, {"-n"}, {"-q"}, {"-nq", "lk", "true"}, {"--", "-n"}, {"-x", "lk"},
		{"/nonexistent/lk", "true"}, {"-x", "/nonexistent/lk", "true"}, {"-nx", "/nonexistent/lk", "true"},
		{"/tmp", "true"}, {"-x", "/tmp", "true"}, {"lk", "no-such-program"}, {"-x", "lk", "no-such-program"},
		{"-nNxX", "lk", "sh", "-c", "echo ran; exit 3"},
	} {
		chaintest.Run{Name: "setlock", Args: args, Dir: dir}.Same(t, ref)
	}
}

// TestChildHoldsTheLock compares what the child sees: its descriptors
// (the lock on descriptor 3), the file's mode, and a FLOCK lock of its
// own in /proc/locks.
func TestChildHoldsTheLock(t *testing.T) {
	dir := t.TempDir()
	// ls's output goes to a file, not a pipe: while the shell builds a
	// pipeline it holds the pipes' descriptors itself, and ls would list
	// them or not depending on how far the shell got. A redirection is
	// opened in the child alone.
	script := `ls /proc/$$/fd > fds; sort -n fds | tr '\n' ' '; echo; readlink /proc/$$/fd/3; stat -c %a lk; awk -v p=$$ '$2 == "FLOCK" && $4 == "WRITE" && $5 == p' /proc/locks | wc -l`
	for _, name := range []string{"lk"} {
		r := chaintest.Run{Name: "setlock", Args: []string{name, "sh", "-c", script}, Dir: dir}
		var res testref.Result
		if raceEnabled {
			res = r.Ours(t)
		} else {
			res = r.Same(t, ref)
		}
		lines := chaintest.Lines(res.Stdout)
		if len(lines) != 4 || !strings.Contains(lines[0], " 3 ") || lines[1] != filepath.Join(dir, "lk") || lines[2] != "600" || lines[3] != "1" {
			t.Errorf("child saw %q", lines)
		}
		os.Remove(filepath.Join(dir, name))
	}
}

// TestBusyLock holds the lock in this process: -n fails as daemontools
// does, -nx exits 0 silently, and the default waits until the lock is
// free and then runs the program.
func TestBusyLock(t *testing.T) {
	dir := t.TempDir()
	lk := filepath.Join(dir, "lk")
	fd, err := chain.Lock(lk, true)
	if err != nil {
		t.Fatal(err)
	}
	// Not for the programs started here, which would hold it too.
	syscall.CloseOnExec(fd)
	defer func() { syscall.Close(fd) }()
	res := chaintest.Run{Name: "setlock", Args: []string{"-n", lk, "echo", "ran"}}.Same(t, ref)
	if res.Code != cli.ExitTemporary || string(res.Stderr) != "setlock: fatal: unable to lock "+lk+": temporary failure\n" {
		t.Errorf("-n: exit %d, %q", res.Code, res.Stderr)
	}
	res = chaintest.Run{Name: "setlock", Args: []string{"-nx", lk, "echo", "ran"}}.Same(t, ref)
	if res.Code != 0 || len(res.Stdout)+len(res.Stderr) != 0 {
		t.Errorf("-nx: exit %d, %q %q", res.Code, res.Stdout, res.Stderr)
	}

	// Waiting: the program must not run while the lock is held here.
	ran := filepath.Join(dir, "ran")
	cmd := chaintest.Run{Name: "setlock", Args: []string{"-N", lk, "touch", ran}}.Command(testref.Self(t))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		t.Fatalf("setlock did not wait for the lock: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	if _, err := os.Stat(ran); err == nil {
		t.Fatal("the program ran while the lock was held")
	}
	syscall.Close(fd)
	fd = -1
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("setlock still waiting 30 s after the lock was released")
	}
	if _, err := os.Stat(ran); err != nil {
		t.Fatal("the program did not run once the lock was free")
	}
}
