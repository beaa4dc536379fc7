package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/taikit/taikit/internal/testref"
	"github.com/taikit/taikit/supervise"
	"github.com/taikit/taikit/tai64n"
)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// fakeService makes root/name with a status record and a reader on
// supervise/ok, as if a supervisor ran.
func fakeService(t *testing.T, root, name string, st supervise.Status) string {
	t.Helper()
	dir := filepath.Join(root, name)
	must(t, os.MkdirAll(filepath.Join(dir, "supervise"), 0o700))
	must(t, syscall.Mkfifo(supervise.OKPath(dir), 0o600))
	fd, err := syscall.Open(supervise.OKPath(dir), syscall.O_RDONLY|syscall.O_NONBLOCK, 0)
	must(t, err)
	t.Cleanup(func() { syscall.Close(fd) })
	must(t, os.WriteFile(supervise.StatusPath(dir), st.Append(nil), 0o644))
	return dir
}

func runCmd(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut, nil)
	return code, out.String(), errOut.String()
}

// TestOnce: --once prints metrics promtool accepts, for the textfile
// collector, and exits 0.
func TestOnce(t *testing.T) {
	testref.Need(t, "/usr/bin/promtool")
	scan := t.TempDir()
	when := tai64n.FromTime(time.Now().Add(-time.Minute), tai64n.Daemontools)
	fakeService(t, scan, "qmail", supervise.Status{When: when, PID: 4242, Want: 'u'})
	dir := fakeService(t, scan, "qmail/log", supervise.Status{When: when, Want: 'd'})
	must(t, os.Mkdir(filepath.Join(dir, "main"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "main", "current"), []byte("hello\n"), 0o644))
	code, out, errOut := runCmd("--once", scan)
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	for _, want := range []string{`taikit_service_up{service="qmail"} 1`, `taikit_service_up{service="qmail/log"} 0`,
		`taikit_service_want_up{service="qmail/log"} 0`, `taikit_logdir_bytes{logdir="qmail/log/main",service="qmail/log"} 6`} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("no %s in\n%s", want, out)
		}
	}
	if strings.Contains(out, "go_goroutines") || strings.Contains(out, "process_") {
		t.Errorf("--once prints svstatd's own runtime, meaningless in a textfile:\n%s", out)
	}
	cmd := exec.Command("/usr/bin/promtool", "check", "metrics")
	cmd.Stdin = strings.NewReader(out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, msg)
	}
}

// TestOnceUnreadable: a scan directory that cannot be read is named, and
// the exit is 111 so that a textfile is not replaced by a worse one.
func TestOnceUnreadable(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope")
	code, out, errOut := runCmd("--once", missing)
	if code != 111 || errOut != "svstatd: warning: unable to read scan directory "+missing+": file does not exist\n" {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	if !strings.Contains(out, "taikit_svstatd_errors 1\n") {
		t.Errorf("output:\n%s", out)
	}
}

func TestUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		text string
	}{
		{nil, 100, "svstatd: fatal: no scan directory: name one, for instance /service\nsvstatd: usage: "},
		{[]string{"--max-streams", "0", "/service"}, 100, "svstatd: fatal: --max-streams 0: want a number from 1 to 100000\n"},
		{[]string{"-x", "/service"}, 100, "svstatd: fatal: unknown option -x\n"},
		{[]string{"-h"}, 0, ""},
	} {
		code, out, errOut := runCmd(c.args...)
		if code != c.code || !strings.HasPrefix(errOut, c.text) {
			t.Errorf("%q: exit %d, stderr %q; want %d, %q", c.args, code, errOut, c.code, c.text)
		}
		if c.code == 0 && !strings.Contains(out, "--listen addr") {
			t.Errorf("-h: %q", out)
		}
	}
}

// TestServe: svstatd listens where -l says, serves /metrics, and exits 0
// when told to stop (SIGTERM, SIGINT: its context).
func TestServe(t *testing.T) {
	scan := t.TempDir()
	fakeService(t, scan, "web", supervise.Status{When: tai64n.FromTime(time.Now(), tai64n.Daemontools), PID: 7, Want: 'u'})
	ctx, cancel := context.WithCancel(context.Background())
	addrs := make(chan net.Addr, 1)
	done := make(chan int, 1)
	var errOut testref.Buffer
	go func() {
		done <- run(ctx, []string{"-l", "127.0.0.1:0", scan}, io.Discard, &errOut, func(a net.Addr) { addrs <- a })
	}()
	addr := testref.Receive(t, "svstatd to listen", addrs)
	resp, err := http.Get("http://" + addr.String() + "/metrics")
	must(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Contains(body, []byte(`taikit_service_up{service="web"} 1`)) || !bytes.Contains(body, []byte("process_resident_memory_bytes")) {
		t.Errorf("metrics:\n%s", body)
	}
	cancel()
	if code := testref.Receive(t, "svstatd to exit", done); code != 0 {
		t.Errorf("exit %d: %s", code, errOut.String())
	}
}

// TestListenFailure: an address that cannot be listened on is a
// temporary failure, named.
func TestListenFailure(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	defer ln.Close()
	code, _, errOut := runCmd("-l", ln.Addr().String(), t.TempDir())
	if code != 111 || !strings.HasPrefix(errOut, "svstatd: fatal: unable to listen on "+ln.Addr().String()+": ") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

// TestControlOptions: a token file others may read is refused, and a
// token is never taken in the clear outside the loopback interface.
func TestControlOptions(t *testing.T) {
	dir := t.TempDir()
	open := filepath.Join(dir, "open")
	must(t, os.WriteFile(open, []byte("0123456789abcdef0123\n"), 0o644))
	must(t, os.Chmod(open, 0o644))
	code, _, errOut := runCmd("--control-token", open, dir)
	if code != 111 || errOut != "svstatd: fatal: "+open+" has mode 0644: others may read it; chmod 600 "+open+": control token file refused\n" {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	good := filepath.Join(dir, "good")
	must(t, os.WriteFile(good, []byte("0123456789abcdef0123\n"), 0o600))
	code, _, errOut = runCmd("-l", "0.0.0.0:0", "--control-token", good, dir)
	if code != 100 || !strings.Contains(errOut, "control over a non-loopback address needs TLS") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	code, _, errOut = runCmd("--tls-cert", good, dir)
	if code != 100 || !strings.HasPrefix(errOut, "svstatd: fatal: --tls-cert and --tls-key go together\n") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}
