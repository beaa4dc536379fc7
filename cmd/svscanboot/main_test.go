package main

import (
	"bytes"
	"fmt"
	"io"
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

func TestMain(m *testing.M) { testref.TestMainOr(m, main) }

func TestServiceDir(t *testing.T) {
	only := func(paths ...string) func(string) bool {
		return func(p string) bool { return slices.Contains(paths, p) }
	}
	cases := []struct {
		argv   []string
		exists func(string) bool
		want   string
	}{
		{[]string{"svscanboot"}, only("/service", "/etc/service"), "/service"},
		{[]string{"svscanboot"}, only("/etc/service"), "/etc/service"},
		{[]string{"svscanboot"}, only(), "/service"},
		{[]string{"svscanboot", "/srv/sv"}, only("/service"), "/srv/sv"},
	}
	for _, c := range cases {
		if got := serviceDir(c.argv, c.exists); got != c.want {
			t.Errorf("serviceDir(%q) = %q, want %q", c.argv, got, c.want)
		}
	}
}

func TestShGlob(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"b/log", "a", ".hidden/log", "c"} {
		os.MkdirAll(filepath.Join(dir, d), 0o755)
	}
	os.WriteFile(filepath.Join(dir, "c", "log"), nil, 0o644)
	if got, want := shGlob(dir, ""), []string{dir + "/a", dir + "/b", dir + "/c"}; !slices.Equal(got, want) {
		t.Errorf("dir/* = %q, want %q", got, want)
	}
	if got, want := shGlob(dir, "log"), []string{dir + "/b/log", dir + "/c/log"}; !slices.Equal(got, want) {
		t.Errorf("dir/*/log = %q, want %q", got, want)
	}
	empty := t.TempDir()
	if got := shGlob(empty, "log"); !slices.Equal(got, []string{empty + "/*/log"}) {
		t.Errorf("no match gives %q, want the pattern", got)
	}
	// And sh agrees.
	out, _ := exec.Command("/bin/sh", "-c", `echo "$1"/* "$1"/*/log`, "sh", dir).Output()
	if got := strings.Join(append(shGlob(dir, ""), shGlob(dir, "log")...), " "); got != strings.TrimSpace(string(out)) {
		t.Errorf("ours %q, sh %q", got, out)
	}
}

// boot is a scan directory and a bin directory standing for svscanboot's
// PATH, in a temporary root under which every process is killed at the end.
type boot struct {
	t              *testing.T
	root, dir, bin string
}

func newBoot(t *testing.T) *boot {
	testref.Need(t, "/usr/bin/readproctitle")
	root := t.TempDir()
	b := &boot{t, root, filepath.Join(root, "service"), filepath.Join(root, "bin")}
	os.Mkdir(b.dir, 0o755)
	os.Mkdir(b.bin, 0o755)
	t.Cleanup(func() { testref.KillUnder(root) })
	if err := testref.BuildCommands(b.bin, "svscan"); err != nil {
		t.Fatal(err)
	}
	return b
}

func (b *boot) path() string { return b.bin + ":/usr/bin:/bin" }

func (b *boot) write(name, content string, mode os.FileMode) {
	p := filepath.Join(b.root, name)
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		b.t.Fatal(err)
	}
}

// start runs svscanboot's run on the scan directory in the background; the
// returned channel gives its status.
func (b *boot) start() <-chan int {
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		b.t.Fatal(err)
	}
	done := make(chan int, 1)
	go func() {
		defer null.Close()
		p, code := prepare([]string{"svscanboot", b.dir}, b.bin, "/usr/bin:/bin", io.Discard)
		if code != 0 {
			done <- code
			return
		}
		done <- run(p, null)
	}()
	return done
}

// TestPipeline runs svscanboot with a recording svc and supervise, our
// svscan and daemontools' readproctitle: svc gets -dx and every service and
// log, svscan and readproctitle get only PATH in their environment, and
// svscan's warnings show in readproctitle's title.
func TestPipeline(t *testing.T) {
	b := newBoot(t)
	b.write("bin/svc", "#!/bin/sh\necho \"$@\" > "+b.root+"/svc.args\n", 0o755)
	b.write("bin/supervise", "#!/bin/sh\nexec sleep 1000\n", 0o755)
	os.MkdirAll(filepath.Join(b.dir, "a"), 0o755)
	os.MkdirAll(filepath.Join(b.dir, "b", "log"), 0o755)
	done := b.start()
	var svscan, rpt int
	testref.WaitFor(t, "svscan and readproctitle", func() bool {
		svscan = testref.FindProc("svscan\x00" + b.dir + "\x00")
		rpt = testref.FindProc("readproctitle\x00service\x00errors:\x00")
		return svscan != 0 && rpt != 0
	})
	args, _ := os.ReadFile(filepath.Join(b.root, "svc.args"))
	if want := fmt.Sprintf("-dx %[1]s/a %[1]s/b %[1]s/b/log\n", b.dir); string(args) != want {
		t.Errorf("svc got %q, want %q", args, want)
	}
	for _, pid := range []int{svscan, rpt} {
		env, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		if want := "PATH=" + b.path() + "\x00"; string(env) != want {
			t.Errorf("pid %d has environment %q, want %q", pid, env, want)
		}
	}
	os.Symlink("nowhere", filepath.Join(b.dir, "dangling"))
	syscall.Kill(svscan, syscall.SIGALRM)
	testref.WaitFor(t, "the warning in the title", func() bool {
		c, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", rpt))
		return bytes.Contains(c, []byte("svscan: warning: unable to stat dangling: file does not exist"))
	})
	// Everything ends: svscanboot returns readproctitle's status.
	syscall.Kill(rpt, syscall.SIGKILL)
	testref.KillUnder(b.root)
	select {
	case code := <-done:
		if code != 128+int(syscall.SIGKILL) {
			t.Errorf("status %d, want %d", code, 128+int(syscall.SIGKILL))
		}
	case <-time.After(30 * time.Second):
		t.Fatal("svscanboot did not return")
	}
}

