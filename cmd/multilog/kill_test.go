package main

// A kill at any moment loses nothing when standard input is a pipe: what
// multilog has taken but not yet written is still in the pipe for the next
// multilog (issue 14).

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/taikit/taikit/internal/conformance"
	"github.com/taikit/taikit/internal/testref"
)

// TestKillMidBatchLosesNothing kills multilog while it is stuck in the
// middle of writing one read's worth of lines (its second rotation waits
// for a processor that waits for the test), then runs a second multilog on
// the same pipe to the end: every line is in the directory. daemontools
// loses what it had read; taikit before issue 14 lost its whole read.
// Nor is anything written twice: the second multilog reads in the
// directory's "unconsumed" record how much of the batch the directory
// has, and writes only the rest, though it runs without the processor.
func TestKillMidBatchLosesNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	gate := filepath.Join(dir, "gate")
	if err := syscall.Mkfifo(gate, 0o600); err != nil {
		t.Fatal(err)
	}
	// The processor outlives the killed multilog, blocked on the gate: let
	// it go whatever happens (a writer that finds no reader is refused).
	release := func() {
		if f, err := os.OpenFile(gate, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Write([]byte("\n"))
			f.Close()
		}
	}
	t.Cleanup(release)
	r, w := pipe(t)
	input := conformance.GenLines(200, 100) // 20000 bytes: one read, five files of s4096
	write(t, w, string(input))
	p := start(t, ours(t), dir, r, nil, "s4096", "n100", "!exec 2>/dev/null; cat; : > ../started; read x < ../gate", "./d")
	eventually(t, 30*time.Second, "the processor of the first file waiting", func() bool {
		return mode(filepath.Join(dir, "started")) >= 0
	})
	p.signal(t, syscall.SIGKILL)
	p.wait(t, 10*time.Second)
	left := pipeAvailable(w)
	t.Logf("killed with %d of %d bytes left in the pipe", left, len(input))
	for mode(filepath.Join(dir, "started")) >= 0 {
		release()
		os.Remove(filepath.Join(dir, "started"))
	}

	q := start(t, ours(t), dir, r, nil, "s4096", "n100", "./d")
	w.Close()
	if code := q.wait(t, 30*time.Second); code != 0 || q.stderr.String() != "" {
		t.Fatalf("second multilog: exit %d, stderr %q", code, q.stderr.String())
	}
	d := filepath.Join(dir, "d")
	var all []byte
	for _, n := range append(archives(t, d), "current") {
		all = append(all, readFile(filepath.Join(d, n))...)
	}
	lost, dup := 0, 0
	for _, line := range strings.SplitAfter(string(input), "\n") {
		if line == "" {
			continue
		}
		switch c := bytes.Count(all, []byte(line)); {
		case c == 0:
			lost++
		case c > 1:
			dup++
		}
	}
	t.Logf("lines lost %d, duplicated %d (of %d); files %q", lost, dup, 200, append(archives(t, d), "current"))
	if lost > 0 {
		t.Errorf("%d of 200 lines lost by a kill", lost)
	}
	if dup > 0 || bytes.Count(all, []byte("\n")) != 200 {
		t.Errorf("%d of 200 lines written twice, %d lines in all: the record of the unconsumed batch was not followed", dup, bytes.Count(all, []byte("\n")))
	}
}

// TestRefMultilogWithUnconsumed: our multilog killed while reading a pipe
// leaves its "unconsumed" record in the directory; daemontools' multilog,
// given the directory then, ignores the file and logs as always, and ours
// takes the directory back after it (the record names another pipe: it
// is not trusted) and removes it at its clean stop.
func TestRefMultilogWithUnconsumed(t *testing.T) {
	testref.Need(t, refMultilog)
	t.Parallel()
	dir := t.TempDir()
	d := filepath.Join(dir, "d")
	r, w := pipe(t)
	p := start(t, ours(t), dir, r, nil, "./d")
	write(t, w, "line 0\n")
	eventually(t, 30*time.Second, "line 0 in current", func() bool {
		return string(readFile(filepath.Join(d, "current"))) == "line 0\n"
	})
	p.signal(t, syscall.SIGKILL)
	p.wait(t, 10*time.Second)
	if _, err := os.Stat(filepath.Join(d, "unconsumed")); err != nil {
		t.Fatalf("after a kill: %v", err)
	}
	for i, prog := range []string{refMultilog, ours(t)} {
		r, w := pipe(t)
		write(t, w, fmt.Sprintf("line %d\n", i+1))
		w.Close()
		p := start(t, prog, dir, r, nil, "./d")
		if code := p.wait(t, 30*time.Second); code != 0 || p.stderr.String() != "" {
			t.Fatalf("%s: exit %d, stderr %q", prog, code, p.stderr.String())
		}
	}
	var all []byte
	for _, n := range append(archives(t, d), "current") {
		all = append(all, readFile(filepath.Join(d, n))...)
	}
	if string(all) != "line 0\nline 1\nline 2\n" {
		t.Errorf("the directory holds %q", all)
	}
	if _, err := os.Lstat(filepath.Join(d, "unconsumed")); err == nil {
		t.Errorf("unconsumed left after a clean stop")
	}
}
