// Package controltest sets up services for the tests of package control
// and of the svctl command: service directories with scripts, and
// supervisors (taikit's, built from cmd/supervise, or daemontools') that
// are killed with everything they started when the test ends.
package controltest

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/taikit/taikit/internal/testref"
	"github.com/taikit/taikit/supervise"
)

// Daemontools is the path of daemontools' supervise.
const Daemontools = "/usr/bin/supervise"

// Patience bounds the waits of tests: long enough for a loaded machine.
const Patience = 20 * time.Second

var build struct {
	mu   sync.Mutex
	dir  string
	done map[string]error
}

// Ours returns the path of taikit's supervise, built once per test
// binary from cmd/supervise.
func Ours(t testing.TB) string {
	t.Helper()
	return Command(t, "supervise")
}

// Command returns the path of taikit's command name, built once per test
// binary from cmd/name into a directory of its own (BinDir), so that
// svscan finds the supervise built beside it through $PATH. The directory
// is testref's, removed when the tests end: the package's TestMain must go
// through testref.Main, and Command fails the test saying so if it does not.
func Command(t testing.TB, name string) string {
	t.Helper()
	build.mu.Lock()
	defer build.mu.Unlock()
	if build.done == nil {
		build.done = map[string]error{}
	}
	if build.dir == "" {
		dir, err := testref.TempDirForBinary("taikit-controltest-")
		if err != nil {
			t.Fatal(err)
		}
		build.dir = dir
	}
	path := filepath.Join(build.dir, name)
	err, built := build.done[name]
	if !built {
		err = testref.BuildCommands(build.dir, name)
		build.done[name] = err
	}
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// BinDir is the directory of the commands that Command built.
func BinDir() string { return build.dir }

// Supervisor is a program that supervises one service directory.
type Supervisor struct {
	Name string // "taikit" or "daemontools"
	Path string
}

// Both returns taikit's supervisor and daemontools', for tests that must
// hold with either; Supervise skips the daemontools run, naming the
// package, when daemontools is not installed.
func Both(t testing.TB) []Supervisor {
	return []Supervisor{{"taikit", Ours(t)}, {"daemontools", Daemontools}}
}

// Service makes the directory root/name with the given scripts, each a
// /bin/sh body made executable, and returns its path. A name ending in
// "/log" makes a log service inside an existing service.
func Service(t testing.TB, root, name string, scripts map[string]string) string {
	t.Helper()
	dir := filepath.Join(root, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for file, body := range scripts {
		Script(t, dir, file, body)
	}
	return dir
}

// Script writes dir/name as an executable /bin/sh script, atomically so
// that a supervisor never runs half of it.
func Script(t testing.TB, dir, name, body string) {
	t.Helper()
	tmp := filepath.Join(dir, "."+name+".tmp")
	if err := os.WriteFile(tmp, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

// Supervise starts prog on dir in a process group of its own and waits
// until it runs; the group (the supervisor, run and what run started) is
// killed when the test ends.
func Supervise(t testing.TB, prog, dir string) {
	t.Helper()
	if prog == Daemontools {
		testref.Need(t, prog)
	}
	cmd := exec.Command(prog, dir)
	stderr := &testref.Buffer{}
	cmd.Stderr = stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		if t.Failed() && stderr.String() != "" {
			t.Logf("%s %s said:\n%s", prog, dir, stderr)
		}
	})
	testref.WaitFor(t, prog+" to run", func() bool {
		ok, _ := supervise.Running(dir)
		if !ok {
			return false
		}
		_, err := supervise.ReadStatus(dir)
		return err == nil
	})
}

// Status reads the status of the service in dir, failing the test if it
// cannot.
func Status(t testing.TB, dir string) supervise.Status {
	t.Helper()
	st, err := supervise.ReadStatus(dir)
	if err != nil {
		t.Fatal(err)
	}
	return st
}
