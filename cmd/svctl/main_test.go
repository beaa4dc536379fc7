package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	svctlcmd "github.com/taikit/taikit/internal/cli/svctl"
	"github.com/taikit/taikit/internal/testref"
	"github.com/taikit/taikit/supervise"
	"github.com/taikit/taikit/supervise/control/controltest"
)

func TestMain(m *testing.M) { testref.TestMainOr(m, main) }

func svctl(t *testing.T, argv0 string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errs bytes.Buffer
	code = svctlcmd.Run(context.Background(), argv0, args, &out, &errs)
	t.Logf("%s %q: exit %d\nstdout:\n%sstderr:\n%s", argv0, args, code, out.String(), errs.String())
	return code, out.String(), errs.String()
}

func TestUsage(t *testing.T) {
	usageLine := "svctl: usage: svctl [ -akq ] [ -w secs ] [ -j jobs ] start|stop|reset|restart dir ...\n"
	for _, c := range []struct {
		args    []string
		mistake string
	}{
		{nil, ""},
		{[]string{"start"}, ""},
		{[]string{"-w", "5"}, ""},
		{[]string{"-w", "1000000"}, ""},
		{[]string{"-w", "1e-12"}, ""},
		{[]string{"launch", "x"}, `svctl: fatal: unknown verb "launch": want start, stop, reset or restart` + "\n"},
		{[]string{"-z", "start", "x"}, "svctl: fatal: unknown option -z\n"},
		{[]string{"start", "-kz", "x"}, "svctl: fatal: unknown option -z\n"},
		{[]string{"start", "-w"}, "svctl: fatal: option -w needs a value\n"},
		// NaN once passed every comparison and waited for ever; a value too
		// large was told to be above 0.
		{[]string{"-w", "0", "start", "x"}, "svctl: fatal: -w 0: want a number of seconds above 0 and at most 1000000\n"},
		{[]string{"-w", "soon", "start", "x"}, "svctl: fatal: -w soon: want a number of seconds above 0 and at most 1000000\n"},
		{[]string{"-w", "NaN", "start", "x"}, "svctl: fatal: -w NaN: want a number of seconds above 0 and at most 1000000\n"},
		{[]string{"-w", "nan", "start", "x"}, "svctl: fatal: -w nan: want a number of seconds above 0 and at most 1000000\n"},
		{[]string{"-w", "Inf", "start", "x"}, "svctl: fatal: -w Inf: want a number of seconds above 0 and at most 1000000\n"},
		{[]string{"-w", "-Inf", "start", "x"}, "svctl: fatal: -w -Inf: want a number of seconds above 0 and at most 1000000\n"},
		{[]string{"-w", "+Inf", "start", "x"}, "svctl: fatal: -w +Inf: want a number of seconds above 0 and at most 1000000\n"},
		{[]string{"-w", "9223372036", "start", "x"}, "svctl: fatal: -w 9223372036: want a number of seconds above 0 and at most 1000000\n"},
		{[]string{"-w", "1000000.5", "start", "x"}, "svctl: fatal: -w 1000000.5: want a number of seconds above 0 and at most 1000000\n"},
		{[]string{"-w", "1e300", "start", "x"}, "svctl: fatal: -w 1e300: want a number of seconds above 0 and at most 1000000\n"},
		{[]string{"-w", "-1", "start", "x"}, "svctl: fatal: -w -1: want a number of seconds above 0 and at most 1000000\n"},
		{[]string{"-j", "0", "start", "x"}, "svctl: fatal: -j 0: want a whole number of services, at least 1\n"},
	} {
		code, out, errs := svctl(t, "svctl", c.args...)
		if code != 100 || out != "" || !strings.HasPrefix(errs, c.mistake+usageLine) {
			t.Errorf("svctl %q: exit %d, stdout %q, stderr %q", c.args, code, out, errs)
		}
	}
	code, _, errs := svctl(t, "/usr/local/bin/svcstop", "-k")
	if code != 100 || !strings.HasPrefix(errs, "svcstop: usage: svcstop [ -akq ] [ -w secs ] [ -j jobs ] dir ...\n") {
		t.Errorf("svcstop without a dir: exit %d, %q", code, errs)
	}
}

func TestNoSupervisor(t *testing.T) {
	root := t.TempDir()
	dir := controltest.Service(t, root, "web", map[string]string{"run": "exec sleep 1000"})
	code, out, errs := svctl(t, "svcstop", dir)
	if code != 111 || out != "" || errs != "svcstop: fatal: unable to stop "+dir+": supervise not running\n" {
		t.Errorf("svcstop without supervise: exit %d, %q %q", code, out, errs)
	}
	code, _, errs = svctl(t, "svctl", "-w", "0.5", "start", filepath.Join(root, "nothere"))
	if code != 111 || errs != "svctl: fatal: unable to start "+root+"/nothere: unable to chdir: file does not exist\n" {
		t.Errorf("start of a missing directory: exit %d, %q", code, errs)
	}
	code, _, errs = svctl(t, "svctl", "-a", "stop", filepath.Join(root, "nothere"))
	if code != 111 || errs != "svctl: fatal: unable to read scan directory "+root+"/nothere: file does not exist\n" {
		t.Errorf("-a on a missing directory: exit %d, %q", code, errs)
	}
	empty := t.TempDir()
	code, _, errs = svctl(t, "svctl", "-a", "stop", empty)
	if code != 0 || errs != "svctl: warning: nothing to stop: no services in "+empty+"\n" {
		t.Errorf("-a on an empty directory: exit %d, %q", code, errs)
	}
}

