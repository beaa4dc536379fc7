package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/taikit/taikit/internal/testref"
)

// TestRefusesAtOnce: a command line or scan directory svscanboot cannot
// use is said on standard error with daemontools' exit codes, at once,
// never a silent exit 0 that init would restart in a loop.
func TestRefusesAtOnce(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	os.WriteFile(file, nil, 0o644)
	for _, c := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"--help"}, 100, "svscanboot: fatal: unexpected arguments [\"--help\"]: give at most one scan directory\n" + usage},
		{[]string{"-h"}, 100, "svscanboot: fatal: unexpected arguments [\"-h\"]: give at most one scan directory\n" + usage},
		{[]string{"a", "b"}, 100, "svscanboot: fatal: unexpected arguments [\"a\" \"b\"]: give at most one scan directory\n" + usage},
		{[]string{"/nonexistent"}, 111, "svscanboot: fatal: unable to use scan directory /nonexistent: file does not exist\n"},
		{[]string{file}, 111, "svscanboot: fatal: unable to use scan directory " + file + ": not a directory\n"},
	} {
		cmd := exec.Command(testref.Self(t), c.args...)
		cmd.Env = testref.Environ(testref.BeCommand)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		done := make(chan error, 1)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("svscanboot %q did not exit", c.args)
		}
		if code := cmd.ProcessState.ExitCode(); code != c.code || stderr.String() != c.stderr {
			t.Errorf("svscanboot %q: exit %d, stderr %q; want %d, %q", c.args, code, stderr.String(), c.code, c.stderr)
		}
	}
}

// TestRunsItsOwnSvscan installs svscanboot, svscan, supervise and
// readproctitle together in a directory that is not in daemontools' boot
// PATH, as `go install` does in GOPATH/bin: svscanboot must run the svscan
// and readproctitle beside it even where daemontools' are in /usr/bin, and
// give that directory first in PATH, so that svscan starts its supervise
// and log/run scripts find its multilog. Without them beside it, it runs
// daemontools' and says so, on standard error and in the process title.
func TestRunsItsOwnSvscan(t *testing.T) {
	testref.Need(t, "/usr/bin/svscan")
	testref.Need(t, "/usr/bin/readproctitle")
	root := t.TempDir()
	t.Cleanup(func() { testref.KillUnder(root) })
	bin := filepath.Join(root, "bin")
	if err := testref.BuildCommands(bin, "svscanboot", "svscan", "supervise", "readproctitle", "svc"); err != nil {
		t.Fatal(err)
	}
	service := filepath.Join(root, "service")
	os.MkdirAll(filepath.Join(service, "hello"), 0o755)
	os.WriteFile(filepath.Join(service, "hello", "run"), []byte("#!/bin/sh\necho \"$PATH\" > ../../path.txt\nexec sleep 1000\n"), 0o755)

	boot := exec.Command(filepath.Join(bin, "svscanboot"), service)
	var stderr testref.Buffer
	boot.Stderr = &stderr
	if err := boot.Start(); err != nil {
		t.Fatal(err)
	}
	var svscan int
	testref.WaitFor(t, "svscan", func() bool { svscan = testref.FindProc("svscan\x00" + service + "\x00"); return svscan != 0 })
	exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", svscan))
	if exe != filepath.Join(bin, "svscan") {
		t.Errorf("svscanboot ran %s, want the svscan beside it in %s", exe, bin)
	}
	// readproctitle may start after svscan, and other tests may run
	// daemontools' at the same time: wait for one that is the one beside
	// svscanboot (a wrong one makes this wait fail).
	testref.WaitFor(t, "svscanboot to run the readproctitle in "+bin, func() bool {
		found := false
		testref.ForProcs(func(pid int, cmdline []byte, _ string) {
			if strings.HasPrefix(string(cmdline), "readproctitle\x00") {
				if exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); exe == filepath.Join(bin, "readproctitle") {
					found = true
				}
			}
		})
		return found
	})
	testref.WaitFor(t, "the service to run", func() bool {
		b, _ := os.ReadFile(filepath.Join(root, "path.txt"))
		return len(b) > 0
	})
	if p, _ := os.ReadFile(filepath.Join(root, "path.txt")); !strings.HasPrefix(string(p), bin+":"+bootPath) {
		t.Errorf("the service's PATH is %q, want %s first", p, bin)
	}
	if stderr.String() != "" {
		t.Errorf("svscanboot said %q with all its programs beside it", stderr.String())
	}
	testref.KillUnder(root)
	boot.Wait()

	// Alone in its directory: daemontools' programs, said plainly.
	lone := filepath.Join(root, "lone")
	os.Mkdir(lone, 0o755)
	os.Rename(filepath.Join(bin, "svscanboot"), filepath.Join(lone, "svscanboot"))
	os.Remove(filepath.Join(root, "path.txt"))
	boot = exec.Command(filepath.Join(lone, "svscanboot"), service)
	stderr = testref.Buffer{}
	boot.Stderr = &stderr
	if err := boot.Start(); err != nil {
		t.Fatal(err)
	}
	defer boot.Wait()
	defer testref.KillUnder(root)
	testref.WaitFor(t, "svscan", func() bool { svscan = testref.FindProc("svscan\x00" + service + "\x00"); return svscan != 0 })
	if exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", svscan)); exe != "/usr/bin/svscan" {
		t.Errorf("svscanboot alone ran %s, want daemontools' /usr/bin/svscan", exe)
	}
	warning := "svscanboot: warning: no svscan beside svscanboot in " + lone + ": running /usr/bin/svscan"
	testref.WaitFor(t, "the warning on stderr and in the title", func() bool {
		title, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", testref.FindProc("readproctitle\x00")))
		return strings.Contains(stderr.String(), warning+"\n") && bytes.Contains(title, []byte(warning))
	})
}
