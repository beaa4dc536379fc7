package control_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/taikit/taikit/supervise"
	"github.com/taikit/taikit/supervise/control"
	"github.com/taikit/taikit/supervise/control/controltest"
)

// needs writes the needs/ entries of the service in dir.
func needs(t *testing.T, dir string, names ...string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, supervise.NeedsDir), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, supervise.NeedsDir, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestWithNeeds(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	for _, d := range []string{"a", "a/log", "b", "c", "d", "e"} {
		os.MkdirAll(filepath.Join(root, d), 0o755)
	}
	needs(t, filepath.Join(root, "a"), "b")
	needs(t, filepath.Join(root, "b"), "c", "nosuch")
	needs(t, filepath.Join(root, "d"), "a")
	needs(t, filepath.Join(root, "a/log"), "e") // a logger's needs/ is not read
	in := func(names ...string) []string {
		var out []string
		for _, n := range names {
			out = append(out, filepath.Join(root, n))
		}
		return out
	}
	for _, c := range []struct {
		given []string
		verb  control.Verb
		want  []string
	}{
		{in("a"), control.Start, in("a", "b", "c")},
		{in("a/log"), control.Start, in("a/log")},
		{in("c"), control.Stop, in("c", "b", "a", "d")},
		{in("d", "a"), control.Stop, in("d", "a")},
		{in("a"), control.Restart, in("a")},
		{in("e"), control.Stop, in("e")},
	} {
		if got := control.WithNeeds(c.given, c.verb); !slices.Equal(got, c.want) {
			t.Errorf("WithNeeds(%q, %v) = %q, want %q", c.given, c.verb, got, c.want)
		}
	}
}

// events reads the lines the services of a test appended to root/events.
func events(root string) string {
	b, _ := os.ReadFile(filepath.Join(root, "events"))
	return strings.ReplaceAll(strings.TrimSpace(string(b)), "\n", ", ")
}

// A chain of three services with slow checks, c needed by b needed by a:
// starting a starts c, then b, then a, each only once the one it needs is
// ready; stopping c stops a, then b, then c. The order is what the
// services themselves recorded. Under daemontools' supervise, which does
// not read needs/, the order is DoAll's alone.
func TestDoAllChain(t *testing.T) {
	for _, sup := range controltest.Both(t) {
		t.Run(sup.Name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			ev := filepath.Join(root, "events")
			for _, name := range []string{"a", "b", "c"} {
				dir := controltest.Service(t, root, name, map[string]string{
					"run": "trap 'echo stop " + name + " >> " + ev + "; exit 0' TERM; echo start " + name + " >> " + ev +
						"; while :; do sleep 0.1; done",
					// Slow, and ready only once run has said it started.
					"check": "sleep 0.2; grep -qx 'start " + name + "' " + ev + " || exit 1; grep -qx 'ready " + name + "' " + ev +
						" || echo ready " + name + " >> " + ev,
				})
				os.WriteFile(filepath.Join(dir, "down"), nil, 0o644)
			}
			needs(t, filepath.Join(root, "a"), "b")
			needs(t, filepath.Join(root, "b"), "c")
			for _, name := range []string{"a", "b", "c"} {
				controltest.Supervise(t, sup.Path, filepath.Join(root, name))
			}

			dirs := control.WithNeeds([]string{filepath.Join(root, "a")}, control.Start)
			for _, r := range control.DoAll(context.Background(), dirs, control.Start, generous, 0, nil) {
				mustSucceed(t, r, "started")
			}
			if got, want := events(root), "start c, ready c, start b, ready b, start a, ready a"; got != want {
				t.Fatalf("start: events %q, want %q", got, want)
			}
			os.Remove(ev)
			dirs = control.WithNeeds([]string{filepath.Join(root, "c")}, control.Stop)
			for _, r := range control.DoAll(context.Background(), dirs, control.Stop, generous, 0, nil) {
				mustSucceed(t, r, "stopped")
			}
			if got, want := events(root), "stop a, stop b, stop c"; got != want {
				t.Fatalf("stop: events %q, want %q", got, want)
			}
		})
	}
}

