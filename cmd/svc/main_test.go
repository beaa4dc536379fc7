package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/taikit/taikit/internal/testref"
	"github.com/taikit/taikit/supervise"
)

const patience = 15 * time.Second

func TestParse(t *testing.T) {
	for _, c := range []struct {
		args     []string
		commands string
		dirs     []string
		bad      byte
	}{
		{nil, "", nil, 0},
		{[]string{"-uuddx", "a"}, "udx", []string{"a"}, 0},
		{[]string{"-u", "-d", "--", "-k"}, "ud", []string{"-k"}, 0},
		{[]string{"-u", "-", "-k"}, "u", []string{"-", "-k"}, 0},
		{[]string{"a", "-k"}, "", []string{"a", "-k"}, 0},
		{[]string{"-kz", "a"}, "", nil, 'z'},
		{[]string{"-udopchaitkx"}, "udopchaitkx", []string{}, 0},
	} {
		cmds, dirs, bad := parse(c.args)
		if cmds != c.commands || bad != c.bad || len(dirs) != len(c.dirs) {
			t.Errorf("%q: %q %q %q", c.args, cmds, dirs, bad)
		}
		for i := range dirs {
			if dirs[i] != c.dirs[i] {
				t.Errorf("%q: dirs %q", c.args, dirs)
			}
		}
	}
}

// TestMessagesAgainstDaemontools runs both svc programs on the same
// arguments: usage, missing directories, no supervise, no supervisor.
func TestMessagesAgainstDaemontools(t *testing.T) {
	testref.Need(t, "/usr/bin/svc")
	root := t.TempDir()
	notRunning := filepath.Join(root, "notrunning")
	os.MkdirAll(filepath.Join(notRunning, "supervise"), 0o700)
	syscall.Mkfifo(supervise.ControlPath(notRunning), 0o600)
	noSupervise := filepath.Join(root, "nosupervise")
	os.Mkdir(noSupervise, 0o755)
	file := filepath.Join(root, "file")
	os.WriteFile(file, nil, 0o644)
	for _, args := range [][]string{
		{}, {"-z"}, {"-uz", notRunning}, {"-u"}, {"-u", filepath.Join(root, "missing")},
		{"-u", notRunning}, {"-dx", noSupervise}, {notRunning}, {"-u", file},
		{"-u", "-", notRunning}, {"-u", "--", notRunning}, {notRunning, "-u"}, {"-?"},
	} {
		theirs := testref.Exec(t, nil, nil, "/usr/bin/svc", args...)
		var stderr bytes.Buffer
		code := run(args, &stderr)
		if code != theirs.Code || stderr.String() != string(theirs.Stderr) {
			t.Errorf("%q:\nours   exit %d %q\ntheirs exit %d %q", args, code, stderr.String(), theirs.Code, theirs.Stderr)
		}
	}
}

// TestDrivingDaemontools: daemontools' supervise under our svc, read by
// our svstat's wording (supervise.Describe) and our codec.
func TestDrivingDaemontools(t *testing.T) {
	testref.Need(t, "/usr/bin/supervise")
	root := t.TempDir()
	dir := filepath.Join(root, "svc")
	os.Mkdir(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "run"), []byte("#!/bin/sh\nexec sleep 1000\n"), 0o755)
	sup := exec.Command("/usr/bin/supervise", dir)
	sup.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := sup.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { sup.Wait(); close(done) }()
	t.Cleanup(func() { syscall.Kill(-sup.Process.Pid, syscall.SIGKILL); <-done })

	var pid string
	wait := func(re string) {
		t.Helper()
		rx := regexp.MustCompile("^" + re + "$")
		deadline := time.Now().Add(patience)
		for {
			d := supervise.Describe(dir, time.Now())
			if m := rx.FindStringSubmatch(d); m != nil {
				if len(m) > 1 {
					pid = m[1]
				}
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("svstat says %q, waited for %q", d, re)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	send := func(args ...string) {
		t.Helper()
		var stderr bytes.Buffer
		if code := run(append(args, dir), &stderr); code != 0 || stderr.Len() != 0 {
			t.Fatalf("svc %q: exit %d, %q", args, code, stderr.String())
		}
	}
	procState := func() byte {
		b, _ := os.ReadFile("/proc/" + pid + "/stat")
		if i := bytes.LastIndexByte(b, ')'); i >= 0 && i+2 < len(b) {
			return b[i+2]
		}
		return 0
	}

	wait(`up \(pid (\d+)\) \d+ seconds`)
	send("-p")
	wait(`up \(pid ` + pid + `\) \d+ seconds, paused`)
	// kill(2) returns before the process is stopped: it stops when next
	// scheduled, which on a busy machine is after the status says paused.
	testref.WaitFor(t, "the service to be stopped (state T)", func() bool { return procState() == 'T' })
	if st, err := supervise.ReadStatus(dir); err != nil || !st.Paused || st.Want != supervise.WantUp || procState() != 'T' {
		t.Fatalf("paused: %+v %v, process state %c", st, err, procState())
	}
	send("-c")
	wait(`up \(pid ` + pid + `\) \d+ seconds`)
	for _, c := range []string{"-k", "-t"} {
		old := pid
		send(c)
		deadline := time.Now().Add(patience)
		for pid == old && time.Now().Before(deadline) {
			wait(`up \(pid (\d+)\) \d+ seconds`)
		}
		if pid == old {
			t.Fatalf("no restart after %s", c)
		}
	}
	send("-d")
	wait(`down \d+ seconds, normally up`)
	send("-o")
	wait(`up \(pid (\d+)\) \d+ seconds`)
	if st, _ := supervise.ReadStatus(dir); st.Want != supervise.WantNone {
		t.Fatalf("once: want %q", st.Want)
	}
	send("-k")
	wait(`down \d+ seconds, normally up`)
	send("-u")
	wait(`up \(pid (\d+)\) \d+ seconds`)
	send("-dx")
	select {
	case <-done:
	case <-time.After(patience):
		t.Fatal("daemontools' supervise did not exit after svc -dx")
	}
	wait(`supervise not running`)
	if ok, err := supervise.Running(dir); ok || err != nil {
		t.Fatalf("Running after exit: %v %v", ok, err)
	}
}
