package main

// The test binary doubles as multilog (TestMain): tests run it as a real
// process through a symlink named "multilog" (ours), with BeCommand in its
// environment, so that exit codes, signals, descriptors, the umask and
// messages are those of the command. This file holds the helpers shared by
// the other test files and the tests of start-up errors, the 1, T, Tu and p
// extensions, binary data and memory use.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/taikit/taikit/internal/testref"
)

func TestMain(m *testing.M) { testref.TestMainOr(m, main) }

// refMultilog is daemontools' multilog.
const refMultilog = "/usr/bin/multilog"

// runTimeout bounds one run of a program on an input file.
const runTimeout = 60 * time.Second

// ours returns a path that runs this test binary as multilog: a symlink
// named "multilog", so that messages that name the program (a processor's
// "multilog: fatal: unable to run …") read as they do for the installed
// command. Run it with BeCommand in the environment (run and start do).
func ours(t testing.TB) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "multilog")
	if err := os.Symlink(testref.Self(t), p); err != nil {
		t.Fatal(err)
	}
	return p
}

// commandEnv is what the environment of a run of ours needs: BeCommand,
// and under -race no second of sleep at exit (the race runtime's default,
// which would make every run last a second).
func commandEnv() []string {
	env := []string{testref.BeCommand}
	if raceEnabled() {
		env = append(env, strings.TrimSpace("GORACE="+os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	}
	return env
}

// result is what a finished run left besides files.
type result struct {
	Exit           int // exit code, or minus the signal that killed it
	Stdout, Stderr []byte
	Offset         int64 // where the run left standard input (how much it read)
}

// run runs prog with args in directory dir, its standard input a regular
// file holding stdin (made outside dir), with env added to the environment
// (commandEnv always: harmless for the reference programs).
func run(t testing.TB, prog, dir string, stdin []byte, env []string, args ...string) result {
	t.Helper()
	in := inputFile(t, stdin)
	defer in.Close()
	return runFile(t, prog, dir, in, env, args...)
}

// inputFile returns a regular file holding data, open for reading at 0.
func inputFile(t testing.TB, data []byte) *os.File {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "stdin-*")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	return f
}

// runFile is run with standard input the open file in (its offset shared
// with the child, so result.Offset tells how much was read).
func runFile(t testing.TB, prog, dir string, in *os.File, env []string, args ...string) result {
	t.Helper()
	res, err := runFileErr(prog, dir, in, env, args...)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// runFileErr is runFile without a testing.TB, for worker goroutines.
func runFileErr(prog, dir string, in *os.File, env []string, args ...string) (result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Dir = dir
	cmd.Env = testref.Environ(append(append([]string(nil), env...), commandEnv()...)...)
	cmd.Stdin = in
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	res := result{Stdout: o.Bytes(), Stderr: e.Bytes()}
	res.Offset, _ = in.Seek(0, io.SeekCurrent)
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return res, fmt.Errorf("%s %q did not finish within %v (stderr %q)", prog, args, runTimeout, e.Bytes())
	case errors.As(err, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			res.Exit = -int(ws.Signal())
		} else {
			res.Exit = ee.ExitCode()
		}
	case err != nil:
		return res, fmt.Errorf("running %s: %w", prog, err)
	}
	return res, nil
}

// proc is a multilog running in the background (the signal tests).
type proc struct {
	cmd    *exec.Cmd
	stderr testref.Buffer
	done   chan struct{} // closed when it has exited
	state  *os.ProcessState
	err    error
}

// start starts prog with args in dir, standard input stdin (a pipe end or
// file), extra as descriptors 3, 4, …; it is killed when the test ends if
// it is still running.
func start(t testing.TB, prog, dir string, stdin *os.File, extra []*os.File, args ...string) *proc {
	t.Helper()
	p := &proc{done: make(chan struct{})}
	p.cmd = exec.Command(prog, args...)
	p.cmd.Dir = dir
	p.cmd.Env = testref.Environ(commandEnv()...)
	p.cmd.Stdin = stdin
	p.cmd.Stderr = &p.stderr
	p.cmd.ExtraFiles = extra
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		p.state = p.cmd.ProcessState
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill() // this test's own child, by its id
			<-p.done
		}
	})
	return p
}

// signal sends sig to the process.
func (p *proc) signal(t testing.TB, sig syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("sending %v: %v", sig, err)
	}
}

