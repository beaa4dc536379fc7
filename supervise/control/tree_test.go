package control_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/taikit/taikit/supervise/control"
	"github.com/taikit/taikit/supervise/control/controltest"
)

func TestServices(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	for _, d := range []string{"b/log", "a", ".hidden", "c/log/x", "elsewhere/d"} {
		os.MkdirAll(filepath.Join(root, d), 0o755)
	}
	os.WriteFile(filepath.Join(root, "README"), nil, 0o644)
	os.WriteFile(filepath.Join(root, "a", "log"), nil, 0o644) // not a directory: no log service
	os.Symlink(filepath.Join(root, "elsewhere", "d"), filepath.Join(root, "d"))
	os.Symlink("nowhere", filepath.Join(root, "e"))
	got, err := control.Services(root)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, d := range []string{"a", "b", "b/log", "c", "c/log", "d", "elsewhere"} {
		want = append(want, filepath.Join(root, d))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Services = %q\nwant %q", got, want)
	}
	if _, err := control.Services(filepath.Join(root, "missing")); !os.IsNotExist(err) {
		t.Fatalf("Services of a missing directory: %v", err)
	}
}

// A tree with a logged service, a crashing one and one never ready:
// start brings up what it can, loggers first, and says what failed; stop
// brings the loggers down last.
func TestDoAllMixed(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	order := filepath.Join(root, "order")
	// Each says it has started once its trap for TERM is set, and is
	// ready (check) only then: so a starts only once a/log has said so,
	// and a stop cannot come before the trap.
	logged := func(name string) map[string]string {
		return map[string]string{
			"run": "trap 'echo stop " + name + " >> " + order + "; exit 0' TERM; echo start " + name + " >> " + order +
				"; while :; do sleep 0.1; done",
			"check": "grep -qx 'start " + name + "' " + order,
		}
	}
	controltest.Service(t, root, "a", logged("a"))
	controltest.Service(t, root, "a/log", logged("a/log"))
	controltest.Service(t, root, "b", map[string]string{"run": "echo cannot bind >&2; exit 2"})
	controltest.Service(t, root, "c", map[string]string{"run": "exec sleep 1000", "check": "exit 1"})
	dirs, err := control.Services(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		os.WriteFile(filepath.Join(d, "down"), nil, 0o644)
		controltest.Supervise(t, controltest.Ours(t), d)
	}

	var mu sync.Mutex
	var reported []string
	report := func(r control.Result) {
		mu.Lock()
		reported = append(reported, r.Dir)
		mu.Unlock()
	}
	rs := control.DoAll(context.Background(), dirs, control.Start, quick(3*time.Second), 2, report)
	var summary []string
	for i, r := range rs {
		if r.Dir != dirs[i] {
			t.Fatalf("result %d is for %s, want %s", i, r.Dir, dirs[i])
		}
		summary = append(summary, filepath.Base(filepath.Dir(r.Dir))+"/"+filepath.Base(r.Dir)+": "+r.Done+errText(r.Err))
	}
	want := []string{
		filepath.Base(root) + "/a: started",
		"a/log: started",
		filepath.Base(root) + "/b: run exited 2 before it was ready (see the service's log); brought it down again",
		filepath.Base(root) + "/c: not ready after 3 seconds: check has not succeeded (see why ./check fails, or allow longer); brought it down again",
	}
	if !slices.Equal(summary, want) {
		t.Fatalf("start of the tree:\n%s\nwant\n%s", strings.Join(summary, "\n"), strings.Join(want, "\n"))
	}
	if len(reported) != 4 || reported[0] != filepath.Join(root, "a", "log") {
		t.Fatalf("reported %q: want 4, the logger first", reported)
	}
	if failed := control.Failed(rs); len(failed) != 2 || failed[0].Dir != dirs[2] || failed[1].Dir != dirs[3] {
		t.Fatalf("Failed = %v", failed)
	}

	rs = control.DoAll(context.Background(), dirs, control.Stop, generous, 0, nil)
	for _, r := range rs {
		if !r.OK() {
			t.Fatalf("stop %s: %v", r.Dir, r.Err)
		}
	}
	b, _ := os.ReadFile(order)
	if got := string(b); got != "start a/log\nstart a\nstop a\nstop a/log\n" {
		t.Fatalf("order of starts and stops:\n%s", got)
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// A log service is known by its directory's name, also when it is named
// "." or ".." from inside.
func TestIsLogger(t *testing.T) {
	root := t.TempDir()
	logDir := filepath.Join(root, "x", "log")
	if err := os.MkdirAll(filepath.Join(logDir, "main"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(filepath.Join(logDir, "main"))
	for dir, want := range map[string]bool{
		logDir: true, logDir + "/": true, "..": true, "../.": true, ".": false,
		filepath.Join(root, "x"): false, "../..": false, "log": true,
	} {
		if got := control.IsLogger(dir); got != want {
			t.Errorf("IsLogger(%q) in %s/main = %v, want %v", dir, logDir, got, want)
		}
	}
	t.Chdir(logDir)
	if !control.IsLogger(".") {
		t.Errorf("IsLogger(\".\") in %s is false", logDir)
	}
}
