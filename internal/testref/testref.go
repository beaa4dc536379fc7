// Package testref helps tests compare taikit with the reference programs
// (daemontools, s6, runit): finding them, running them on the same input,
// generating inputs and showing differences. Tests that need a reference
// program skip with a message saying how to install it; CI installs them.
package testref

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// Need skips the test, naming the Debian package to install, unless the
// reference program at path is installed; it fails the test when path is
// not an absolute path or is not the file of the Debian package that ships
// it, so that no test ever takes one of taikit's own commands (found in
// $PATH, or copied over it) for the program it is compared with.
func Need(t testing.TB, path string) {
	t.Helper()
	if err := checkReference(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			t.Skipf("%v", err)
		}
		t.Fatal(err)
	}
}

// referencePackages are the Debian packages whose programs the tests
// compare taikit with, or run beside it (a Prometheus server scraping
// svstatd, a browser opening its page).
var referencePackages = []string{"daemontools", "s6", "runit", "prometheus", "chromium"}

// checkReference says why path cannot serve as a reference program: an
// error wrapping fs.ErrNotExist when it is not installed (the message names
// the package to install), another error when something other than a
// Debian package's file is there.
func checkReference(path string) error {
	if !filepath.IsAbs(path) {
		return fmt.Errorf("reference program %q must be named by its full path (/usr/bin/...), never looked up in $PATH, where taikit's own commands may come first", path)
	}
	pkg := packageOf(filepath.Base(path))
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("reference program %s is not installed: apt-get install %s (or run ../shared/tools/install-reference.sh as root): %w", path, pkg, err)
	}
	for _, p := range referencePackages {
		list, err := os.ReadFile("/var/lib/dpkg/info/" + p + ".list")
		if err != nil {
			continue
		}
		for line := range strings.Lines(string(list)) {
			if strings.TrimSuffix(line, "\n") == path {
				return nil
			}
		}
	}
	if _, err := os.Stat("/var/lib/dpkg/info"); err != nil {
		return nil // not a Debian system: the full path is all we can check
	}
	return fmt.Errorf("%s is not a file of the Debian packages %v: it may be a copy of taikit's own command; reinstall %s", path, referencePackages, pkg)
}

// packageOf is the Debian package that ships the reference program named.
func packageOf(name string) string {
	switch {
	case strings.HasPrefix(name, "s6-"):
		return "s6"
	case name == "svlogd" || name == "runsv" || name == "runsvdir" || name == "sv" || name == "chpst":
		return "runit"
	case name == "prometheus" || name == "promtool":
		return "prometheus"
	case name == "chromium":
		return "chromium"
	}
	return "daemontools"
}

// Result is what a finished program left.
type Result struct {
	Stdout, Stderr []byte
	Code           int // exit code, or -signal when killed by a signal
}

// Exec runs path with args and stdin as input, in this process's
// environment changed by env: "NAME=value" sets a variable, "NAME" alone
// removes it.
func Exec(t testing.TB, env []string, stdin []byte, path string, args ...string) Result {
	t.Helper()
	cmd := exec.Command(path, args...)
	cmd.Env = Environ(env...)
	cmd.Stdin = bytes.NewReader(stdin)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	res := Result{Code: exitCode(t, path, cmd.Run())}
	res.Stdout, res.Stderr = o.Bytes(), e.Bytes()
	return res
}

// exitCode turns cmd.Run's error into an exit code, or minus the signal
// that killed the process.
func exitCode(t testing.TB, path string, err error) int {
	t.Helper()
	if ee, ok := err.(*exec.ExitError); ok {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return -int(ws.Signal())
		}
		return ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running %s: %v", path, err)
	}
	return 0
}

// Environ returns this process's environment changed by changes, as Exec
// describes.
func Environ(changes ...string) []string {
	env := os.Environ()
	for _, c := range changes {
		name, _, _ := strings.Cut(c, "=")
		kept := env[:0:0]
		for _, e := range env {
			if n, _, _ := strings.Cut(e, "="); n != name {
				kept = append(kept, e)
			}
		}
		env = kept
		if strings.Contains(c, "=") {
			env = append(env, c)
		}
	}
	return env
}

// Run runs path and fails the test unless it exits 0; it returns stdout.
func Run(t testing.TB, env []string, stdin []byte, path string, args ...string) []byte {
	t.Helper()
	r := Exec(t, env, stdin, path, args...)
	if r.Code != 0 {
		t.Fatalf("%s %q exited %d: %s", path, args, r.Code, r.Stderr)
	}
	return r.Stdout
}

// WriteTemp writes content to a new file in the test's temporary directory
// and returns its path.
func WriteTemp(t testing.TB, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "input")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Diff describes how got differs from want, line by line: how many lines
// differ and the first few of them, quoted, with their line numbers. It
// stays short on inputs of thousands of lines.
func Diff(want, got string) string {
	w, g := strings.SplitAfter(want, "\n"), strings.SplitAfter(got, "\n")
	var b strings.Builder
	shown, differ := 0, 0
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl == gl {
			continue
		}
		differ++
		if shown < 5 {
			shown++
			fmt.Fprintf(&b, "line %d:\n  want %q\n   got %q\n", i+1, wl, gl)
		}
	}
	return fmt.Sprintf("%d of %d lines differ\n%s", differ, len(w), b.String())
}

// MixedLines returns n lines of the kinds logs hold: ordinary text, empty
// lines, long lines, NUL and high bytes, lines that look like stamps but
// are not at the start. Every line ends with a newline.
func MixedLines(n int, seed uint64) string {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	var b strings.Builder
	for i := 0; i < n; i++ {
		switch r.IntN(10) {
		case 0:
			// empty line
		case 1:
			b.WriteString(strings.Repeat("long ", 200+r.IntN(2000)))
		case 2:
			b.Write([]byte{'b', 0, 0xff, 0x80, '\r', 'x'})
		case 3:
			b.WriteString(" @4000000037c219bf2ef02e94 not at the start")
		default:
			fmt.Fprintf(&b, "service[%d]: request %d took %dms status=%d", r.IntN(99999), i, r.IntN(5000), 200+r.IntN(4)*100)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// ExecBrokenPipe runs path like Exec but with its standard output a pipe
// whose reader has already gone, as in `cmd | head` after head exits.
func ExecBrokenPipe(t testing.TB, env []string, stdin []byte, path string, args ...string) Result {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	defer w.Close()
	cmd := exec.Command(path, args...)
	cmd.Env = Environ(env...)
	cmd.Stdin = bytes.NewReader(stdin)
	var e bytes.Buffer
	cmd.Stdout, cmd.Stderr = w, &e
	code := exitCode(t, path, cmd.Run())
	return Result{Stderr: e.Bytes(), Code: code}
}

// BeCommand, added to a test binary's environment, makes TestMainOr run the
// command's main instead of the tests.
const BeCommand = "TAIKIT_BE_COMMAND=1"

// TestMainOr lets a command's test binary double as the command, so that
// exit codes, signals and file descriptors are tested on a real process
// (see Self and BeCommand); as the tests, it is Main. Call it from
// TestMain.
func TestMainOr(m *testing.M, main func()) {
	if os.Getenv("TAIKIT_BE_COMMAND") == "1" {
		main()
		os.Exit(0)
	}
	Main(m)
}

// Self returns the path of the running test binary.
func Self(t testing.TB) string {
	t.Helper()
	p, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Buffer is a bytes.Buffer safe for concurrent use: a child process or a
// background goroutine writes it while the test reads it.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns what was written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