// One service, each verb, through the command: messages and exit codes.
func TestVerbs(t *testing.T) {
	root := t.TempDir()
	dir := controltest.Service(t, root, "web", map[string]string{
		"run":  "exec sleep 1000",
		"stop": "if test -e busy; then echo still archiving; exit 1; fi",
	})
	os.WriteFile(filepath.Join(dir, "down"), nil, 0o644)
	controltest.Supervise(t, controltest.Ours(t), dir)

	expect := func(code int, out, errs string, wantCode int, wantOut, wantErr string) {
		t.Helper()
		if code != wantCode || !regexp.MustCompile("^"+wantOut+"$").MatchString(out) ||
			!regexp.MustCompile("^"+wantErr+"$").MatchString(errs) {
			t.Fatalf("exit %d, stdout %q, stderr %q; want %d, %q, %q", code, out, errs, wantCode, wantOut, wantErr)
		}
	}
	q := regexp.QuoteMeta(dir)
	code, out, errs := svctl(t, "svctl", "start", dir)
	expect(code, out, errs, 0, q+`: started \(pid \d+\) in \d+\.\d seconds\n`, "")
	code, out, errs = svctl(t, "svctl", "-q", "start", dir)
	expect(code, out, errs, 0, "", "")
	code, out, errs = svctl(t, "svcrestart", dir)
	expect(code, out, errs, 0, q+`: restarted \(pid \d+\) in \d+\.\d seconds\n`, "")

	os.WriteFile(filepath.Join(dir, "busy"), nil, 0o644)
	code, out, errs = svctl(t, "svctl", "stop", "-w", "0.5", dir)
	expect(code, out, errs, 1, "",
		`svctl: fatal: unable to stop `+q+`: stop refused for 0.5 seconds: stop exited 1: still archiving; left it running\n`)
	os.Remove(filepath.Join(dir, "busy"))
	code, out, errs = svctl(t, "svcreset", dir) // down exists: reset stops
	expect(code, out, errs, 0, q+`: stopped in \d+\.\d seconds\n`, "")
	code, out, errs = svctl(t, "svctl", "restart", dir)
	expect(code, out, errs, 0, q+`: not running, left down\n`, "")
	code, out, errs = svctl(t, "svctl", "stop", dir)
	expect(code, out, errs, 0, q+`: already down\n`, "")
}

// A scan directory with services that start, one that crashes and one
// without a supervisor: warnings for the failures, a summary, exit 111
// (a missing supervisor may be only late), then 1 once it is gone.
func TestWholeTree(t *testing.T) {
	root := t.TempDir()
	controltest.Service(t, root, "a", map[string]string{"run": "exec sleep 1000"})
	controltest.Service(t, root, "a/log", map[string]string{"run": "exec sleep 1000"})
	controltest.Service(t, root, "b", map[string]string{"run": "exit 4"})
	controltest.Service(t, root, "c", map[string]string{"run": "exec sleep 1000"})
	for _, d := range []string{"a", "a/log", "b"} {
		os.WriteFile(filepath.Join(root, d, "down"), nil, 0o644)
		controltest.Supervise(t, controltest.Ours(t), filepath.Join(root, d))
	}
	code, out, errs := svctl(t, "svctl", "start", "-a", "-w", "5", root)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if code != 111 || len(lines) != 2 || !strings.HasPrefix(lines[0], root+"/a/log: started") ||
		!strings.HasPrefix(lines[1], root+"/a: started") {
		t.Fatalf("start -a: exit %d, stdout %q", code, out)
	}
	wantErr := []string{
		"svctl: warning: unable to start " + root + "/b: run exited 4 before it was ready (see the service's log); brought it down again",
		"svctl: warning: unable to start " + root + "/c: supervise not running",
		"svctl: start: 2 of 4 services succeeded; failed: " + root + "/b " + root + "/c",
	}
	if got := strings.Split(strings.TrimSuffix(errs, "\n"), "\n"); !equalSets(got[:2], wantErr[:2]) || got[2] != wantErr[2] {
		t.Fatalf("start -a: stderr\n%s\nwant\n%s", errs, strings.Join(wantErr, "\n"))
	}

	os.RemoveAll(filepath.Join(root, "c"))
	code, _, errs = svctl(t, "svctl", "-j1", "-a", "start", "-w", "5", root)
	if code != 1 || !strings.Contains(errs, "svctl: start: 2 of 3 services succeeded; failed: "+root+"/b\n") {
		t.Fatalf("start -a without c: exit %d, %q", code, errs)
	}
	code, out, errs = svctl(t, "svctl", "stop", root+"/a", root+"/a/log")
	if code != 0 || errs != "" || !strings.HasSuffix(out, "svctl: stop: all 2 services succeeded\n") {
		t.Fatalf("stop of two: exit %d, %q %q", code, out, errs)
	}
}

