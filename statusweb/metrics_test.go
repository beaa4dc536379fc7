package statusweb_test

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/taikit/taikit/internal/testref"
	"github.com/taikit/taikit/observe"
	"github.com/taikit/taikit/statusweb"
	"github.com/taikit/taikit/supervise"
	"github.com/taikit/taikit/supervise/control/controltest"
)

const promtool = "/usr/bin/promtool"

// TestMetrics reads a tree of services under taikit's and daemontools'
// supervise and checks every metric's value, and that promtool finds
// nothing wrong with the exposition.
func TestMetrics(t *testing.T) {
	testref.Need(t, promtool)
	f := newFixture(t)
	var out bytes.Buffer
	tree := f.tree()
	// A reader of web/log/main that has read nothing yet.
	tree.Cursors = map[string]string{"web/log/main": filepath.Join(t.TempDir(), "cursor")}
	problems, err := statusweb.WriteMetrics(&out, tree)
	must(t, err)
	if len(problems) > 0 {
		t.Errorf("problems %q", problems)
	}
	t.Logf("%s", out.String())
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(out.Bytes())
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, msg)
	}
	// Every metric collected is one the Collector describes, with the
	// labels it says.
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(&statusweb.Collector{Tree: f.tree()})
	if _, err := reg.Gather(); err != nil {
		t.Errorf("pedantic registry: %v", err)
	}
	got := samples(t, out.String())
	want := map[string]float64{
		`taikit_supervise_running{service="web"}`:                                             1,
		`taikit_service_up{service="web"}`:                                                    1,
		`taikit_service_ready{service="web"}`:                                                 1,
		`taikit_service_want_up{service="web"}`:                                               1,
		`taikit_service_normally_up{service="web"}`:                                           1,
		`taikit_service_paused{service="web"}`:                                                0,
		`taikit_service_restarts_total{service="web"}`:                                        0,
		`taikit_service_ready{service="web/log"}`:                                             1, // no check script: up is ready
		`taikit_service_up{service="batch"}`:                                                  0,
		`taikit_service_normally_up{service="batch"}`:                                         0,
		`taikit_service_want_up{service="batch"}`:                                             0,
		`taikit_service_last_exit_code{service="batch"}`:                                      3,
		`taikit_service_last_exit_signal{service="batch"}`:                                    0,
		`taikit_service_up{service="old"}`:                                                    1,
		`taikit_supervise_running{service="old"}`:                                             1,
		`taikit_supervise_running{service="idle"}`:                                            0,
		`taikit_service_normally_up{service="idle"}`:                                          1,
		`taikit_logdir_archives{logdir="web/log/main",service="web/log"}`:                     1,
		`taikit_logdir_oldest_timestamp_seconds{logdir="web/log/main",service="web/log"}`:     float64(f.archiveOldest.Unix()),
		`taikit_logdir_last_write_timestamp_seconds{logdir="web/log/main",service="web/log"}`: float64(f.currentWritten.Unix()),
		`taikit_svstatd_errors`:                                                               0,
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
		}
	}
	// What is not known is not reported: readiness, restarts and exits
	// under daemontools' supervise; a state without a supervisor.
	for _, k := range []string{`taikit_service_ready{service="old"}`, `taikit_service_restarts_total{service="old"}`,
		`taikit_service_last_exit_code{service="old"}`, `taikit_service_up{service="idle"}`,
		`taikit_service_last_exit_code{service="web"}`} {
		if _, ok := got[k]; ok {
			t.Errorf("%s reported", k)
		}
	}
	for k := range got {
		if strings.Contains(k, "hidden") {
			t.Errorf("%s: a directory whose name begins with a dot is not a service", k)
		}
	}
	if lag := got[`taikit_logdir_cursor_lag_seconds{logdir="web/log/main",service="web/log"}`]; lag < float64(time.Now().Unix()-f.archiveOldest.Unix()-60) {
		t.Errorf("taikit_logdir_cursor_lag_seconds = %v, want the age of the oldest line", lag)
	}
	if b := got[`taikit_logdir_bytes{logdir="web/log/main",service="web/log"}`]; b != float64(3*(25+2)+3+3+5) {
		t.Errorf("taikit_logdir_bytes = %v", b)
	}
}

// TestHeldMetric: a service our supervise holds back (its needs/ names a
// service that does not exist) is taikit_service_held 1, and the one it
// would wait for 0; the JSON says what holds it.
func TestHeldMetric(t *testing.T) {
	testref.Need(t, controltest.Daemontools)
	ours := controltest.Ours(t)
	scan := filepath.Join(t.TempDir(), "service")
	t.Cleanup(func() { testref.KillUnder(scan) })
	app := controltest.Service(t, scan, "app", map[string]string{"run": "exec sleep 1000"})
	must(t, os.Mkdir(filepath.Join(app, "needs"), 0o755))
	must(t, os.WriteFile(filepath.Join(app, "needs", "queue"), nil, 0o644))
	db := controltest.Service(t, scan, "db", map[string]string{"run": "exec sleep 1000"})
	controltest.Supervise(t, ours, app)
	controltest.Supervise(t, ours, db)
	waitExtra(t, app, "held for the missing queue", func(st supervise.Status, ex supervise.Extra) bool { return ex.Missing == "queue" })
	waitExtra(t, db, "up", func(st supervise.Status, ex supervise.Extra) bool { return st.Up() })
	var out bytes.Buffer
	_, err := statusweb.WriteMetrics(&out, &observe.Tree{ScanDirs: []string{scan}})
	must(t, err)
	got := samples(t, out.String())
	if got[`taikit_service_held{service="app"}`] != 1 || got[`taikit_service_up{service="app"}`] != 0 {
		t.Errorf("app: held %v, up %v", got[`taikit_service_held{service="app"}`], got[`taikit_service_up{service="app"}`])
	}
	if v, ok := got[`taikit_service_held{service="db"}`]; !ok || v != 0 {
		t.Errorf("db: held %v (present %v)", v, ok)
	}
	s := observe.ReadService(app, "app")
	if !slices.Equal(s.Missing, []string{"queue"}) {
		t.Errorf("app: missing %q", s.Missing)
	}
}

// TestOpenMetrics: a scraper that asks for OpenMetrics gets it.
func TestOpenMetrics(t *testing.T) {
	f := newFixture(t)
	url := serve(t, &statusweb.Server{Tree: f.tree()})
	req, _ := http.NewRequest("GET", url+"/metrics", nil)
	req.Header.Set("Accept", "application/openmetrics-text;version=1.0.0")
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/openmetrics-text") {
		t.Errorf("Content-Type %q", ct)
	}
	if !bytes.HasSuffix(body, []byte("# EOF\n")) || !bytes.Contains(body, []byte(`taikit_service_restarts_total{service="web"} 0`)) {
		t.Errorf("not OpenMetrics:\n%s", body)
	}
}
