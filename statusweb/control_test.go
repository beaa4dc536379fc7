package statusweb_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"math/big"
	"net"
	"net/http"
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
	"github.com/taikit/taikit/supervise/control"
	"github.com/taikit/taikit/supervise/control/controltest"
)

const token = "s3cret-token-0123456789"

type controlAnswer struct {
	Service, Verb, Done, Error string
	OK                         bool
	PID                        int
}

func post(t *testing.T, client *http.Client, url, auth string) (int, controlAnswer) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := client.Do(req)
	must(t, err)
	defer resp.Body.Close()
	var a controlAnswer
	json.NewDecoder(resp.Body).Decode(&a)
	return resp.StatusCode, a
}

// TestControl: with a token, POSTs start, stop and restart a service with
// svctl's verified semantics, each logged; without it, or by GET, nothing
// is done.
func TestControl(t *testing.T) {
	scan := filepath.Join(t.TempDir(), "service")
	t.Cleanup(func() { testref.KillUnder(scan) })
	dir := controltest.Service(t, scan, "web", map[string]string{"run": "exec sleep 1000", "check": "exit 0"})
	controltest.Supervise(t, controltest.Ours(t), dir)
	testref.WaitFor(t, "web up", func() bool { return controltest.Status(t, dir).Up() })
	pid := controltest.Status(t, dir).PID
	var log testref.Buffer
	url := serve(t, &statusweb.Server{Tree: &observe.Tree{ScanDirs: []string{scan}}, ControlToken: []byte(token), Log: &log,
		Control: control.Options{Timeout: testref.Patience, Settle: 300 * time.Millisecond}})
	c := http.DefaultClient

	// Refused: no token, a wrong one, a GET, an unknown verb or service.
	for _, r := range []struct {
		method, path, auth string
		code               int
	}{
		{"POST", "/api/v1/control/stop/web", "", 401},
		{"POST", "/api/v1/control/stop/web", "Bearer wrong-token-0123456789", 401},
		{"POST", "/api/v1/control/stop/web", token, 401},
		{"POST", "/api/v1/control/stop/web", "Bearer " + token + "x", 401},
		{"GET", "/api/v1/control/stop/web", "Bearer " + token, 405},
		{"POST", "/api/v1/control/reset/web", "Bearer " + token, 404},
		{"POST", "/api/v1/control/stop/nosuch", "Bearer " + token, 404},
		{"POST", "/api/v1/control/stop/web%2F..%2F..%2Fweb", "Bearer " + token, 404},
	} {
		req, _ := http.NewRequest(r.method, url+r.path, nil)
		if r.auth != "" {
			req.Header.Set("Authorization", r.auth)
		}
		resp, err := c.Do(req)
		must(t, err)
		resp.Body.Close()
		if resp.StatusCode != r.code {
			t.Errorf("%s %s (%q): %d, want %d", r.method, r.path, r.auth, resp.StatusCode, r.code)
		}
	}
	if st := controltest.Status(t, dir); !st.Up() || st.PID != pid || st.Want != supervise.WantUp {
		t.Fatalf("a refused request changed the service: %+v", st)
	}

	auth := "Bearer " + token
	code, a := post(t, c, url+"/api/v1/control/stop/web", auth)
	if code != 200 || !a.OK || a.Done != "stopped" {
		t.Fatalf("stop: %d %+v", code, a)
	}
	if st := controltest.Status(t, dir); st.Up() || st.Want != supervise.WantDown {
		t.Errorf("after stop: %+v", st)
	}
	code, a = post(t, c, url+"/api/v1/control/start/web", auth)
	if code != 200 || a.Done != "started" || a.PID == 0 {
		t.Fatalf("start: %d %+v", code, a)
	}
	code, b := post(t, c, url+"/api/v1/control/restart/web", auth)
	if code != 200 || b.Done != "restarted" || b.PID == a.PID || b.PID == 0 {
		t.Fatalf("restart: %d %+v", code, b)
	}
	if st := controltest.Status(t, dir); !st.Up() || st.PID != b.PID {
		t.Errorf("after restart: %+v, want pid %d", st, b.PID)
	}
	for _, want := range []string{
		"svstatd: control: refused stop web from 127.0.0.1:",
		"svstatd: control: stop web from 127.0.0.1:",
		": stopped in ",
		": started (pid ",
		": restarted (pid ",
	} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, log.String())
		}
	}
}

