package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/taikit/taikit/internal/testref"
)

const refSvscan = "/usr/bin/svscan"

// recorder is a fake supervise that records how it was started, then
// waits. Its line: working directory relative to the scan directory,
// arguments, and what standard input and output are.
const recorder = `#!/bin/sh
echo "${PWD#$SCANDIR}|$0 $*|$(readlink /proc/$$/fd/0)|$(readlink /proc/$$/fd/1)" >> "$SCANLOG"
exec sleep 1000
`

// starts reads the recorder's lines, with pipe names made comparable
// between runs (pipe#1 is the first pipe met in sorted order).
func starts(t *testing.T, log string) []string {
	b, _ := os.ReadFile(log)
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(b) == 0 {
		return nil
	}
	for i, l := range lines {
		// The pipe names differ between runs; the sorting must not
		// depend on them.
		f := strings.Split(l, "|")
		for j := 2; j < 4; j++ {
			if strings.HasPrefix(f[j], "pipe:") {
				f[j] = "pipe"
			} else {
				f[j] = "inherited"
			}
		}
		lines[i] = strings.Join(f, "|") + "|" + l
	}
	slices.Sort(lines)
	pipes := map[string]string{}
	for i, l := range lines {
		f := strings.Split(l, "|")
		for j := 6; j < 8; j++ {
			if strings.HasPrefix(f[j], "pipe:") {
				if pipes[f[j]] == "" {
					pipes[f[j]] = fmt.Sprintf("pipe#%d", len(pipes)+1)
				}
				f[j-4] = pipes[f[j]]
			}
		}
		lines[i] = strings.Join(f[:4], "|")
	}
	return lines
}

// TestStartsLikeDaemontools runs daemontools' svscan and ours on one scan
// directory with a recording supervise: the same programs must start, with
// the same arguments, directories and pipes.
func TestStartsLikeDaemontools(t *testing.T) {
	testref.Need(t, refSvscan)
	tr := newTree(t)
	tr.write("../bin/supervise", recorder, 0o755)
	tr.mkdir("plain", "logged/log", ".hidden", "only-dot-log/.log", "nested/deeper/log")
	tr.write("file", "", 0o644)
	tr.write("logged/run", "", 0o755)
	tr.write("log-is-file/log", "", 0o644)
	os.Symlink("plain", filepath.Join(tr.dir, "zz-alias-of-plain"))
	os.Symlink(filepath.Join(tr.root, "elsewhere"), filepath.Join(tr.dir, "linked"))
	os.MkdirAll(filepath.Join(tr.root, "elsewhere", "log"), 0o755)
	// plain (as zz-alias-of-plain, its alias coming last), logged + log,
	// only-dot-log, nested, log-is-file + log (a file, started all the
	// same), linked + log.
	const want = 9
	var results [2][]string
	for i, prog := range []string{refSvscan, ""} {
		log := filepath.Join(tr.root, fmt.Sprintf("starts.%d", i))
		s := tr.start(prog, "SCANLOG="+log, "SCANDIR="+tr.dir)
		testref.WaitFor(t, "the first pass", func() bool { return len(starts(t, log)) >= want })
		time.Sleep(200 * time.Millisecond) // anything more would show now
		s.stop()
		testref.KillUnder(tr.root)
		results[i] = starts(t, log)
		if got := s.stderr(); got != "" {
			t.Errorf("%s: stderr %q", prog, got)
		}
	}
	if !slices.Equal(results[0], results[1]) {
		t.Errorf("daemontools' svscan started\n  %s\nours started\n  %s",
			strings.Join(results[0], "\n  "), strings.Join(results[1], "\n  "))
	}
	t.Logf("starts:\n  %s", strings.Join(results[1], "\n  "))
}