// exited reports whether the process has exited.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// wait waits up to limit for the process to exit and returns its exit code
// (minus the signal that killed it); it fails the test after limit.
func (p *proc) wait(t testing.TB, limit time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(limit):
		p.cmd.Process.Kill()
		<-p.done
		t.Fatalf("multilog did not exit within %v; stderr %q", limit, p.stderr.String())
	}
	ws := p.state.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		return -int(ws.Signal())
	}
	return ws.ExitStatus()
}

// eventually polls cond every 10 ms until it holds, failing the test
// after limit.
func eventually(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", limit, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// readFile returns a file's content, nil when it cannot be read.
func readFile(path string) []byte {
	b, _ := os.ReadFile(path)
	return b
}

// mode returns a file's permission bits, or -1 when it is missing.
func mode(path string) int {
	st, err := os.Lstat(path)
	if err != nil {
		return -1
	}
	return int(st.Mode().Perm())
}

// archives returns the archive names ("@" + 24 hex + ".s" or ".u") in dir,
// sorted.
func archives(t testing.TB, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		if archiveRE.MatchString(de.Name()) {
			names = append(names, de.Name())
		}
	}
	return names
}

var (
	archiveRE = regexp.MustCompile(`^@[0-9a-f]{24}\.[su]$`)
	stampRE   = regexp.MustCompile(`@[0-9a-f]{24}`)
)

// maskStamps replaces the 24 hex digits of every stamp with "X"s: the
// length stays, so that positions (cuts) can still be compared.
func maskStamps(b []byte) []byte {
	return stampRE.ReplaceAllLiteral(b, []byte("@XXXXXXXXXXXXXXXXXXXXXXXX"))
}

// pipeAvailable returns how many bytes wait in the pipe whose end f is.
func pipeAvailable(f *os.File) int {
	n, err := ioctlInt(int(f.Fd()), syscall.TIOCINQ) // FIONREAD
	if err != nil {
		return -1
	}
	return n
}

func ioctlInt(fd int, req uintptr) (int, error) {
	var v int32
	_, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), req, uintptr(unsafe.Pointer(&v)))
	if e != 0 {
		return 0, e
	}
	return int(v), nil
}

// raceEnabled reports whether the test binary was built with -race.
func raceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// ---------------------------------------------------------------------------
// Start-up errors.

// TestStartupErrors: ML28–ML30 with their exact messages and exit 111, and
// no input read (the standard input's offset is still 0).
func TestStartupErrors(t *testing.T) {
	t.Parallel()
	prog := ours(t)
	for _, c := range []struct {
		args   []string
		stderr string
		check  func(t *testing.T, dir string)
	}{
		{[]string{"./d", "./d"}, "multilog: fatal: unable to lock directory ./d: temporary failure\n",
			func(t *testing.T, dir string) {
				// The first ./d was created and recovered before the second
				// failed (spec §1.10). daemontools leaves its current at
				// 0644 (it never closes it); taikit closes it cleanly.
				for _, f := range []string{"lock", "state", "current"} {
					if mode(filepath.Join(dir, "d", f)) < 0 {
						t.Errorf("d/%s is missing", f)
					}
				}
				t.Logf("d/current left with mode %04o (daemontools: 0644)", mode(filepath.Join(dir, "d", "current")))
			}},
		{[]string{"=nodir/st"}, "multilog: fatal: unable to create nodir/st: file does not exist\n", nil},
		{[]string{"./nodir/sub"}, "multilog: fatal: unable to open directory ./nodir/sub: file does not exist\n",
			func(t *testing.T, dir string) {
				if mode(filepath.Join(dir, "nodir")) >= 0 {
					t.Errorf("nodir was created; only the last component may be")
				}
			}},
		// The status files are opened before any directory (§1.10): the
		// directory is not even created.
		{[]string{"./d", "=nodir/st"}, "multilog: fatal: unable to create nodir/st: file does not exist\n",
			func(t *testing.T, dir string) {
				if mode(filepath.Join(dir, "d")) >= 0 {
					t.Errorf("d was created before the status file failed")
				}
			}},
	} {
		dir := t.TempDir()
		res := run(t, prog, dir, []byte("x\n"), nil, c.args...)
		if res.Exit != 111 || string(res.Stderr) != c.stderr || len(res.Stdout) != 0 {
			t.Errorf("%q: exit %d, stderr %q, stdout %q; want 111, %q", c.args, res.Exit, res.Stderr, res.Stdout, c.stderr)
		}
		if res.Offset != 0 {
			t.Errorf("%q: read %d bytes of input before failing", c.args, res.Offset)
		}
		if c.check != nil {
			c.check(t, dir)
		}
	}
}

