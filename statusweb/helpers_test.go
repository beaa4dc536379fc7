package statusweb_test

import (
	"bufio"
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/taikit/taikit/internal/testref"
	"github.com/taikit/taikit/observe"
	"github.com/taikit/taikit/statusweb"
	"github.com/taikit/taikit/supervise"
	"github.com/taikit/taikit/supervise/control/controltest"
	"github.com/taikit/taikit/tai64n"
)

func TestMain(m *testing.M) { testref.Main(m) }

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// waitExtra waits until the service in dir has a supervise/extra that
// goes with its status record and satisfies cond.
func waitExtra(t testing.TB, dir, what string, cond func(supervise.Status, supervise.Extra) bool) {
	t.Helper()
	testref.WaitFor(t, dir+": "+what, func() bool {
		st, err := supervise.ReadStatus(dir)
		if err != nil {
			return false
		}
		ex, err := supervise.ReadExtra(dir)
		return err == nil && ex.Matches(st) && cond(st, ex)
	})
}

// stamped returns lines as multilog's t writes them, stamped from when
// on, one second apart.
func stamped(when time.Time, lines ...string) string {
	var b strings.Builder
	for i, l := range lines {
		b.Write(tai64n.FromTime(when.Add(time.Duration(i)*time.Second), tai64n.Daemontools).Append(nil))
		b.WriteString(" " + l + "\n")
	}
	return b.String()
}

// fixture is a scan directory with services in every state svstatd
// reports, each under a real supervisor:
//
//	web       taikit's supervise, up and ready (a check script)
//	web/log   taikit's supervise, up, no check; log/main has an archive and current
//	batch     taikit's supervise, normally down, run once: exited 3
//	old       daemontools' supervise, up (no supervise/extra)
//	idle      no supervisor
type fixture struct {
	scan           string
	archiveOldest  time.Time
	currentWritten time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	testref.Need(t, controltest.Daemontools)
	ours := controltest.Ours(t)
	f := &fixture{scan: filepath.Join(t.TempDir(), "service")}
	t.Cleanup(func() { testref.KillUnder(f.scan) })
	web := controltest.Service(t, f.scan, "web", map[string]string{"run": "exec sleep 1000", "check": "exit 0"})
	weblog := controltest.Service(t, f.scan, "web/log", map[string]string{"run": "exec sleep 1000"})
	main := filepath.Join(weblog, "main")
	must(t, os.Mkdir(main, 0o755))
	f.archiveOldest = time.Unix(1700000000, 0)
	archive := tai64n.FromTime(f.archiveOldest.Add(time.Hour), tai64n.Daemontools).String() + ".s"
	must(t, os.WriteFile(filepath.Join(main, archive), []byte(stamped(f.archiveOldest, "one", "two")), 0o644))
	must(t, os.WriteFile(filepath.Join(main, "current"), []byte(stamped(f.archiveOldest.Add(2*time.Hour), "three")), 0o644))
	f.currentWritten = time.Unix(1700010000, 0)
	must(t, os.Chtimes(filepath.Join(main, "current"), f.currentWritten, f.currentWritten))
	must(t, os.WriteFile(filepath.Join(main, "lock"), nil, 0o644)) // not a log file: not counted
	batch := controltest.Service(t, f.scan, "batch", map[string]string{"run": "exit 3"})
	must(t, os.WriteFile(filepath.Join(batch, "down"), nil, 0o644))
	old := controltest.Service(t, f.scan, "old", map[string]string{"run": "exec sleep 1000"})
	controltest.Service(t, f.scan, "idle", map[string]string{"run": "exec sleep 1000"})
	must(t, os.Mkdir(filepath.Join(f.scan, ".hidden"), 0o755))

	controltest.Supervise(t, ours, web)
	controltest.Supervise(t, ours, weblog)
	controltest.Supervise(t, ours, batch)
	controltest.Supervise(t, controltest.Daemontools, old)
	must(t, supervise.Control(batch, "o"))
	waitExtra(t, web, "up and ready", func(st supervise.Status, ex supervise.Extra) bool {
		return st.Up() && ex.Readiness == supervise.Ready
	})
	waitExtra(t, weblog, "up", func(st supervise.Status, ex supervise.Extra) bool { return st.Up() })
	waitExtra(t, batch, "exited 3", func(st supervise.Status, ex supervise.Extra) bool {
		return !st.Up() && ex.Exited && ex.ExitCode == 3
	})
	testref.WaitFor(t, "old up", func() bool { return controltest.Status(t, old).Up() })
	return f
}

func (f *fixture) tree() *observe.Tree { return &observe.Tree{ScanDirs: []string{f.scan}} }

// samples parses the Prometheus text format into "name{labels}" → value.
func samples(t testing.TB, text string) map[string]float64 {
	t.Helper()
	m := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		m[line[:i]] = v
	}
	return m
}

// serve runs srv on a free loopback port until the test ends and returns
// its base URL.
func serve(t testing.TB, srv *statusweb.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := testref.Receive(t, "the server to stop", done); err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}
