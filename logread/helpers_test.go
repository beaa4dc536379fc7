package logread

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/taikit/taikit/rotate"
)

// The reader's tests write their directories with package rotate, the
// writing side, as a program would; these are the helpers for that.

// warnings collects a Dir's warnings.
type warnings struct {
	mu   sync.Mutex
	list []string
}

func (w *warnings) add(s string) { w.mu.Lock(); w.list = append(w.list, s); w.mu.Unlock() }

// testOptions has a fast pause and collected warnings.
func testOptions(w *warnings) rotate.Options {
	return rotate.Options{Pause: 10 * time.Millisecond, Warn: w.add, Stderr: os.Stderr}
}

func mustOpen(t *testing.T, path string, o rotate.Options) *rotate.Dir {
	t.Helper()
	d, err := rotate.Open(path, o)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func write(t *testing.T, d *rotate.Dir, p []byte) {
	t.Helper()
	if n, err := d.Write(p); err != nil || n != len(p) {
		t.Fatalf("Write = %d, %v", n, err)
	}
}

// listDir returns the names in dir, sorted.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, de := range des {
		out = append(out, de.Name())
	}
	sort.Strings(out)
	return out
}

// archives returns the archives' names and contents in name order.
func archives(t *testing.T, dir string) (names []string, data [][]byte) {
	t.Helper()
	for _, n := range listDir(t, dir) {
		if !strings.HasPrefix(n, "@") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, n))
		if errors.Is(err, os.ErrNotExist) {
			continue // a job pruned it meanwhile
		}
		names = append(names, n)
		data = append(data, b)
	}
	return names, data
}

// The reference programs whose directories the Reader must read.
const (
	interopMultilog = "/usr/bin/multilog"
	interopS6Log    = "/usr/bin/s6-log"
	interopSvlogd   = "/usr/bin/svlogd"
)

// interopMustRun runs a reference program in cwd with input from a
// regular file (so that its reads, and so its cuts, are deterministic); it
// must exit 0 and say nothing.
func interopMustRun(t *testing.T, cwd string, input []byte, prog string, args ...string) {
	t.Helper()
	in := filepath.Join(t.TempDir(), "input")
	if err := os.WriteFile(in, input, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(prog, args...)
	cmd.Dir, cmd.Stdin = cwd, f
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	code := 0
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("running %s: %v", prog, err)
		}
		code = ee.ExitCode()
		if ws := ee.Sys().(syscall.WaitStatus); ws.Signaled() {
			code = -int(ws.Signal())
		}
	}
	if code != 0 || o.Len() > 0 || e.Len() > 0 {
		t.Fatalf("%s %q exited %d: stdout %q, stderr %q", prog, args, code, o.Bytes(), e.Bytes())
	}
}