// TestStatusFileErrors compares the start-up failure of =file in places
// that cannot be written with daemontools' multilog: the same message, the
// same exit code, nothing read.
func TestStatusFileErrors(t *testing.T) {
	t.Parallel()
	testref.Need(t, refMultilog)
	prog := ours(t)
	setup := func(dir string) {
		os.WriteFile(filepath.Join(dir, "afile"), []byte("data\n"), 0o644)
		os.Mkdir(filepath.Join(dir, "ro"), 0o555)
		os.WriteFile(filepath.Join(dir, "ro", "st"), nil, 0o444)
		os.Symlink("loop", filepath.Join(dir, "loop"))
	}
	words := []string{
		"=nodir/st",                    // ENOENT on create
		"=afile/st",                    // ENOTDIR
		"=.",                           // a directory: EISDIR on open
		"=loop",                        // a symlink loop
		"=/proc/newfile",               // cannot be created even by root
		"=ro/new",                      // a read-only directory (root may still create)
		"=ro/st",                       // a read-only file (root may still write)
		"=" + strings.Repeat("n", 300), // name too long
		"=st",                          // fine, for contrast
	}
	for _, w := range words {
		args := []string{w, "./d"}
		var res [2]result
		for i, p := range []string{refMultilog, prog} {
			dir := t.TempDir()
			setup(dir)
			res[i] = run(t, p, dir, []byte("x\n"), nil, args...)
		}
		ref, got := res[0], res[1]
		if got.Exit != ref.Exit || !bytes.Equal(got.Stderr, ref.Stderr) {
			t.Errorf("%q: exit %d, stderr %q; daemontools: exit %d, stderr %q", args, got.Exit, got.Stderr, ref.Exit, ref.Stderr)
		}
		if ref.Exit == 111 && got.Offset != 0 {
			t.Errorf("%q: read %d bytes of input before failing", args, got.Offset)
		}
	}
}

// TestStatusFileNotRegular: the status file is replaced by renaming a new
// file over it (§18.2). doc/man8/multilog.8 accepts that a symbolic link named
// as the status file is replaced by a file (logged here, not asserted).
// A device must not be: daemontools writes through it (it opens the name
// and writes at offset 0), and replacing it would, for a multilog run as
// root with "=/dev/null" or "=/dev/console", put a regular file in place of
// the system's device node. Tested on a copy of /dev/null (root only).
func TestStatusFileNotRegular(t *testing.T) {
	t.Parallel()
	prog := ours(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "target"), []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("target", filepath.Join(dir, "st")); err != nil {
		t.Fatal(err)
	}
	args := []string{"=st"}
	haveNull := os.Geteuid() == 0 && syscall.Mknod(filepath.Join(dir, "null"), syscall.S_IFCHR|0o666, 1<<8|3) == nil
	if haveNull {
		args = append(args, "=null") // char 1,3: a copy of /dev/null
	}
	res := run(t, prog, dir, []byte("hello\n"), nil, args...)
	if res.Exit != 0 || len(res.Stderr) != 0 {
		t.Errorf("exit %d, stderr %q", res.Exit, res.Stderr)
	}
	record := "hello" + strings.Repeat("\n", 996)
	fi, err := os.Lstat(filepath.Join(dir, "st"))
	switch {
	case err != nil:
		t.Error(err)
	case fi.Mode()&fs.ModeSymlink != 0:
		t.Logf("the symbolic link st was kept; its target holds %d bytes", len(readFile(filepath.Join(dir, "target"))))
	default:
		t.Logf("the symbolic link st was replaced by a file (mode %v), as doc/man8/multilog.8 says", fi.Mode())
		if got := string(readFile(filepath.Join(dir, "st"))); got != record {
			t.Errorf("st holds %q", got)
		}
	}
	if !haveNull {
		t.Skip("no device node to test with (needs root)")
	}
	if fi, err := os.Lstat(filepath.Join(dir, "null")); err != nil || fi.Mode()&fs.ModeCharDevice == 0 {
		t.Errorf("BUG: the status file null, a character device (a copy of /dev/null), was replaced by a file of mode %v", fi.Mode())
	}
}