// TestMessagesLikeDaemontools compares what both print, and their exit
// codes, when something is wrong.
func TestMessagesLikeDaemontools(t *testing.T) {
	testref.Need(t, refSvscan)
	t.Run("no such directory", func(t *testing.T) {
		var got [2]testref.Result
		for i, prog := range []string{refSvscan, testref.Self(t)} {
			got[i] = testref.Exec(t, []string{testref.BeCommand}, nil, prog, "/nonexistent/service", "ignored")
		}
		want := "svscan: fatal: unable to chdir to /nonexistent/service: file does not exist\n"
		if got[0].Code != 111 || string(got[0].Stderr) != want {
			t.Fatalf("daemontools: %d %q; the test's expectation is wrong", got[0].Code, got[0].Stderr)
		}
		if got[1].Code != got[0].Code || string(got[1].Stderr) != string(got[0].Stderr) {
			t.Errorf("ours: exit %d %q; want %d %q", got[1].Code, got[1].Stderr, got[0].Code, got[0].Stderr)
		}
	})
	t.Run("warnings", func(t *testing.T) {
		// No supervise in PATH, a dangling link, a log/ that cannot be
		// examined: one warning each, at every pass.
		tr := newTree(t)
		tr.mkdir("a", "b/log")
		os.Symlink("nowhere", filepath.Join(tr.dir, "dangling"))
		os.Symlink("c", filepath.Join(tr.dir, "c")) // a loop
		os.MkdirAll(filepath.Join(tr.dir, "d"), 0o755)
		os.Symlink("log", filepath.Join(tr.dir, "d", "log"))
		var out [2]string
		for i, prog := range []string{refSvscan, ""} {
			s := tr.start(prog, "PATH="+tr.bin)
			testref.WaitFor(t, "warnings", func() bool { return strings.Count(s.stderr(), "\n") >= 5 })
			time.Sleep(100 * time.Millisecond)
			s.stop()
			lines := strings.Split(strings.TrimSpace(s.stderr()), "\n")
			slices.Sort(lines)
			out[i] = strings.Join(lines, "\n")
		}
		if out[0] != out[1] {
			t.Errorf("daemontools:\n%s\nours:\n%s", out[0], out[1])
		}
		t.Logf("warnings:\n%s", out[1])
	})
	t.Run("unreadable directory", func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Skip("needs root, to run svscan as another user")
		}
		tr := newTree(t)
		os.Chmod(tr.dir, 0o311) // searchable, not readable
		os.Chmod(tr.root, 0o755)
		os.Chmod(filepath.Dir(tr.root), 0o755)
		var out [2]string
		for i, prog := range []string{refSvscan, ""} {
			if prog == "" {
				// Our test binary must be readable by nobody.
				self, _ := os.ReadFile(testref.Self(t))
				prog = filepath.Join(tr.bin, "svscan-test")
				os.WriteFile(prog, self, 0o755)
				os.Chmod(tr.bin, 0o755)
				prog += " " + testref.BeCommand
			}
			name, env, _ := strings.Cut(prog, " ")
			cmd := exec.Command(name, tr.dir)
			cmd.Env = testref.Environ(env)
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
			var stderr testref.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			testref.WaitFor(t, "a warning", func() bool { return strings.Contains(stderr.String(), "\n") })
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			cmd.Wait()
			out[i] = stderr.String()
		}
		if want := "svscan: warning: unable to read directory: access denied\n"; out[0] != want || out[1] != want {
			t.Errorf("daemontools %q, ours %q, want %q", out[0], out[1], want)
		}
	})
}

// TestRescanSignals: SIGALRM and SIGHUP make a pass at once (daemontools'
// svscan dies of them); SIGTERM still ends svscan.
func TestRescanSignals(t *testing.T) {
	tr := newTree(t)
	tr.write("../bin/supervise", recorder, 0o755)
	log := filepath.Join(tr.root, "starts")
	s := tr.start("", "SCANLOG="+log, "SCANDIR="+tr.dir)
	for i, sig := range []syscall.Signal{syscall.SIGALRM, syscall.SIGHUP} {
		tr.mkdir(fmt.Sprint("svc", i))
		// Wait for the first pass, so the new directory is not
		// found by it.
		time.Sleep(300 * time.Millisecond)
		s.cmd.Process.Signal(sig)
		testref.WaitFor(t, "a pass after "+sig.String(), func() bool { return len(starts(t, log)) == i+1 })
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		t.Fatal("svscan survived SIGTERM")
	}
	if s.cmd.ProcessState.Sys().(syscall.WaitStatus).Signal() != syscall.SIGTERM {
		t.Errorf("svscan ended with %v, want killed by SIGTERM", s.cmd.ProcessState)
	}
}

// TestRunReturnsOnCancel drives run itself: the first pass happens, and
// run returns when its context ends.
func TestRunReturnsOnCancel(t *testing.T) {
	tr := newTree(t)
	ctx, cancel := context.WithCancel(context.Background())
	var stderr testref.Buffer
	done := make(chan int)
	wd, _ := os.Getwd()
	t.Cleanup(func() { os.Chdir(wd) })
	tr.mkdir("a")
	t.Setenv("PATH", tr.bin) // no supervise: a warning shows the pass happened
	go func() { done <- run(ctx, []string{"svscan", tr.dir}, &stderr, nil) }()
	testref.WaitFor(t, "the first pass", func() bool { return stderr.String() != "" })
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("run returned %d", code)
	}
	if want := "svscan: warning: unable to start supervise a: file does not exist\n"; stderr.String() != want {
		t.Errorf("stderr %q, want %q", stderr.String(), want)
	}
}