// TestBootTwice boots a real tree by hand (daemontools' svc, a real
// supervise), loses svscan as in a crash, and boots again: svc -dx must
// end the supervise processes left over, and the new svscan start new ones.
func TestBootTwice(t *testing.T) {
	testref.Need(t, "/usr/bin/svc")
	testref.Need(t, "/usr/bin/supervise")
	b := newBoot(t)
	os.Symlink("/usr/bin/svc", filepath.Join(b.bin, "svc"))
	os.Symlink("/usr/bin/supervise", filepath.Join(b.bin, "supervise"))
	b.write("service/hello/run", "#!/bin/sh\necho hello\nexec sleep 1000\n", 0o755)
	b.write("service/hello/log/run", "#!/bin/sh\nexec cat >> ../../../hello.log\n", 0o755)
	first := b.start()
	testref.WaitFor(t, "the service and its log", func() bool {
		out, _ := os.ReadFile(filepath.Join(b.root, "hello.log"))
		return string(out) == "hello\n"
	})
	old := superviseProcs(b.dir)
	if len(old) != 2 {
		t.Fatalf("supervise processes %v, want 2", old)
	}
	// svscan and readproctitle die; the supervise processes stay.
	syscall.Kill(testref.FindProc("svscan\x00"+b.dir+"\x00"), syscall.SIGKILL)
	syscall.Kill(testref.FindProc("readproctitle\x00service\x00errors:\x00"), syscall.SIGKILL)
	select {
	case <-first:
	case <-time.After(30 * time.Second):
		t.Fatal("svscanboot did not return")
	}
	b.start()
	testref.WaitFor(t, "new supervise processes instead of the old", func() bool {
		now := superviseProcs(b.dir)
		return len(now) == 2 && !slices.Contains(now, old[0]) && !slices.Contains(now, old[1])
	})
	testref.WaitFor(t, "the service to start again", func() bool {
		out, _ := os.ReadFile(filepath.Join(b.root, "hello.log"))
		return string(out) == "hello\nhello\n"
	})
}

// superviseProcs lists the supervise processes working in dir or below.
func superviseProcs(dir string) []int {
	var out []int
	testref.ForProcs(func(pid int, cmdline []byte, cwd string) {
		if bytes.HasPrefix(cmdline, []byte("supervise\x00")) && strings.HasPrefix(cwd, dir) {
			out = append(out, pid)
		}
	})
	return out
}

// TestSystemdUnit validates doc/boot/svscanboot.service with systemd's own
// checker, its ExecStart pointed at a file that exists here.
func TestSystemdUnit(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed; the unit file is not checked")
	}
	unit, err := os.ReadFile("../../doc/boot/svscanboot.service")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(unit, []byte("ExecStart=/usr/local/bin/svscanboot /service\n")) {
		t.Fatal("the unit does not start /usr/local/bin/svscanboot /service")
	}
	unit = bytes.Replace(unit, []byte("/usr/local/bin/svscanboot"), []byte(testref.Self(t)), 1)
	p := filepath.Join(t.TempDir(), "svscanboot.service")
	if err := os.WriteFile(p, unit, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", p).CombinedOutput()
	if err != nil || len(out) != 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestInittabLine checks the documented inittab line's fields.
func TestInittabLine(t *testing.T) {
	readme, err := os.ReadFile("../../doc/boot/README.md")
	if err != nil {
		t.Fatal(err)
	}
	var line string
	for l := range strings.SplitSeq(string(readme), "\n") {
		if strings.HasPrefix(l, "SV:") {
			line = l
		}
	}
	f := strings.Split(line, ":")
	if len(f) != 4 || len(f[0]) > 4 || strings.Trim(f[1], "0123456") != "" || f[2] != "respawn" ||
		!filepath.IsAbs(f[3]) || filepath.Base(f[3]) != "svscanboot" {
		t.Errorf("inittab line %q: want id:runlevels:respawn:/path/svscanboot", line)
	}
	man, _ := os.ReadFile("../../doc/man8/svscanboot.8")
	if !bytes.Contains(man, []byte(line+"\n")) {
		t.Errorf("svscanboot.8 does not show the line %q", line)
	}
}