// TestLockHeldByReference: a directory that daemontools' multilog is
// writing cannot be taken (flock), with multilog's message, and the other
// way round; the live writer is undisturbed.
func TestLockHeldByReference(t *testing.T) {
	t.Parallel()
	testref.Need(t, refMultilog)
	prog := ours(t)
	for _, c := range []struct{ holder, other string }{{refMultilog, prog}, {prog, refMultilog}} {
		dir := t.TempDir()
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		holder := start(t, c.holder, dir, r, nil, "./d")
		r.Close()
		// current and state are made after the lock is taken.
		eventually(t, 10*time.Second, "the holder's directory", func() bool {
			return mode(filepath.Join(dir, "d", "current")) >= 0 && mode(filepath.Join(dir, "d", "state")) >= 0
		})
		w.Write([]byte("from the holder\n"))
		res := run(t, c.other, dir, []byte("x\n"), nil, "./d")
		want := "multilog: fatal: unable to lock directory ./d: temporary failure\n"
		if res.Exit != 111 || string(res.Stderr) != want || res.Offset != 0 {
			t.Errorf("%s while %s holds ./d: exit %d, stderr %q, read %d; want 111, %q, 0",
				c.other, c.holder, res.Exit, res.Stderr, res.Offset, want)
		}
		w.Write([]byte("still logging\n"))
		w.Close()
		if code := holder.wait(t, 10*time.Second); code != 0 {
			t.Errorf("%s: exit %d: %s", c.holder, code, holder.stderr.String())
		}
		if got := string(readFile(filepath.Join(dir, "d", "current"))); got != "from the holder\nstill logging\n" {
			t.Errorf("%s's current %q", c.holder, got)
		}
		if m := mode(filepath.Join(dir, "d", "current")); m != 0o744 {
			t.Errorf("%s's current mode %04o, want 0744", c.holder, m)
		}
	}
}

// ---------------------------------------------------------------------------
// Extensions: 1, T, Tu, p.

func TestStdoutAction(t *testing.T) {
	t.Parallel()
	prog := ours(t)
	dir := t.TempDir()
	in := "keep 1\ndrop 2\n\nkeep 3\npartial"
	res := run(t, prog, dir, []byte(in), nil, "-drop*", "pOUT", "1", "+*", "p", "./d")
	wantOut := "OUT keep 1\nOUT \nOUT keep 3\nOUT partial\n"
	if res.Exit != 0 || len(res.Stderr) != 0 {
		t.Fatalf("exit %d, stderr %q", res.Exit, res.Stderr)
	}
	if string(res.Stdout) != wantOut {
		t.Errorf("stdout %q, want %q", res.Stdout, wantOut)
	}
	if got := string(readFile(filepath.Join(dir, "d", "current"))); got != in+"\n" {
		t.Errorf("current %q", got)
	}
}

// TestStdoutBrokenPipe: a reader of standard output that has gone away does
// not stop the logging: the directory gets everything, exit 0.
func TestStdoutBrokenPipe(t *testing.T) {
	t.Parallel()
	prog := ours(t)
	dir := t.TempDir()
	in := testref.MixedLines(5000, 3)
	res := testref.ExecBrokenPipe(t, commandEnv(), []byte(in), prog, "1", "s16777215", filepath.Join(dir, "d"))
	if res.Code != 0 {
		t.Errorf("exit %d, stderr %q; want 0", res.Code, res.Stderr)
	}
	// At most one line saying that standard output is gone.
	if len(res.Stderr) != 0 && !regexp.MustCompile(`^multilog: warning: [^\n]*standard output[^\n]*\n$`).Match(res.Stderr) {
		t.Errorf("stderr %q; want nothing or one warning about standard output", res.Stderr)
	}
	if got := readFile(filepath.Join(dir, "d", "current")); string(got) != in {
		t.Errorf("current has %d bytes; want the %d of the input", len(got), len(in))
	}
	if m := mode(filepath.Join(dir, "d", "current")); m != 0o744 {
		t.Errorf("current mode %04o, want 0744", m)
	}
}

