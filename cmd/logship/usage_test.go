package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/taikit/taikit/internal/servertest"
	"github.com/taikit/taikit/internal/testref"
)

func runLogship(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var errs bytes.Buffer
	code := run(args, env{stderr: &errs, hostname: func() (string, error) { return "testhost.example", nil },
		stop: make(chan struct{})})
	return code, errs.String()
}

// Mistakes on the command line exit 100 with a message that says what to
// write instead; a server that cannot be reached exits 111, naming it.
func TestMistakesAndRefusals(t *testing.T) {
	dir := t.TempDir()
	closed := "127.0.0.1:" + strconv.Itoa(servertest.FreePort(t))
	for _, c := range []struct {
		args []string
		code int
		says string
	}{
		{nil, 100, "give a URL and at least one directory"},
		{[]string{"nats://127.0.0.1:4222/x"}, 100, "give a URL and at least one directory"},
		{[]string{"kafka://127.0.0.1:9092/x", dir}, 100, "unknown scheme kafka: say nats://, redis://, relp://, syslog+tcp:// or syslog+tls://"},
		{[]string{"127.0.0.1:4222", dir}, 100, "no scheme"},
		{[]string{"nats://127.0.0.1/x", dir}, 100, "no port: say nats://127.0.0.1:port"},
		{[]string{"nats://127.0.0.1:4222", dir}, 100, "no subject: say nats://host:port/subject"},
		{[]string{"redis://127.0.0.1:6379/logs", dir, dir}, 100, "put {name} in the stream"},
		{[]string{"-n", "a", "relp://127.0.0.1:2514", dir, dir}, 100, "-n names one directory"},
		{[]string{"--window", "0", "relp://127.0.0.1:2514", dir}, 100, `--window "0": want a number above 0`},
		{[]string{"--bogus", "relp://127.0.0.1:2514", dir}, 100, "--bogus"},
		{[]string{"--cert", "c.pem", "relp://127.0.0.1:2514", dir}, 100, "--cert and --key go together"},
		{[]string{"--ca", "ca.pem", "redis://127.0.0.1:6379/logs", dir}, 100, "--ca, --cert and --key are for syslog+tls://: nats://, redis:// and relp:// are sent without TLS"},
		{[]string{"--cert", "c.pem", "--key", "k.pem", "nats://127.0.0.1:4222/x", dir}, 100, "--ca, --cert and --key are for syslog+tls://"},
		{[]string{"--once", "relp://" + closed, dir}, 111, "unable to connect to relp://" + closed + ": dial tcp " + closed + ": connect: connection refused"},
		{[]string{"--once", "nats://" + closed + "/x", dir}, 111, "unable to connect to nats://" + closed + "/x: dial tcp " + closed + ": connect: connection refused"},
		{[]string{"--once", "redis://" + closed + "/x", dir}, 111, "unable to connect to redis://" + closed + "/x: dial tcp " + closed + ": connect: connection refused"},
	} {
		code, stderr := runLogship(t, c.args...)
		if code != c.code || !strings.Contains(stderr, c.says) || !strings.HasPrefix(stderr, "logship: ") {
			t.Errorf("logship %q: exit %d, said\n%s\nwant exit %d saying %q", c.args, code, stderr, c.code, c.says)
		}
	}
}

// A state file that is not logship's is refused, not overwritten.
func TestForeignStateFileRefused(t *testing.T) {
	srv := servertest.Redis(t)
	state := filepath.Join(t.TempDir(), "cursor")
	writeFile(t, state, "taikit-rotate-cursor 1\nafter -\n")
	code, stderr := runLogship(t, "--once", "-C", state, "redis://"+srv.Addr+"/logs", t.TempDir())
	if code != 111 || !strings.Contains(stderr, "unable to read state file "+state+": not a logship state file") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
}

// Archives pruned before they were shipped: --once says so, counts it in
// the state file and exits 3, having shipped what is left.
func TestGapExits3(t *testing.T) {
	srv := servertest.Redis(t)
	w := startWriter(t, "t", "s4096", "n3")
	state := filepath.Join(t.TempDir(), "state")
	url := "redis://" + srv.Addr + "/logs"
	w.lines(t, 0, 10)
	testref.WaitFor(t, "multilog to write 10 lines", func() bool {
		b, _ := os.ReadFile(filepath.Join(w.dir, "current"))
		return bytes.Count(b, []byte("\n")) == 10
	})
	if code, stderr := runLogship(t, "--once", "-C", state, url, w.dir); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	w.lines(t, 10, 3000) // about 30 files, two archives kept
	w.finish(t)
	code, stderr := runLogship(t, "--once", "-C", state, url, w.dir)
	if code != 3 || !strings.Contains(stderr, "logship: warning: gap in "+w.dir) {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	b, _ := os.ReadFile(state)
	if !strings.Contains(string(b), " gaps 1 ") {
		t.Fatalf("state file:\n%s", b)
	}
}

// TLS that does not check out: a certificate that does not name the
// host of the URL, a CA that is not given. Each is said, with what to do,
// and exits 111 before anything is sent.
func TestTLSRefusals(t *testing.T) {
	certs := servertest.MakeCerts(t, "localhost")
	srv := servertest.RsyslogTCP(t, &certs)
	port := srv.Addr[len("127.0.0.1:"):]
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		says string
	}{
		{[]string{"--ca", certs.CA, "syslog+tls://127.0.0.1:" + port, dir},
			"unable to make a TLS session with syslog+tls://127.0.0.1:" + port + ": tls: failed to verify certificate: x509: cannot validate certificate for 127.0.0.1 because it doesn't contain any IP SANs (the server's certificate does not name the host of the URL: use the name it has)"},
		{[]string{"syslog+tls://localhost:" + port, dir},
			"unable to make a TLS session with syslog+tls://localhost:" + port + ": tls: failed to verify certificate: x509: certificate signed by unknown authority (give the CA that signed the server's certificate with --ca)"},
		{[]string{"--ca", filepath.Join(dir, "nothing"), "syslog+tls://localhost:" + port, dir},
			"unable to read CA file " + filepath.Join(dir, "nothing") + ": file does not exist"},
	} {
		code, stderr := runLogship(t, append([]string{"--once"}, c.args...)...)
		if code != 111 || !strings.Contains(stderr, "logship: fatal: "+c.says) {
			t.Errorf("logship %q: exit %d, said\n%s\nwant exit 111 saying %q", c.args, code, stderr, c.says)
		}
	}
	if n := len(srv.Received()); n != 0 {
		t.Errorf("rsyslogd received %d messages", n)
	}
}
