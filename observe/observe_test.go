package observe

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/taikit/taikit/supervise"
	"github.com/taikit/taikit/tai64n"
)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// fakeService makes a service directory whose supervise/ok has a reader,
// as if a supervisor ran, with the status record st.
func fakeService(t *testing.T, dir string, st supervise.Status) {
	t.Helper()
	must(t, os.MkdirAll(filepath.Join(dir, "supervise"), 0o700))
	must(t, syscall.Mkfifo(supervise.OKPath(dir), 0o600))
	fd, err := syscall.Open(supervise.OKPath(dir), syscall.O_RDONLY|syscall.O_NONBLOCK, 0)
	must(t, err)
	t.Cleanup(func() { syscall.Close(fd) })
	must(t, os.WriteFile(supervise.StatusPath(dir), st.Append(nil), 0o644))
}

// TestErrorsAsSvstat: where svstat reports a failure, a Service says the
// same words, and nothing more is claimed.
func TestErrorsAsSvstat(t *testing.T) {
	root := t.TempDir()
	when := tai64n.FromTime(time.Now().Add(-time.Minute), tai64n.Daemontools)
	short := filepath.Join(root, "short")
	fakeService(t, short, supervise.Status{When: when, Want: 'u'})
	must(t, os.WriteFile(supervise.StatusPath(short), []byte("0123"), 0o644))
	fifo := filepath.Join(root, "fifo")
	fakeService(t, fifo, supervise.Status{When: when, Want: 'u'})
	must(t, os.Remove(supervise.StatusPath(fifo)))
	must(t, syscall.Mkfifo(supervise.StatusPath(fifo), 0o600))
	missing := filepath.Join(root, "missing")
	fakeService(t, missing, supervise.Status{})
	must(t, os.Remove(supervise.StatusPath(missing)))
	notRunning := filepath.Join(root, "notrunning")
	must(t, os.MkdirAll(filepath.Join(notRunning, "supervise"), 0o700))
	must(t, syscall.Mkfifo(supervise.OKPath(notRunning), 0o600))
	file := filepath.Join(root, "file")
	must(t, os.WriteFile(file, nil, 0o644))
	for _, dir := range []string{short, fifo, missing, notRunning, file, filepath.Join(root, "nodir")} {
		s := ReadService(dir, filepath.Base(dir))
		if want := supervise.Describe(dir, time.Now()); s.Error != want || s.Text(time.Now()) != want {
			t.Errorf("%s: error %q, text %q, svstat says %q", dir, s.Error, s.Text(time.Now()), want)
		}
		if s.Up || s.Extra || s.Want != "" {
			t.Errorf("%s: %+v claims a state", dir, s)
		}
	}
}

// TestStaleAndNewerExtra: an extra file of another state is ignored, and
// lines this version does not know (a newer supervisor's) are skipped.
func TestStaleAndNewerExtra(t *testing.T) {
	root := t.TempDir()
	when := tai64n.FromTime(time.Now().Add(-time.Minute), tai64n.Daemontools)
	st := supervise.Status{When: when, PID: 42, Want: 'u'}
	stale := filepath.Join(root, "stale")
	fakeService(t, stale, st)
	must(t, os.WriteFile(supervise.ExtraPath(stale), supervise.Extra{Restarts: 5}.Append(nil), 0o644))
	if s := ReadService(stale, "stale"); s.Extra || s.Restarts != 0 || !s.Up || s.PID != 42 {
		t.Errorf("stale extra used: %+v", s)
	}
	newer := filepath.Join(root, "newer")
	fakeService(t, newer, st)
	ex := supervise.Extra{Status: when, Restarts: 2, Readiness: supervise.Checking, Exited: true, ExitCode: -1, Signal: 9}.Append(nil)
	ex = append(ex, "waiting db\nsomething-else 1 2 3\n"...)
	must(t, os.WriteFile(supervise.ExtraPath(newer), ex, 0o644))
	s := ReadService(newer, "newer")
	if !s.Extra || s.Restarts != 2 || s.Readiness != "checking" || s.LastExit == nil || s.LastExit.Signal != 9 {
		t.Errorf("newer extra: %+v", s)
	}
	if ready, ok := s.Ready(); ready || !ok {
		t.Errorf("checking: Ready() = %v, %v", ready, ok)
	}
	// Text words the same read as svstat words the files.
	now := time.Now()
	for _, dir := range []string{stale, newer} {
		s := ReadService(dir, filepath.Base(dir))
		if got, want := s.Text(now), supervise.Describe(dir, now); got != want || want == "" {
			t.Errorf("%s: Text %q, svstat says %q", dir, got, want)
		}
	}
}