// TestRFC3339Stamps: T stamps lines with local time in RFC 3339 with
// nanoseconds and the offset, Tu with UTC ("Z"), both followed by a space;
// patterns, e and = see the stamp, as with t.
func TestRFC3339Stamps(t *testing.T) {
	t.Parallel()
	prog := ours(t)
	for _, c := range []struct {
		word, tz string
		re       string
		offset   time.Duration
	}{
		{"T", "Asia/Kolkata", `^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9})\+05:30 `, 5*time.Hour + 30*time.Minute},
		// T is local time with the numeric offset (doc/man8/multilog.8): under
		// TZ=UTC that is +00:00; only Tu writes Z.
		{"T", "UTC", `^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9})\+00:00 `, 0},
		{"Tu", "America/New_York", `^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9})Z `, 0},
	} {
		if _, err := os.Stat("/usr/share/zoneinfo/" + c.tz); c.tz != "UTC" && err != nil {
			t.Logf("%s: no zone information: %v", c.tz, err)
			continue
		}
		dir := t.TempDir()
		before := time.Now()
		res := run(t, prog, dir, []byte("one\n\nthree 3\n"), []string{"TZ=" + c.tz}, c.word, "e", "-2*three*", "./d", "=st")
		after := time.Now()
		if res.Exit != 0 {
			t.Fatalf("%s TZ=%s: exit %d, %q", c.word, c.tz, res.Exit, res.Stderr)
		}
		re := regexp.MustCompile(c.re)
		check := func(what, line, text string) {
			m := re.FindStringSubmatch(line)
			if m == nil || line[len(m[0]):] != text {
				t.Errorf("%s TZ=%s: %s line %q; want %s then %q", c.word, c.tz, what, line, c.re, text)
				return
			}
			ts, err := time.Parse("2006-01-02T15:04:05.999999999", m[1])
			if err != nil {
				t.Error(err)
				return
			}
			ts = ts.Add(-c.offset)
			if ts.Before(before.Add(-2*time.Second)) || ts.After(after.Add(2*time.Second)) {
				t.Errorf("%s TZ=%s: stamp %s (UTC %v) is not the time of the run (%v–%v)", c.word, c.tz, m[0], ts, before.UTC(), after.UTC())
			}
		}
		lines := strings.Split(strings.TrimSuffix(string(readFile(filepath.Join(dir, "d", "current"))), "\n"), "\n")
		// "-2*three*": the stamp begins with the year's "2", and the first
		// "three" after it is the text's: deselected.
		if len(lines) != 2 {
			t.Fatalf("%s TZ=%s: current %q; want 2 lines", c.word, c.tz, lines)
		}
		check("current", lines[0], "one")
		check("current", lines[1], "")
		alerts := strings.Split(strings.TrimSuffix(string(res.Stderr), "\n"), "\n")
		if len(alerts) != 3 {
			t.Fatalf("%s TZ=%s: stderr %q; want 3 alerts", c.word, c.tz, res.Stderr)
		}
		check("alert", alerts[2], "three 3")
		// The status file holds the last line selected at its position:
		// the empty one, whose stamp the directory shows.
		if st, want := string(readFile(filepath.Join(dir, "st"))), lines[1]+strings.Repeat("\n", 1001-len(lines[1])); st != want {
			t.Errorf("%s TZ=%s: status %q, want %q", c.word, c.tz, st, want)
		}
	}
	// T or Tu after the first word does nothing, with a warning.
	dir := t.TempDir()
	res := run(t, prog, dir, []byte("x\n"), nil, "./d", "Tu")
	if got := string(readFile(filepath.Join(dir, "d", "current"))); res.Exit != 0 || got != "x\n" ||
		!regexp.MustCompile(`^multilog: warning: script word "Tu" does nothing: [^\n]+\n$`).Match(res.Stderr) {
		t.Errorf("Tu not first: exit %d, current %q, stderr %q", res.Exit, got, res.Stderr)
	}
}

// TestPrefix: pPFX puts "PFX " after the stamp of what the actions after it
// write (directories, e, =, 1); a bare p clears it. Patterns see the line
// without the prefix.
func TestPrefix(t *testing.T) {
	t.Parallel()
	prog := ours(t)
	dir := t.TempDir()
	res := run(t, prog, dir, []byte("alpha\nbeta\n"), nil,
		"t", "pA", "./d1", "p", "./d2", "pB:c", "-* beta", "=st", "e", "1")
	if res.Exit != 0 {
		t.Fatalf("exit %d, %q", res.Exit, res.Stderr)
	}
	m := func(b []byte) string { return string(stampRE.ReplaceAll(b, []byte("@"))) }
	for _, c := range []struct{ what, got, want string }{
		{"d1", m(readFile(filepath.Join(dir, "d1", "current"))), "@ A alpha\n@ A beta\n"},
		{"d2", m(readFile(filepath.Join(dir, "d2", "current"))), "@ alpha\n@ beta\n"},
		{"st", m(readFile(filepath.Join(dir, "st"))), "@ B:c alpha" + strings.Repeat("\n", 1001-35)},
		{"stderr", m(res.Stderr), "@ B:c alpha\n"},
		{"stdout", m(res.Stdout), "@ B:c alpha\n"},
	} {
		if c.got != c.want {
			t.Errorf("%s: %q, want %q", c.what, c.got, c.want)
		}
	}
	// Without t the prefix starts the line.
	dir = t.TempDir()
	run(t, prog, dir, []byte("x\n"), nil, "pP", "./d")
	if got := string(readFile(filepath.Join(dir, "d", "current"))); got != "P x\n" {
		t.Errorf("without t: %q", got)
	}
}