// TestControlOff: without a token, control is refused and the page is
// told it is off.
func TestControlOff(t *testing.T) {
	scan := t.TempDir()
	dir := controltest.Service(t, scan, "web", map[string]string{"run": "exec sleep 1000"})
	url := serve(t, &statusweb.Server{Tree: &observe.Tree{ScanDirs: []string{scan}}})
	code, _ := post(t, http.DefaultClient, url+"/api/v1/control/start/web", "Bearer "+token)
	if code != 403 {
		t.Errorf("POST: %d, want 403", code)
	}
	if _, err := os.Stat(supervise.StatusPath(dir)); err == nil {
		t.Errorf("something was started")
	}
	s, _ := openStream(t, url+"/api/v1/events")
	list := s.next(t, "services", "the list", func(string) bool { return true })
	if !strings.Contains(list, `"control":false`) {
		t.Errorf("list: %s", list)
	}
}

func TestLoadToken(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		must(t, os.WriteFile(p, []byte(content), mode))
		must(t, os.Chmod(p, mode))
		return p
	}
	good := write("good", token+"\n", 0o600)
	if tok, err := statusweb.LoadToken(good); err != nil || string(tok) != token {
		t.Errorf("LoadToken(0600): %q, %v", tok, err)
	}
	if tok, err := statusweb.LoadToken(write("ro", token, 0o400)); err != nil || string(tok) != token {
		t.Errorf("LoadToken(0400): %q, %v", tok, err)
	}
	for _, c := range []struct {
		path, want string
	}{
		{write("open", token, 0o644), "has mode 0644: others may read it; chmod 600 "},
		{write("group", token, 0o640), "has mode 0640"},
		{write("short", "abc\n", 0o600), "holds a token of 3 bytes, fewer than 16"},
		{dir, "is not a regular file"},
	} {
		_, err := statusweb.LoadToken(c.path)
		if !errors.Is(err, statusweb.ErrTokenFile) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("LoadToken(%s): %v, want %q", c.path, err, c.want)
		}
	}
	if _, err := statusweb.LoadToken(filepath.Join(dir, "missing")); err == nil ||
		err.Error() != "unable to open control token file "+filepath.Join(dir, "missing")+": file does not exist" {
		t.Errorf("missing: %v", err)
	}
}

// selfSigned makes a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "svstatd test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	must(t, err)
	cert, err := x509.ParseCertificate(der)
	must(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

// TestControlNeedsTLS: a token is never accepted in the clear outside the
// loopback interface; with TLS it is.
func TestControlNeedsTLS(t *testing.T) {
	tree := &observe.Tree{ScanDirs: []string{t.TempDir()}}
	ln, err := net.Listen("tcp", "0.0.0.0:0")
	must(t, err)
	defer ln.Close()
	srv := &statusweb.Server{Tree: tree, ControlToken: []byte(token)}
	if err := srv.Serve(context.Background(), ln); !errors.Is(err, statusweb.ErrControlNeedsTLS) {
		t.Fatalf("Serve on %s without TLS: %v", ln.Addr(), err)
	}

	cert, pool := selfSigned(t)
	ln2, err := net.Listen("tcp", "0.0.0.0:0")
	must(t, err)
	srv = &statusweb.Server{Tree: tree, ControlToken: []byte(token), TLS: &tls.Config{Certificates: []tls.Certificate{cert}}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln2) }()
	defer func() { cancel(); testref.Receive(t, "the server to stop", done) }()
	port := ln2.Addr().(*net.TCPAddr).Port
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	url := "https://127.0.0.1:" + itoa(port)
	code, _ := post(t, client, url+"/api/v1/control/stop/nosuch", "Bearer "+token)
	if code != 404 { // authorised, and no such service
		t.Errorf("over TLS: %d, want 404", code)
	}
	resp, err := http.Get("http://127.0.0.1:" + itoa(port) + "/metrics")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Errorf("plain HTTP served beside TLS")
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
