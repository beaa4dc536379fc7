package statusweb_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/taikit/taikit/internal/testref"
	"github.com/taikit/taikit/observe"
	"github.com/taikit/taikit/statusweb"
	"github.com/taikit/taikit/supervise"
	"github.com/taikit/taikit/supervise/control/controltest"
)

const prometheusBin = "/usr/bin/prometheus"

// freePort returns a loopback address nobody listens on, for a server
// that cannot be handed a listener.
func freePort(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// startPrometheus runs a Prometheus server scraping target every second,
// until the test ends, and returns its base URL once it is ready.
func startPrometheus(t *testing.T, target string) string {
	t.Helper()
	testref.Need(t, prometheusBin)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	must(t, os.WriteFile(cfg, []byte(fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: svstatd
    static_configs:
      - targets: [%q]
`, target)), 0o644))
	addr := freePort(t)
	cmd := exec.Command(prometheusBin, "--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=warn")
	out := &testref.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	must(t, cmd.Start())
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		testref.Receive(t, "prometheus to exit", done)
		if t.Failed() {
			t.Logf("prometheus said:\n%s", out)
		}
	})
	base := "http://" + addr
	testref.WaitFor(t, "prometheus to be ready", func() bool {
		select {
		case <-done:
			t.Fatalf("prometheus exited:\n%s", out)
		default:
		}
		resp, err := http.Get(base + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return base
}

// query returns the value of the instant vector query's single sample as
// Prometheus' API gives it, or "" if it has none.
func query(t *testing.T, base, q string) string {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/query?query=" + url.QueryEscape(q))
	must(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var r struct {
		Status string
		Data   struct {
			Result []struct {
				Value [2]any
			}
		}
	}
	if err := json.Unmarshal(body, &r); err != nil || r.Status != "success" {
		t.Fatalf("query %s: %v: %s", q, err, body)
	}
	if len(r.Data.Result) != 1 {
		return ""
	}
	s, _ := r.Data.Result[0].Value[1].(string)
	return s
}

// TestPrometheusScrapesRestarts: a real Prometheus scrapes svstatd, and
// after run was killed three times its API says 3 restarts.
func TestPrometheusScrapesRestarts(t *testing.T) {
	testref.Need(t, prometheusBin)
	scan := filepath.Join(t.TempDir(), "service")
	t.Cleanup(func() { testref.KillUnder(scan) })
	dir := controltest.Service(t, scan, "crash", map[string]string{"run": "exec sleep 1000"})
	controltest.Supervise(t, controltest.Ours(t), dir)
	url := serve(t, &statusweb.Server{Tree: &observe.Tree{ScanDirs: []string{scan}}})
	prom := startPrometheus(t, strings.TrimPrefix(url, "http://"))

	const q = `taikit_service_restarts_total{job="svstatd",service="crash"}`
	testref.WaitFor(t, "the first scrape", func() bool { return query(t, prom, q) == "0" })
	for i := 1; i <= 3; i++ {
		st := controltest.Status(t, dir)
		if !st.Up() {
			i--
			testref.WaitFor(t, "run up", func() bool { return controltest.Status(t, dir).Up() })
			continue
		}
		must(t, syscall.Kill(st.PID, syscall.SIGKILL))
		waitExtra(t, dir, fmt.Sprintf("restart %d", i), func(s supervise.Status, ex supervise.Extra) bool {
			return ex.Restarts == i && s.Up() && s.PID != st.PID
		})
	}
	testref.WaitFor(t, q+" = 3", func() bool { return query(t, prom, q) == "3" })
	if got := query(t, prom, `taikit_service_last_exit_signal{service="crash"}`); got != "" && got != "9" {
		t.Errorf("last exit signal %s, want 9", got)
	}
	if got := query(t, prom, `up{job="svstatd"}`); got != "1" {
		t.Errorf("up = %q", got)
	}
}