// A cycle is refused and nothing in it is started, nor what needs it; a
// service that needs a missing one is refused; the rest starts.
func TestDoAllCycleAndMissing(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	for _, name := range []string{"x", "y", "z", "m", "w"} {
		dir := controltest.Service(t, root, name, map[string]string{"run": "echo start " + name + " >> ../events; exec sleep 1000"})
		os.WriteFile(filepath.Join(dir, "down"), nil, 0o644)
	}
	needs(t, filepath.Join(root, "x"), "y")
	needs(t, filepath.Join(root, "y"), "x")
	needs(t, filepath.Join(root, "z"), "x")
	needs(t, filepath.Join(root, "m"), "nosuch")
	dirs, err := control.Services(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		controltest.Supervise(t, controltest.Ours(t), d)
	}
	rs := control.DoAll(context.Background(), dirs, control.Start, generous, 0, nil)
	var got []string
	for _, r := range rs {
		got = append(got, filepath.Base(r.Dir)+": "+r.Done+errText(r.Err))
	}
	want := []string{
		"m: needs nosuch, which is no service in " + root + " (no such directory; make it, or remove needs/nosuch); left it as it was",
		"w: started",
		"x: a cycle of needs: x needs y, y needs x (remove one of these needs entries); left it as it was",
		"y: a cycle of needs: y needs x, x needs y (remove one of these needs entries); left it as it was",
		"z: needs " + root + "/x, which did not start; left it as it was",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("start:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got := events(root); got != "start w" {
		t.Errorf("events %q: only w may have started", got)
	}
	for _, r := range control.Failed(rs) {
		if r.Temporary() {
			t.Errorf("%s: a refusal for a cycle or a missing service is the service's failure, not a temporary one", r.Dir)
		}
	}
}

// Started alone (DoAll without WithNeeds, or svc -u), a service whose
// supervisor waits for what it needs fails in words that say so.
func TestStartHeldBack(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	db := controltest.Service(t, root, "db", map[string]string{"run": "exec sleep 1000"})
	os.WriteFile(filepath.Join(db, "down"), nil, 0o644)
	web := controltest.Service(t, root, "web", map[string]string{"run": "exec sleep 1000"})
	os.WriteFile(filepath.Join(web, "down"), nil, 0o644)
	needs(t, web, "db")
	controltest.Supervise(t, controltest.Ours(t), db)
	controltest.Supervise(t, controltest.Ours(t), web)
	r := do(t, web, control.Start, quick(time.Second))
	mustFail(t, r, "run did not start within 1 second: the supervisor is waiting for db (see svstat)", "brought it down again")
	if st := controltest.Status(t, db); st.Up() {
		t.Errorf("db started by a start of web alone: %+v", st)
	}
}

// TestWithNeedsFromInside: "svctl start ." and "svctl stop ." from inside a
// service directory follow its needs and its dependents, as its name does
// from the scan directory.
func TestWithNeedsFromInside(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"web", "db", "api"} {
		os.MkdirAll(filepath.Join(root, d), 0o755)
	}
	needs(t, filepath.Join(root, "web"), "db")
	needs(t, filepath.Join(root, "api"), "web")
	t.Chdir(filepath.Join(root, "web"))
	if got, want := control.WithNeeds([]string{"."}, control.Start), []string{".", filepath.Join("..", "db")}; !slices.Equal(got, want) {
		t.Errorf("start . = %q, want %q", got, want)
	}
	if got, want := control.WithNeeds([]string{"."}, control.Stop), []string{".", filepath.Join("..", "api")}; !slices.Equal(got, want) {
		t.Errorf("stop . = %q, want %q", got, want)
	}
}