// TestHeldByNeeds: what holds run back under a needs/ directory is in the
// Service and its JSON, and absent from both otherwise.
func TestHeldByNeeds(t *testing.T) {
	root := t.TempDir()
	when := tai64n.FromTime(time.Now().Add(-time.Minute), tai64n.Daemontools)
	st := supervise.Status{When: when, Want: 'u'}
	held := filepath.Join(root, "held")
	fakeService(t, held, st)
	must(t, os.WriteFile(supervise.ExtraPath(held), supervise.Extra{Status: when, Waiting: "db/cache", Missing: "queue", Cycle: "web"}.Append(nil), 0o644))
	s := ReadService(held, "held")
	if !slices.Equal(s.Waiting, []string{"db", "cache"}) || !slices.Equal(s.Missing, []string{"queue"}) || !slices.Equal(s.Cycle, []string{"web"}) {
		t.Errorf("held: waiting %q, missing %q, cycle %q", s.Waiting, s.Missing, s.Cycle)
	}
	j, err := json.Marshal(s)
	must(t, err)
	if !bytes.Contains(j, []byte(`"waiting":["db","cache"],"missing":["queue"],"cycle":["web"]`)) {
		t.Errorf("JSON %s", j)
	}
	free := filepath.Join(root, "free")
	fakeService(t, free, st)
	must(t, os.WriteFile(supervise.ExtraPath(free), supervise.Extra{Status: when}.Append(nil), 0o644))
	s = ReadService(free, "free")
	j, err = json.Marshal(s)
	must(t, err)
	if s.Waiting != nil || s.Missing != nil || s.Cycle != nil || bytes.Contains(j, []byte("waiting")) {
		t.Errorf("not held: %s", j)
	}
}

// TestList: services as svscan sees them, names under the scan directory,
// log directories found in log services and named on their own, a name
// in two scan directories reported once.
func TestList(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	for _, d := range []string{"a/x/log/main", "a/x/log/errors", "a/y", "a/.z", "b/y", "b/w/log"} {
		root := a
		if d[0] == 'b' {
			root = b
		}
		must(t, os.MkdirAll(filepath.Join(root, d[2:]), 0o755))
	}
	must(t, os.WriteFile(filepath.Join(a, "file"), nil, 0o644))
	tree := &Tree{ScanDirs: []string{a, b}, LogNames: []string{"main", "errors"}, LogDirs: []string{filepath.Join(a, "x/log/main"), "/var/log/other/"}}
	services, logdirs, errs := tree.List()
	var names, logs []string
	for _, s := range services {
		names = append(names, s.Name)
	}
	for _, l := range logdirs {
		logs = append(logs, l.Name+"@"+l.Service)
	}
	if got, want := names, []string{"x", "x/log", "y", "w", "w/log"}; !equal(got, want) {
		t.Errorf("services %q, want %q", got, want)
	}
	if got, want := logs, []string{"x/log/main@x/log", "x/log/errors@x/log", "/var/log/other@"}; !equal(got, want) {
		t.Errorf("log directories %q, want %q", got, want)
	}
	if len(errs) != 1 {
		t.Errorf("errors %q, want one for y", errs)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestLogDirLinks: a link in a log directory is never read or counted,
// whatever it points to.
func TestLogDirLinks(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(t.TempDir(), "secret")
	must(t, os.WriteFile(secret, []byte("@4000000065f1a2b3001e8480 secret\n"), 0o600))
	must(t, os.Symlink(secret, filepath.Join(dir, "current")))
	must(t, os.Symlink(secret, filepath.Join(dir, "@4000000065f1a2b3001e8480.s")))
	d := readLogDir(dir, &oldestCache{})
	if d.Bytes != 0 || d.Archives != 0 || !d.Oldest.IsZero() || !d.LastWrite.IsZero() {
		t.Errorf("links read: %+v", d)
	}
}
