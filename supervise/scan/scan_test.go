package scan

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/taikit/taikit/errtext"

	"github.com/taikit/taikit/internal/testref"
)

// fakeSupervise is a "supervise" that records how it was started — working
// directory, argument, and what its standard input and output are — in the
// file named by $SCANLOG, then waits (or exits at once when the service
// directory holds a file named "exit").
const fakeSupervise = `#!/bin/sh
echo "$PWD|$*|$(readlink /proc/$$/fd/0)|$(readlink /proc/$$/fd/1)" >> "$SCANLOG"
test -e "$1/exit" -o -e exit && exit 1
exec sleep 1000
`

type fixture struct {
	t    *testing.T
	dir  string // the scan directory
	log  string // where the fake supervise records its starts
	s    *Scanner
	errs []string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	root := t.TempDir()
	f := &fixture{t: t, dir: filepath.Join(root, "service"), log: filepath.Join(root, "starts")}
	bin := filepath.Join(root, "bin")
	for _, d := range []string{f.dir, bin} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write(t, filepath.Join(bin, "supervise"), fakeSupervise, 0o755)
	f.s = New(f.dir)
	f.s.Path = bin + ":/usr/bin:/bin"
	f.s.Env = append(os.Environ(), "SCANLOG="+f.log)
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { devnull.Close() })
	f.s.Stdin, f.s.Stdout = devnull, devnull
	f.s.Warn = func(err error) { f.errs = append(f.errs, err.Error()) }
	t.Cleanup(func() {
		// The supervise processes outlive a scanner by design; a test
		// must stop its own.
		for _, sv := range f.s.Services() {
			for _, pid := range []int{sv.Pid, sv.LogPid} {
				if pid > 0 {
					syscall.Kill(pid, syscall.SIGKILL)
					syscall.Wait4(pid, nil, 0, nil)
				}
			}
		}
		f.s.Close()
	})
	return f
}

func write(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) mkdir(names ...string) {
	f.t.Helper()
	for _, n := range names {
		if err := os.MkdirAll(filepath.Join(f.dir, n), 0o755); err != nil {
			f.t.Fatal(err)
		}
	}
}

// count returns how many starts the fake supervise recorded.
func (f *fixture) count() int {
	b, _ := os.ReadFile(f.log)
	return strings.Count(string(b), "\n")
}

// start is one recorded start of the fake supervise.
type start struct{ cwd, arg, stdin, stdout string }

// starts waits until the fake supervise recorded n starts and returns them,
// working directories relative to the scan directory, sorted.
func (f *fixture) starts(n int) []start {
	f.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		b, _ := os.ReadFile(f.log)
		lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		if len(b) == 0 {
			lines = nil
		}
		if len(lines) >= n || time.Now().After(deadline) {
			if len(lines) != n {
				f.t.Fatalf("%d starts recorded, want %d:\n%s", len(lines), n, b)
			}
			var out []start
			for _, l := range lines {
				p := strings.Split(l, "|")
				rel, err := filepath.Rel(f.dir, p[0])
				if err != nil {
					f.t.Fatal(err)
				}
				out = append(out, start{rel, p[1], p[2], p[3]})
			}
			slices.SortFunc(out, func(a, b start) int { return strings.Compare(a.cwd+a.arg, b.cwd+b.arg) })
			return out
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestStartsEachServiceOnce(t *testing.T) {
	f := newFixture(t)
	f.mkdir("a", "b/log", ".hidden", "c")
	write(t, filepath.Join(f.dir, "file"), "", 0o644)
	// Two names for one directory: one supervise, as daemontools.
	if err := os.Symlink("c", filepath.Join(f.dir, "alias")); err != nil {
		t.Fatal(err)
	}
	f.s.Scan()
	f.s.Scan() // a second pass must start nothing more
	got := f.starts(4)
	if len(f.errs) != 0 {
		t.Errorf("warnings: %q", f.errs)
	}
	by := map[string]start{}
	for _, g := range got {
		by[g.cwd+" "+g.arg] = g
	}
	_, c := by[". c"]
	_, alias := by[". alias"]
	a, b, bLog := by[". a"], by[". b"], by["b log"]
	if len(by) != 4 || a.arg == "" || b.arg == "" || bLog.arg == "" || c == alias {
		t.Fatalf("started %+v", got)
	}
	// b writes into the pipe its logger reads, the others to our stdout.
	if !strings.HasPrefix(b.stdout, "pipe:") || b.stdout != bLog.stdin {
		t.Errorf("b's stdout %q, b/log's stdin %q: want one pipe", b.stdout, bLog.stdin)
	}
	if a.stdout != os.DevNull || a.stdin != os.DevNull || bLog.stdout != os.DevNull {
		t.Errorf("a: %+v, b/log: %+v", a, bLog)
	}
	// The scanner holds both ends of that pipe.
	for _, sv := range f.s.Services() {
		if sv.Name != "b" {
			if sv.PipeRead != -1 {
				t.Errorf("%s has a pipe", sv.Name)
			}
			continue
		}
		for _, fd := range []int{sv.PipeRead, sv.PipeWrite} {
			l, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", fd))
			if err != nil || l != b.stdout {
				t.Errorf("fd %d is %q (%v), want %s", fd, l, err, b.stdout)
			}
		}
	}
}

func TestRestartsExitedSupervise(t *testing.T) {
	f := newFixture(t)
	f.mkdir("a")
	write(t, filepath.Join(f.dir, "a", "exit"), "", 0o644)
	f.s.Scan()
	f.starts(1)
	// Each pass reaps the supervise that exited and starts another.
	testref.WaitFor(t, "a restart", func() bool { f.s.Scan(); return f.count() >= 3 })
	if n := len(f.s.Services()); n != 1 {
		t.Errorf("%d services tracked, want 1", n)
	}
}

func TestRemovedServiceKeepsPipeUntilSuperviseExits(t *testing.T) {
	f := newFixture(t)
	f.mkdir("gone/log", "stays")
	f.s.Scan()
	f.starts(3)
	if err := os.RemoveAll(filepath.Join(f.dir, "gone")); err != nil {
		t.Fatal(err)
	}
	f.s.Scan()
	var gone *Service
	for _, sv := range f.s.Services() {
		if sv.Name == "gone" {
			gone = &sv
		}
	}
	if gone == nil || gone.PipeRead < 0 {
		t.Fatalf("a removed service whose supervise runs was forgotten: %+v", f.s.Services())
	}
	f.starts(3) // and not restarted
	pipe, _ := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", gone.PipeRead))
	// Its log supervise exits: still tracked, not restarted, pipe open.
	syscall.Kill(gone.LogPid, syscall.SIGKILL)
	syscall.Wait4(gone.LogPid, nil, 0, nil)
	f.s.Scan()
	if l, _ := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", gone.PipeRead)); l != pipe || len(f.s.Services()) != 2 {
		t.Fatalf("after the log supervise exited: fd %d is %q, services %+v", gone.PipeRead, l, f.s.Services())
	}
	syscall.Kill(gone.Pid, syscall.SIGKILL)
	syscall.Wait4(gone.Pid, nil, 0, nil)
	f.s.Scan()
	if svs := f.s.Services(); len(svs) != 1 || svs[0].Name != "stays" {
		t.Fatalf("after both exited: %+v", svs)
	}
	if l, _ := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", gone.PipeRead)); l == pipe {
		t.Errorf("the pipe of a forgotten service is still open")
	}
	f.starts(3)
}