// TestBinaryBytes: NUL, CR and bytes ≥ 0x80 are ordinary data in every
// output, exactly as daemontools' multilog has them.
func TestBinaryBytes(t *testing.T) {
	t.Parallel()
	prog := ours(t)
	var in []byte
	for i := 0; i < 256; i++ {
		if i != '\n' {
			in = append(in, byte(i))
		}
	}
	in = append(in, '\n')
	in = append(in, "\x00\n\xff\xfe\r\n\r\n\x80 @4000000037c219bf2ef02e94 x\n"...)
	in = append(in, bytes.Repeat([]byte{0, 0xff}, 700)...) // a long binary line, partial
	args := []string{"e", "=st", "./d", "s4096"}
	dir := t.TempDir()
	res := run(t, prog, dir, in, nil, append(args, "1")...)
	if res.Exit != 0 {
		t.Fatalf("exit %d, %q", res.Exit, res.Stderr)
	}
	want := append(bytes.Clone(in), '\n')
	if !bytes.Equal(readFile(filepath.Join(dir, "d", "current")), want) {
		t.Errorf("current differs from the input")
	}
	if !bytes.Equal(res.Stdout, want) {
		t.Errorf("stdout differs from the input")
	}
	if refOK(t) {
		rdir := t.TempDir()
		ref := run(t, refMultilog, rdir, in, nil, args...)
		if !bytes.Equal(res.Stderr, ref.Stderr) {
			t.Errorf("e: %q; daemontools: %q", res.Stderr, ref.Stderr)
		}
		if a, b := readFile(filepath.Join(dir, "st")), readFile(filepath.Join(rdir, "st")); !bytes.Equal(a, b) {
			t.Errorf("status %q; daemontools: %q", a, b)
		}
		if a, b := readFile(filepath.Join(dir, "d", "current")), readFile(filepath.Join(rdir, "d", "current")); !bytes.Equal(a, b) {
			t.Errorf("current %q; daemontools: %q", a, b)
		}
	}
}

// refOK reports whether daemontools' multilog is installed (logging when
// it is not).
func refOK(t testing.TB) bool {
	if _, err := os.Stat(refMultilog); err != nil {
		t.Logf("%s not installed: not compared", refMultilog)
		return false
	}
	return true
}

// peakRSS follows a process's peak resident set: VmHWM of /proc/<pid>/status
// (the new program's own: fork's inherited ru_maxrss would report the
// test's), read every 20 ms while it runs and whenever record is called.
// VmHWM only grows, so the last reading is the peak up to then.
type peakRSS struct {
	p      *proc
	mu     sync.Mutex
	kb     int64
	polled chan struct{}
}

func watchPeak(p *proc) *peakRSS {
	w := &peakRSS{p: p, kb: -1, polled: make(chan struct{})}
	go func() { // owned by the watch: ends when the process has exited
		defer close(w.polled)
		for !p.exited() {
			w.record()
			time.Sleep(20 * time.Millisecond)
		}
	}()
	return w
}

func (w *peakRSS) record() {
	kb := testref.VmHWM(w.p.cmd.Process.Pid)
	w.mu.Lock()
	w.kb = max(w.kb, kb)
	w.mu.Unlock()
}