func equalSets(a, b []string) bool {
	seen := map[string]int{}
	for _, s := range a {
		seen[s]++
	}
	for _, s := range b {
		seen[s]--
	}
	for _, n := range seen {
		if n != 0 {
			return false
		}
	}
	return len(a) == len(b)
}

// The command as a process, linked as svcstart: its name picks the
// verb, and SIGTERM while it waits ends it with 111 leaving the service
// as it was.
func TestProcessAsAlias(t *testing.T) {
	root := t.TempDir()
	dir := controltest.Service(t, root, "web", map[string]string{"run": "exec sleep 1000", "check": "exit 1"})
	os.WriteFile(filepath.Join(dir, "down"), nil, 0o644)
	controltest.Supervise(t, controltest.Ours(t), dir)
	link := filepath.Join(t.TempDir(), "svcstart")
	if err := os.Symlink(testref.Self(t), link); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(link, dir)
	cmd.Env = testref.Environ(testref.BeCommand)
	var stderr testref.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Up means svcstart has sent 'u', so it handles TERM already (main
	// sets that up first) and now waits for check.
	testref.WaitFor(t, "the service to be up", func() bool {
		st, err := supervise.ReadStatus(dir)
		return err == nil && st.Up()
	})
	cmd.Process.Signal(syscall.SIGTERM)
	err := cmd.Wait()
	if cmd.ProcessState.ExitCode() != 111 ||
		stderr.String() != "svcstart: fatal: unable to start "+dir+": interrupted; left it as it was\n" {
		t.Fatalf("svcstart given TERM: %v, stderr %q", err, stderr.String())
	}
	if !controltest.Status(t, dir).Up() {
		t.Fatal("an interrupted svcstart brought the service down")
	}
}

// A scan directory run by a real svscan (taikit's with its supervise, and
// daemontools' with theirs): start -a brings up the logger and the
// services, reports the one that crashes; the service's output reaches
// its logger; stop -a brings everything down.
func TestUnderSvscan(t *testing.T) {
	scanners := []struct{ name, svscan, path string }{
		{"taikit", controltest.Command(t, "svscan"), ""},
		{"daemontools", "/usr/bin/svscan", "/usr/bin:/bin"},
	}
	controltest.Ours(t) // beside taikit's svscan
	scanners[0].path = controltest.BinDir() + ":/usr/bin:/bin"
	for _, sc := range scanners {
		t.Run(sc.name, func(t *testing.T) {
			if sc.name == "daemontools" {
				testref.Need(t, sc.svscan) // ours is no Debian package's file
			}
			root := t.TempDir()
			controltest.Service(t, root, "web", map[string]string{"run": "echo hello from web; exec sleep 1000"})
			controltest.Service(t, root, "web/log", map[string]string{"run": "exec cat > logged"})
			controltest.Service(t, root, "api", map[string]string{"run": "touch listening; exec sleep 1000", "check": "test -e listening"})
			controltest.Service(t, root, "bad", map[string]string{"run": "exit 5"})
			for _, d := range []string{"web", "web/log", "api", "bad"} {
				os.WriteFile(filepath.Join(root, d, "down"), nil, 0o644)
			}
			cmd := exec.Command(sc.svscan, root)
			cmd.Env = testref.Environ("PATH=" + sc.path)
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); cmd.Wait() })

			code, out, errs := svctl(t, "svctl", "-w", "10", "start", "-a", root)
			if code != 1 || strings.Count(out, ": started (pid ") != 3 ||
				!strings.HasSuffix(errs, "svctl: start: 3 of 4 services succeeded; failed: "+root+"/bad\n") {
				t.Fatalf("start -a: exit %d, stdout %q, stderr %q", code, out, errs)
			}
			testref.WaitFor(t, "web's line in its log", func() bool {
				b, _ := os.ReadFile(filepath.Join(root, "web", "log", "logged"))
				return string(b) == "hello from web\n"
			})
			code, out, errs = svctl(t, "svctl", "stop", "-a", root)
			if code != 0 || errs != "" || !strings.Contains(out, root+"/bad: already down\n") ||
				!strings.HasSuffix(out, "svctl: stop: all 4 services succeeded\n") {
				t.Fatalf("stop -a: exit %d, stdout %q, stderr %q", code, out, errs)
			}
			for _, d := range []string{"web", "web/log", "api", "bad"} {
				if st := controltest.Status(t, filepath.Join(root, d)); st.Up() {
					t.Errorf("%s still up after stop -a: %+v", d, st)
				}
			}
		})
	}
}