func TestLogAddedLaterIsNotUsed(t *testing.T) {
	f := newFixture(t)
	f.mkdir("a")
	f.s.Scan()
	f.starts(1)
	f.mkdir("a/log")
	f.s.Scan()
	f.starts(1)
	if sv := f.s.Services()[0]; sv.HasLog {
		t.Errorf("a log/ made after the service was first seen is used: %+v", sv)
	}
}

func TestMaxServices(t *testing.T) {
	f := newFixture(t)
	f.s.MaxServices = 2
	f.mkdir("a", "b", "c")
	f.s.Scan()
	f.starts(2)
	if len(f.errs) != 1 || !strings.HasPrefix(f.errs[0], "unable to start ") ||
		!strings.HasSuffix(f.errs[0], ": running too many services") {
		t.Fatalf("warnings %q", f.errs)
	}
	if !errors.Is(&errtext.Error{Op: "unable to start", Path: "c", Err: ErrTooMany}, ErrTooMany) {
		t.Error("Error does not unwrap")
	}
}

func TestWarnings(t *testing.T) {
	f := newFixture(t)
	f.mkdir("a")
	if err := os.Symlink("nowhere", filepath.Join(f.dir, "dangling")); err != nil {
		t.Fatal(err)
	}
	f.s.Path = filepath.Join(f.dir, "nobin") // supervise cannot be found
	f.s.Scan()
	slices.Sort(f.errs)
	want := []string{
		"unable to start supervise a: file does not exist",
		"unable to stat dangling: file does not exist",
	}
	if !slices.Equal(f.errs, want) {
		t.Errorf("warnings %q, want %q", f.errs, want)
	}
	// The next pass tries again.
	f.errs = nil
	f.s.Scan()
	if len(f.errs) != 2 {
		t.Errorf("second pass: %q", f.errs)
	}
	f.errs = nil
	f.s.Dir = filepath.Join(f.dir, "missing")
	f.s.Scan()
	if want := []string{"unable to read directory: file does not exist"}; !slices.Equal(f.errs, want) {
		t.Errorf("warnings %q, want %q", f.errs, want)
	}
}

func TestLookPath(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"x", "noexec", "exec", "isdir/supervise"} {
		os.MkdirAll(filepath.Join(dir, d), 0o755)
	}
	write(t, filepath.Join(dir, "noexec", "supervise"), "", 0o644)
	write(t, filepath.Join(dir, "exec", "supervise"), "#!/bin/sh\n", 0o755)
	cases := []struct {
		path string
		want string
		err  error
	}{
		{dir + "/x:" + dir + "/exec", dir + "/exec/supervise", nil},
		{dir + "/noexec:" + dir + "/exec", dir + "/exec/supervise", nil},
		{dir + "/noexec:" + dir + "/x", "", syscall.EACCES},
		{dir + "/isdir", "", syscall.EACCES},
		{dir + "/x", "", syscall.ENOENT},
		{"exec", dir + "/exec/supervise", nil}, // relative to the new process's directory
	}
	for _, c := range cases {
		got, err := lookPath("supervise", c.path, dir)
		if got != c.want || !errors.Is(err, c.err) || (c.err == nil) != (err == nil) {
			t.Errorf("lookPath(%q) = %q, %v; want %q, %v", c.path, got, err, c.want, c.err)
		}
	}
	if got, err := lookPath("/bin/sh", "", dir); got != "/bin/sh" || err != nil {
		t.Errorf("a path is used as is: %q, %v", got, err)
	}
}

func TestRunScansOnWake(t *testing.T) {
	f := newFixture(t)
	f.mkdir("a")
	ctx, cancel := context.WithCancel(context.Background())
	wake := make(chan os.Signal)
	done := make(chan error)
	go func() { done <- f.s.Run(ctx, time.Hour, wake) }()
	f.starts(1) // the first pass is at once
	f.mkdir("b")
	wake <- syscall.SIGALRM
	f.starts(2)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run returned %v", err)
	}
}