// check waits for the process's end and fails the test if its peak was
// over limit kB (not under -race, whose own memory counts).
func (w *peakRSS) check(t *testing.T, limit int64) {
	t.Helper()
	<-w.polled
	w.mu.Lock()
	defer w.mu.Unlock()
	t.Logf("peak RSS (VmHWM) %d kB = %.1f MiB", w.kb, float64(w.kb)/1024)
	switch {
	case w.kb < 0:
		t.Errorf("could not read VmHWM")
	case w.kb > limit && raceEnabled():
		t.Logf("over %d kB under -race (the race detector's own memory): not checked", limit)
	case w.kb > limit:
		t.Errorf("peak RSS %d kB, more than %d kB", w.kb, limit)
	}
}

// TestFloodMemory: a flood of empty lines, each stamped into 27 bytes, is
// written a bounded piece at a time (4 MiB of output a directory), from a
// file and through a pipe: the writer held a whole read's output twice
// (66 MB for 20 MB of newlines from a file).
func TestFloodMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	prog := ours(t)
	flood := filepath.Join(t.TempDir(), "flood")
	if err := os.WriteFile(flood, bytes.Repeat([]byte("\n"), 20<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"file", "pipe"} {
		t.Run(kind, func(t *testing.T) {
			dir := t.TempDir()
			f, err := os.Open(flood)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			stdin := f
			if kind == "pipe" {
				r, w, err := os.Pipe()
				if err != nil {
					t.Fatal(err)
				}
				defer r.Close()
				go func() { // owned by the test: ends with the input written
					io.Copy(w, f)
					w.Close()
				}()
				stdin = r
			}
			p := start(t, prog, dir, stdin, nil, "t", "s16777215", "n2", "./d")
			peak := watchPeak(p)
			if code := p.wait(t, 120*time.Second); code != 0 {
				t.Fatalf("exit %d: %s", code, p.stderr.String())
			}
			peak.check(t, 24<<10)
		})
	}
}

// TestHugeLineMemory streams a 200 MB line without a newline through a
// pipe and measures the peak resident set of multilog: it must stay under
// 16 MiB, since a line is never held whole. The high-water mark is read
// from /proc/<pid>/status (VmHWM, the new program's own: fork's inherited
// ru_maxrss would report the test's) once all input is consumed, before
// standard input is closed.
func TestHugeLineMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	const total = 200 << 20
	const s = 16777215
	prog := ours(t)
	dir := t.TempDir()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	p := start(t, prog, dir, r, nil, "s"+strconv.Itoa(s), "n2", "./d")
	r.Close()
	peak := watchPeak(p)
	chunk := bytes.Repeat([]byte("0123456789abcdef"), 4096) // 64 KiB
	began := time.Now()
	for n := 0; n < total; n += len(chunk) {
		if _, err := w.Write(chunk); err != nil {
			t.Fatalf("writing input: %v; stderr %q", err, p.stderr.String())
		}
	}
	eventually(t, 60*time.Second, "the input consumed", func() bool { return pipeAvailable(w) == 0 })
	time.Sleep(100 * time.Millisecond)
	peak.record()
	w.Close()
	if code := p.wait(t, 60*time.Second); code != 0 {
		t.Fatalf("exit %d: %s", code, p.stderr.String())
	}
	t.Logf("200 MB line in %v", time.Since(began).Round(time.Millisecond))
	peak.check(t, 16<<10)
	// 12 files of exactly s bytes were closed; n2 keeps the last; current
	// holds the rest and the newline added at the end.
	arch := archives(t, filepath.Join(dir, "d"))
	if len(arch) != 1 {
		t.Fatalf("archives %q, want 1", arch)
	}
	st, _ := os.Stat(filepath.Join(dir, "d", arch[0]))
	cur := readFile(filepath.Join(dir, "d", "current"))
	if st.Size() != s || len(cur) != total%s+1 || cur[len(cur)-1] != '\n' {
		t.Errorf("archive %d bytes, current %d; want %d and %d", st.Size(), len(cur), s, total%s+1)
	}
	if off := (total / s) * s; !bytes.Equal(cur[:64], bytes.Repeat([]byte("0123456789abcdef"), 64)[off%16:off%16+64]) {
		t.Errorf("current starts %q", cur[:64])
	}
}

