package statusweb_test

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/taikit/taikit/internal/testref"
	"github.com/taikit/taikit/observe"
	"github.com/taikit/taikit/statusweb"
	"github.com/taikit/taikit/supervise"
	"github.com/taikit/taikit/tai64n"
)

// bigTree makes a scan directory of n services as taikit's supervise
// leaves them (status, extra with restarts and a last exit), each with a
// log service whose log/main holds three archives and current: 2n services
// and n log directories.
func bigTree(b *testing.B, n int) string {
	b.Helper()
	scan := b.TempDir()
	when := tai64n.FromTime(time.Now().Add(-time.Hour), tai64n.Daemontools)
	lines := stamped(time.Now().Add(-2*time.Hour), strings.Repeat("x", 80), strings.Repeat("y", 80))
	for i := range n {
		name := fmt.Sprintf("svc%04d", i)
		st := supervise.Status{When: when, PID: 1000 + i, Want: 'u'}
		dir := fakeService(b, scan, name, st)
		must(b, os.WriteFile(supervise.ExtraPath(dir), supervise.Extra{Status: when, Restarts: i % 7, Readiness: supervise.Ready, ReadyWhen: when,
			Exited: true, ExitCode: 1}.Append(nil), 0o644))
		logDir := fakeService(b, dir, "log", st)
		main := filepath.Join(logDir, "main")
		must(b, os.Mkdir(main, 0o755))
		for a := range 3 {
			arch := tai64n.FromTime(time.Now().Add(time.Duration(a-3)*time.Hour), tai64n.Daemontools).String() + ".s"
			must(b, os.WriteFile(filepath.Join(main, arch), []byte(lines), 0o644))
		}
		must(b, os.WriteFile(filepath.Join(main, "current"), []byte(lines), 0o644))
	}
	return scan
}

// BenchmarkCollect: reading 1,000 services, 1,000 loggers and 1,000 log
// directories and writing their metrics, in-process.
func BenchmarkCollect(b *testing.B) {
	tree := &observe.Tree{ScanDirs: []string{bigTree(b, 1000)}}
	statusweb.WriteMetrics(io.Discard, tree) // the oldest stamps cached, as after a first scrape
	b.ResetTimer()
	for b.Loop() {
		if _, err := statusweb.WriteMetrics(io.Discard, tree); err != nil {
			b.Fatal(err)
		}
	}
}

// startSvstatd runs the svstatd command on scan and returns its base URL
// and pid.
func startSvstatd(b *testing.B, scan string) (string, int) {
	bin := b.TempDir()
	must(b, testref.BuildCommands(bin, "svstatd"))
	addr := freePort(b)
	cmd := exec.Command(filepath.Join(bin, "svstatd"), "-l", addr, scan)
	cmd.Stderr = os.Stderr
	must(b, cmd.Start())
	b.Cleanup(func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() })
	url := "http://" + addr
	testref.WaitFor(b, "svstatd to listen", func() bool {
		resp, err := http.Get(url + "/api/v1/services/svc0000")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return true
	})
	return url, cmd.Process.Pid
}

// procStatus returns a field of /proc/pid/status in KiB.
func procStatus(pid int, field string) float64 {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return n
		}
	}
	return 0
}

// cpuTime returns the CPU time the process has used.
func cpuTime(pid int) time.Duration {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.ParseInt(fields[11], 10, 64)
	st, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ
}

// BenchmarkScrape: GET /metrics of the svstatd command over 1,000
// services with their loggers and log directories, as Prometheus scrapes
// it: latency percentiles, and svstatd's memory after the scrapes.
func BenchmarkScrape(b *testing.B) {
	scan := bigTree(b, 1000)
	url, pid := startSvstatd(b, scan)
	var lat []time.Duration
	b.ResetTimer()
	for b.Loop() {
		begin := time.Now()
		resp, err := http.Get(url + "/metrics")
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		lat = append(lat, time.Since(begin))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(procStatus(pid, "VmRSS")/1024, "rss-MiB")
	b.ReportMetric(procStatus(pid, "VmHWM")/1024, "peak-rss-MiB")
}

// BenchmarkIdlePage: the CPU svstatd uses over 10 seconds with the page's
// two streams open (the services' events, a log's tail) and nothing
// changing: what an open page costs.
func BenchmarkIdlePage(b *testing.B) {
	scan := bigTree(b, 1000)
	url, pid := startSvstatd(b, scan)
	for b.Loop() {
		var bodies []io.Closer
		for _, p := range []string{"/api/v1/events", "/api/v1/logs/svc0001/log/main"} {
			resp, err := http.Get(url + p)
			if err != nil {
				b.Fatal(err)
			}
			br := bufio.NewReader(resp.Body)
			for { // the first event: the stream is set up
				line, err := br.ReadString('\n')
				if err != nil {
					b.Fatal(err)
				}
				if strings.HasPrefix(line, "data: ") {
					break
				}
			}
			bodies = append(bodies, resp.Body)
		}
		before := cpuTime(pid)
		time.Sleep(10 * time.Second) // the measurement: what passing time costs
		b.ReportMetric(float64((cpuTime(pid) - before).Milliseconds()), "cpu-ms/10s")
		b.ReportMetric(procStatus(pid, "VmRSS")/1024, "rss-MiB")
		for _, c := range bodies {
			c.Close()
		}
	}
}
