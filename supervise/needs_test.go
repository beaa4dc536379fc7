package supervise

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/taikit/taikit/internal/testref"
	"github.com/taikit/taikit/tai64n"
)

// scanService makes the service name in the scan directory scan, whose
// run is the given script, needing the services named in needs.
func scanService(t *testing.T, scan, name, run string, needs ...string) string {
	t.Helper()
	dir := filepath.Join(scan, name)
	if err := os.MkdirAll(filepath.Join(dir, NeedsDir), 0o755); err != nil {
		t.Fatal(err)
	}
	if len(needs) == 0 {
		os.Remove(filepath.Join(dir, NeedsDir))
	}
	for _, n := range needs {
		if err := os.WriteFile(filepath.Join(dir, NeedsDir, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	script(t, dir, "run", run)
	return dir
}

func extraOf(dir string) Extra { e, _ := ReadExtra(dir); return e }

// A service that needs another is not started until that one is up and its
// check has passed; svstat's words say who it waits for meanwhile.
func TestNeedsWaitsForReadiness(t *testing.T) {
	scan := t.TempDir()
	db := scanService(t, scan, "db", "echo db >> ../events; exec sleep 1000")
	script(t, db, "check", "test -e ../db-ready")
	web := scanService(t, scan, "web", "echo web >> ../events; exec sleep 1000", "db")
	os.WriteFile(filepath.Join(web, NeedsDir, ".gitkeep"), nil, 0o644)

	warnings := started(t, &Supervisor{Dir: web, Name: "web", ScanDir: scan})
	testref.WaitFor(t, "web to say it waits for db", func() bool { return extraOf(web).Waiting == "db" })
	if d := Describe(web, time.Now()); !strings.HasSuffix(d, ", normally up, want up, waiting for db") {
		t.Errorf("Describe while waiting: %q", d)
	}
	started(t, &Supervisor{Dir: db, Name: "db", ScanDir: scan})
	testref.WaitFor(t, "db up", func() bool { return status(t, db).Up() })
	if st := status(t, web); st.Up() {
		t.Fatalf("web started while db was up but not ready: %+v", st)
	}
	os.WriteFile(filepath.Join(scan, "db-ready"), nil, 0o644)
	events := func() string { b, _ := os.ReadFile(filepath.Join(scan, "events")); return string(b) }
	testref.WaitFor(t, "web's run to start", func() bool { return events() != "db\n" && status(t, web).Up() })
	if got := events(); got != "db\nweb\n" {
		t.Errorf("events %q, want db then web", got)
	}
	if e := extraOf(web); e.Waiting != "" || strings.Contains(string(e.Append(nil)), "waiting") {
		t.Errorf("web up, extra still says %+v", e)
	}
	if w := warnings.String(); w != "" {
		t.Errorf("warnings %q, want none: waiting for a service that exists is no mistake", w)
	}

	// db going down leaves web running (see supervise.8, "When a needed
	// service goes down"): its supervisor looks at db only to start run.
	// Once web's run exits, it is held back until db is ready again; svc
	// -d during that wait cancels it, and the service stays down once db
	// is ready again.
	webPID := status(t, web).PID
	control(t, db, "d")
	testref.WaitFor(t, "db down", func() bool { return !status(t, db).Up() })
	// A round trip through web's supervisor: it has seen db go down.
	control(t, web, "p")
	testref.WaitFor(t, "web paused", func() bool { return status(t, web).Paused })
	if st := status(t, web); !st.Up() || st.PID != webPID {
		t.Fatalf("web after db went down: %+v, want still up as pid %d", st, webPID)
	}
	control(t, web, "ck")
	testref.WaitFor(t, "web waiting again after its run was killed", func() bool { return extraOf(web).Waiting == "db" })
	control(t, web, "d")
	testref.WaitFor(t, "the wait cancelled", func() bool { e := extraOf(web); return e.Waiting == "" && status(t, web).Want == WantDown })
	control(t, db, "u")
	testref.WaitFor(t, "db's run to start again", func() bool { return events() != "db\nweb\n" })
	testref.WaitFor(t, "db ready again", func() bool { ok, _ := ServiceReady(db, time.Now()); return ok })
	if st := status(t, web); st.Up() || st.Want != WantDown || events() != "db\nweb\ndb\n" {
		t.Errorf("web %+v, events %q: web must stay down after svc -d", st, events())
	}
}

// Without a check, a needed service counts as ready once it has been up
// ReadyAfter.
func TestNeedsWithoutCheck(t *testing.T) {
	scan := t.TempDir()
	db := scanService(t, scan, "db", "exec sleep 1000")
	web := scanService(t, scan, "web", "exec sleep 1000", "db")
	started(t, &Supervisor{Dir: db, Name: "db", ScanDir: scan})
	started(t, &Supervisor{Dir: web, Name: "web", ScanDir: scan})
	testref.WaitFor(t, "web up", func() bool { return status(t, web).Up() })
	if gap := status(t, web).When.Time(tai64n.Daemontools).Sub(status(t, db).When.Time(tai64n.Daemontools)); gap < ReadyAfter {
		t.Errorf("web started %v after db, want at least %v", gap, ReadyAfter)
	}
}

func TestNeedsMissingAndCycle(t *testing.T) {
	scan := t.TempDir()
	a := scanService(t, scan, "a", "exec sleep 1000", "b")
	b := scanService(t, scan, "b", "exec sleep 1000", "c", "nosuch")
	c := scanService(t, scan, "c", "exec sleep 1000", "a")
	d := scanService(t, scan, "d", "exec sleep 1000", "a")
	var warn [4]*testref.Buffer
	for i, dir := range []string{a, b, c, d} {
		warn[i] = started(t, &Supervisor{Dir: dir, Name: filepath.Base(dir), ScanDir: scan})
	}
	testref.WaitFor(t, "the cycle reported by each of its services", func() bool {
		return extraOf(a).Cycle == "b" && extraOf(b).Cycle == "c" && extraOf(c).Cycle == "a" && extraOf(d).Waiting == "a"
	})
	if e := extraOf(b); e.Missing != "nosuch" {
		t.Errorf("b: %+v, want nosuch missing", e)
	}
	if got := Describe(b, time.Now()); !strings.HasSuffix(got, ", want up, waiting for nosuch (no such service), c (a cycle)") {
		t.Errorf("Describe(b) = %q", got)
	}
	if got := Describe(d, time.Now()); !strings.HasSuffix(got, ", want up, waiting for a") {
		t.Errorf("Describe(d) = %q", got)
	}
	wantA := "supervise: warning: a/needs: a cycle: a needs b, b needs c, c needs a; not starting run until it is broken (remove one of these needs entries)\n"
	// In the order of the names in needs/.
	wantB := "supervise: warning: b/needs: a cycle: b needs c, c needs a, a needs b; not starting run until it is broken (remove one of these needs entries)\n" +
		"supervise: warning: b/needs/nosuch: no service nosuch in " + scan + "; not starting run until there is one (or remove needs/nosuch)\n"
	// Said once, though supervise looks again every second.
	testref.WaitFor(t, "the warnings", func() bool { return warn[0].String() != "" && warn[1].String() != "" })
	if got := warn[0].String(); got != wantA {
		t.Errorf("a warned %q, want %q", got, wantA)
	}
	if got := warn[1].String(); got != wantB {
		t.Errorf("b warned %q, want %q", got, wantB)
	}
	if got := warn[3].String(); got != "" {
		t.Errorf("d, outside the cycle, warned %q", got)
	}

	// Breaking the cycle lets everything start, in order.
	os.Remove(filepath.Join(c, NeedsDir, "a"))
	os.Remove(filepath.Join(b, NeedsDir, "nosuch"))
	testref.WaitFor(t, "all four up", func() bool {
		for _, dir := range []string{a, b, c, d} {
			if !status(t, dir).Up() {
				return false
			}
		}
		return true
	})
	when := func(dir string) time.Time { return status(t, dir).When.Time(tai64n.Daemontools) }
	if !when(c).Before(when(b)) || !when(b).Before(when(a)) || !when(a).Before(when(d)) {
		t.Errorf("started c %v, b %v, a %v, d %v: want that order", when(c), when(b), when(a), when(d))
	}
	if got := warn[0].String(); got != wantA {
		t.Errorf("a warned again: %q", got)
	}
}

// A service that needs itself is a cycle of one.
func TestNeedsItself(t *testing.T) {
	scan := t.TempDir()
	a := scanService(t, scan, "a", "exec sleep 1000", "a")
	warn := started(t, &Supervisor{Dir: a, Name: "a", ScanDir: scan})
	testref.WaitFor(t, "the cycle", func() bool { return extraOf(a).Cycle == "a" })
	if want := "supervise: warning: a/needs: a cycle: a needs a; not starting run until it is broken (remove one of these needs entries)\n"; warn.String() != want {
		t.Errorf("warned %q, want %q", warn.String(), want)
	}
}

// Without needs/, supervise/extra has none of the new lines; with a
// needs/ that is not a directory, run is held back with a warning.
func TestNeedsNotADirectory(t *testing.T) {
	scan := t.TempDir()
	a := scanService(t, scan, "a", "exec sleep 1000")
	os.WriteFile(filepath.Join(a, NeedsDir), []byte("db\n"), 0o644)
	warn := started(t, &Supervisor{Dir: a, Name: "a", ScanDir: scan})
	testref.WaitFor(t, "the refusal", func() bool { return extraOf(a).Missing == "needs" })
	if want := "supervise: warning: unable to read a/needs: not a directory; not starting run until it can be read\n"; warn.String() != want {
		t.Errorf("warned %q, want %q", warn.String(), want)
	}
	os.Remove(filepath.Join(a, NeedsDir))
	testref.WaitFor(t, "a up once needs is gone", func() bool { return status(t, a).Up() })
	if b, _ := os.ReadFile(ExtraPath(a)); strings.Contains(string(b), "waiting") || strings.Contains(string(b), "missing") {
		t.Errorf("extra %q", b)
	}
}

func TestWaitList(t *testing.T) {
	if got := waitList([]string{"db", "a\nb"}); got != "db/a?b" {
		t.Errorf("waitList = %q", got)
	}
	long := make([]string, 20)
	for i := range long {
		long[i] = strings.Repeat("x", 100)
	}
	got := waitList(long)
	if !strings.HasSuffix(got, "/...") || len(got) > maxWaitList+10 {
		t.Errorf("waitList of 20 long names: %d bytes ending %q", len(got), got[len(got)-10:])
	}
	e := Extra{Waiting: got, Missing: got, Cycle: got}
	if n := len(e.Append(nil)); n > MaxExtraSize {
		t.Errorf("extra with three full lists is %d bytes, above MaxExtraSize", n)
	}
}

// Two needs leading back through a shared service are both a cycle; a
// cycle that does not pass through the service is no way back for it.
func TestNeedsCycleShared(t *testing.T) {
	scan := t.TempDir()
	a := scanService(t, scan, "a", "exec sleep 1000", "b", "c")
	scanService(t, scan, "b", "exec sleep 1000", "d")
	scanService(t, scan, "c", "exec sleep 1000", "d")
	scanService(t, scan, "d", "exec sleep 1000", "e", "a")
	scanService(t, scan, "e", "exec sleep 1000", "f")
	scanService(t, scan, "f", "exec sleep 1000", "e")
	s := &Supervisor{Dir: a, Name: "a"}
	got := s.cycles(scan, []string{"b", "c"})
	want := map[string]string{"b": "a needs b, b needs d, d needs a", "c": "a needs c, c needs d, d needs a"}
	if len(got) != 2 || got["b"] != want["b"] || got["c"] != want["c"] {
		t.Errorf("cycles = %q, want %q", got, want)
	}
	g := &Supervisor{Dir: filepath.Join(scan, "e"), Name: "e"}
	if got := g.cycles(scan, []string{"f"}); got["f"] != "e needs f, f needs e" {
		t.Errorf("cycles of e = %q", got)
	}
	// d needs e and e needs f needs e: a cycle, but not through a.
	os.Remove(filepath.Join(scan, "d", NeedsDir, "a"))
	if got := s.cycles(scan, []string{"b", "c"}); len(got) != 0 {
		t.Errorf("cycles without d → a: %q, want none", got)
	}

	// A walk cut short by a service already on its path has not shown
	// that there is no way back: p needs q and r; the walk from q meets
	// r, which needs q, before it finds q → s → p; the walk from r must
	// still find its way back.
	p := scanService(t, scan, "p", "exec sleep 1000", "q", "r")
	scanService(t, scan, "q", "exec sleep 1000", "r", "s")
	scanService(t, scan, "r", "exec sleep 1000", "q")
	scanService(t, scan, "s", "exec sleep 1000", "p")
	got = (&Supervisor{Dir: p, Name: "p"}).cycles(scan, []string{"q", "r"})
	if got["q"] != "p needs q, q needs s, s needs p" || got["r"] != "p needs r, r needs q, q needs s, s needs p" {
		t.Errorf("cycles of p = %q", got)
	}
}