// TestUmaskForcedForProcessors: multilog sets umask 022, so a file a
// processor creates has mode 0644 whatever the caller's umask, as with
// daemontools' multilog (checked side by side).
func TestUmaskForcedForProcessors(t *testing.T) {
	in := bytes.Repeat([]byte(strings.Repeat("x", 99)+"\n"), 30)
	progs := []string{ours(t)}
	if refOK(t) {
		progs = append(progs, "/usr/bin/multilog")
	}
	for _, prog := range progs {
		dir := t.TempDir()
		res := run(t, "/bin/sh", dir, in, commandEnv(), "-c", `umask 077; exec "$0" "$@"`, prog, "s4096", "!cat; : > made", "./d")
		if res.Exit != 0 {
			t.Fatalf("%s: exit %d: %s", prog, res.Exit, res.Stderr)
		}
		if m := mode(filepath.Join(dir, "d", "made")); m != 0o644 {
			t.Errorf("%s: a file the processor created has mode %04o, want 0644", prog, m)
		}
	}
}

// TestStatusFileReplacedWhole: over many reads, a reader of the status file
// only ever finds whole 1001-byte records (or the file as it was before the
// first), the file keeps its mode, a longer file left by daemontools'
// in-place writes ends at 1001 bytes, another hard link to the status file
// keeps what it held, and no spare file is left behind.
func TestStatusFileReplacedWhole(t *testing.T) {
	t.Parallel()
	prog := ours(t)
	dir := t.TempDir()
	old := bytes.Repeat([]byte("old\n"), 400) // 1600 bytes, as in-place writes leave
	for _, name := range []string{"st", "hl"} {
		if err := os.WriteFile(filepath.Join(dir, name), old, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Link(filepath.Join(dir, "hl"), filepath.Join(dir, "hl-other")); err != nil {
		t.Fatal(err)
	}
	var in bytes.Buffer
	for i := 0; in.Len() < 12<<20; i++ {
		fmt.Fprintf(&in, "line %07d %s\n", i, strings.Repeat("x", i%300))
	}
	lastLine := in.Bytes()[bytes.LastIndexByte(in.Bytes()[:in.Len()-1], '\n')+1 : in.Len()-1]

	stop := make(chan struct{})
	readerDone := make(chan error)
	firstSeen := make(chan struct{}) // closed when the reader has seen a record
	go func() {
		seen := 0
		for {
			select {
			case <-stop:
				if seen == 0 {
					readerDone <- errors.New("the reader never saw a record")
					return
				}
				readerDone <- nil
				return
			default:
			}
			b, err := os.ReadFile(filepath.Join(dir, "st"))
			if err != nil {
				readerDone <- err
				return
			}
			if bytes.Equal(b, old) {
				continue
			}
			end := bytes.IndexByte(b, '\n')
			if len(b) != 1001 || end < 0 || !bytes.HasPrefix(b, []byte("line ")) ||
				len(bytes.Trim(b[end:], "\n")) != 0 {
				readerDone <- fmt.Errorf("a reader found %d bytes: %q", len(b), b[:min(len(b), 80)])
				return
			}
			if seen == 0 {
				close(firstSeen)
			}
			seen++
		}
	}()
	// Half the input, then the rest once the reader has seen a record, so
	// that it reads while multilog replaces the files, however the two are
	// scheduled (run with a file as input, multilog could be done before
	// the reader looked, under load).
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	p := start(t, prog, dir, r, nil, "=st", "=hl")
	r.Close()
	half := in.Len() / 2
	go func() { // owned by the test: ends once the input is written
		w.Write(in.Bytes()[:half])
		select {
		case <-firstSeen:
		case <-time.After(testref.Patience): // a failure bound: the reader's check below says what went wrong
		}
		w.Write(in.Bytes()[half:])
		w.Close()
	}()
	code := p.wait(t, testref.Patience)
	close(stop)
	if err := <-readerDone; err != nil {
		t.Error(err)
	}
	if code != 0 || p.stderr.String() != "" {
		t.Fatalf("exit %d, stderr %q", code, p.stderr.String())
	}
	want := string(lastLine) + strings.Repeat("\n", 1001-len(lastLine))
	for _, name := range []string{"st", "hl"} {
		p := filepath.Join(dir, name)
		if got := string(readFile(p)); got != want {
			t.Errorf("%s holds %d bytes %.40q; want the last line padded to 1001 bytes", name, len(got), got)
		}
		if m := mode(p); m != 0o640 {
			t.Errorf("%s has mode %o; want 640, the mode it had", name, m)
		}
	}
	if got := readFile(filepath.Join(dir, "hl-other")); !bytes.Equal(got, old) {
		t.Errorf("hl-other, another link to hl's old file, was changed: %.40q", got)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "hl hl-other st" {
		t.Errorf("the directory holds %q; want only hl, hl-other and st", names)
	}
}
