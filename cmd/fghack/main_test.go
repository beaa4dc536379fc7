package main

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/taikit/taikit/internal/cli"
	"github.com/taikit/taikit/internal/testref"
	"github.com/taikit/taikit/supervise/chain/chaintest"
)

func TestMain(m *testing.M) { testref.TestMainOr(m, main) }

const ref = "/usr/bin/fghack"

func TestUsage(t *testing.T) {
	for _, argv := range [][]string{{"fghack"}, nil} {
		var errs bytes.Buffer
		if code := run(argv, nil, &errs); code != cli.ExitUsage || errs.String() != usage {
			t.Errorf("%q: exit %d, %q", argv, code, errs.String())
		}
	}
}

func TestSameAsDaemontools(t *testing.T) {
	for _, args := range [][]string{
		{}, {"-x"}, {"no-such-program"}, {"/nonexistent/program"}, {"/"},
		{"sh", "-c", "exit 7"}, {"sh", "-c", "echo out; echo err >&2"},
		{"sh", "-c", "kill -9 $$"}, {"sh", "-c", "kill -TERM $$"},
	} {
		chaintest.Run{Name: "fghack", Args: args}.Same(t, ref)
	}
}

// TestSameDescriptors compares the child's descriptors: 31 copies of the
// pipe's writing end, numbered as daemontools numbers them, around the
// descriptors the child inherits.
func TestSameDescriptors(t *testing.T) {
	// The listing goes to a file first: while a pipeline starts, the shell
	// holds pipe descriptors of its own for a moment.
	script := `ls -l /proc/$$/fd > "$0"; awk 'NR > 1 { sub(/:\[.*/, "", $11); print $9, $11 }' "$0" | sort -n | tr '\n' ' '`
	listing := filepath.Join(t.TempDir(), "fds")
	extra, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()
	for _, files := range [][]*os.File{nil, {extra}, {extra, nil, extra}} {
		res := chaintest.Run{Name: "fghack", Args: []string{"sh", "-c", script, listing}, Extra: files}.Same(t, ref)
		if n := bytes.Count(res.Stdout, []byte(" pipe ")); n < 31 {
			t.Errorf("%d pipe descriptors: %s", n, res.Stdout)
		}
	}
}

// TestWaitsForTheBackground: the child puts a process in the background
// and exits 5; fghack exits 5 only once the background process has gone.
func TestWaitsForTheBackground(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := chaintest.Run{Name: "fghack", Args: []string{"sh", "-c", `cat "$0" > /dev/null & exit 5`, fifo}}.Command(testref.Self(t))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		t.Fatalf("fghack exited while the background process ran: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	// Opening the FIFO for writing and closing it ends cat.
	w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	select {
	case err := <-done:
		if cmd.ProcessState.ExitCode() != 5 {
			t.Fatalf("fghack: %v, want exit 5", err)
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("fghack still running 30 s after the background process ended")
	}
}
