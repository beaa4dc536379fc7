package statusweb_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
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

// fakeService makes root/name with a status record and a reader on
// supervise/ok, as if a supervisor ran.
func fakeService(t testing.TB, root, name string, st supervise.Status) string {
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

// rawGet sends path as it is, unnormalised by any client, and returns the
// status code and body.
func rawGet(t *testing.T, base, path string) (int, string) {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	must(t, err)
	defer c.Close()
	_, err = io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	must(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestNothingOutsideTheTree: a service is served only by a name the scan
// found; .., encoded slashes and dots, absolute paths and a name that
// leads through a service to a directory beside the scan directory give
// nothing of what is there.
func TestNothingOutsideTheTree(t *testing.T) {
	root := t.TempDir()
	scan := filepath.Join(root, "service")
	when := tai64n.FromTime(time.Now(), tai64n.Daemontools)
	fakeService(t, scan, "web", supervise.Status{When: when, PID: 1111, Want: 'u'})
	fakeService(t, root, "secret", supervise.Status{When: when, PID: 31337, Want: 'u'})
	fakeService(t, filepath.Join(scan, "web"), "inner", supervise.Status{When: when, PID: 31338, Want: 'u'})
	url := serve(t, &statusweb.Server{Tree: &observe.Tree{ScanDirs: []string{scan}}})

	code, body := rawGet(t, url, "/api/v1/services/web")
	if code != 200 || !strings.Contains(body, `"pid": 1111`) {
		t.Fatalf("web: %d %s", code, body)
	}
	for _, p := range []string{
		"/api/v1/services/../secret",
		"/api/v1/services/../../secret",
		"/api/v1/services/..%2Fsecret",
		"/api/v1/services/..%2fsecret",
		"/api/v1/services/%2e%2e/secret",
		"/api/v1/services/%2e%2e%2fsecret",
		"/api/v1/services/web/../../secret",
		"/api/v1/services/web%2F..%2F..%2Fsecret",
		"/api/v1/services/web/inner",
		"/api/v1/services/web%2Finner",
		"/api/v1/services/" + root + "/secret",
		"/api/v1/services/" + strings.ReplaceAll(root+"/secret", "/", "%2F"),
		"/api/v1/services//" + root + "/secret",
		"/api/v1/services/web%00",
		"/api/v1/services/.",
		"/api/v1/services/",
		"/../../../" + root + "/secret/supervise/status",
	} {
		code, body := rawGet(t, url, p)
		if code == 200 || strings.Contains(body, "31337") || strings.Contains(body, "31338") || strings.Contains(body, `"dir"`) {
			t.Errorf("GET %s: %d\n%s", p, code, body)
		}
	}
}

// TestListsOnlyTheTree: the whole list holds the services of the scan
// directory and the log directories named, and no other.
func TestListsOnlyTheTree(t *testing.T) {
	root := t.TempDir()
	scan := filepath.Join(root, "service")
	when := tai64n.FromTime(time.Now(), tai64n.Daemontools)
	fakeService(t, scan, "web", supervise.Status{When: when, PID: 1111, Want: 'u'})
	fakeService(t, scan, "web/log", supervise.Status{When: when, PID: 1112, Want: 'u'})
	must(t, os.Symlink(filepath.Join(root, "elsewhere"), filepath.Join(scan, "web", "log", "main")))
	must(t, os.Mkdir(filepath.Join(root, "elsewhere"), 0o755))
	must(t, os.Symlink("/etc/passwd", filepath.Join(root, "elsewhere", "current")))
	url := serve(t, &statusweb.Server{Tree: &observe.Tree{ScanDirs: []string{scan}}})
	resp, err := http.Get(url + "/api/v1/services")
	must(t, err)
	defer resp.Body.Close()
	var snap observe.Snapshot
	must(t, json.NewDecoder(resp.Body).Decode(&snap))
	var names []string
	for _, s := range snap.Services {
		names = append(names, s.Name)
	}
	if strings.Join(names, " ") != "web web/log" {
		t.Errorf("services %q", names)
	}
	// log/main may lead elsewhere (a link to /var/log/x is common), but a
	// link inside it is never read: /etc/passwd is not counted.
	if len(snap.LogDirs) != 1 || snap.LogDirs[0].Name != "web/log/main" || snap.LogDirs[0].Bytes != 0 {
		t.Errorf("log directories %+v", snap.LogDirs)
	}
}

// TestDefaultLoopback: svstatd is reachable from its own host only unless
// told otherwise.
func TestDefaultLoopback(t *testing.T) {
	host, _, err := net.SplitHostPort(statusweb.DefaultAddr)
	must(t, err)
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		t.Errorf("DefaultAddr %s is not a loopback address", statusweb.DefaultAddr)
	}
}

// closedByServer reads from c until the server closes it, failing the
// test if it does not within Patience.
func closedByServer(t *testing.T, c net.Conn, what string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(testref.Patience))
	_, err := io.Copy(io.Discard, c)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Errorf("%s: connection still open after %v", what, testref.Patience)
	}
}

// TestTimeouts: a client that sends half a request, or keeps an idle
// connection, or never reads a response, does not hold a connection for
// ever.
func TestTimeouts(t *testing.T) {
	scan := t.TempDir()
	fakeService(t, scan, "web", supervise.Status{When: tai64n.FromTime(time.Now(), tai64n.Daemontools), PID: 5, Want: 'u'})
	srv := &statusweb.Server{Tree: &observe.Tree{ScanDirs: []string{scan}},
		ReadTimeout: 200 * time.Millisecond, IdleTimeout: 200 * time.Millisecond, WriteTimeout: 2 * time.Second}
	url := serve(t, srv)
	addr := strings.TrimPrefix(url, "http://")

	half, err := net.Dial("tcp", addr)
	must(t, err)
	defer half.Close()
	io.WriteString(half, "GET /metrics HTTP/1.1\r\nHost: x\r\n") // no end of headers
	closedByServer(t, half, "half a request")

	idle, err := net.Dial("tcp", addr)
	must(t, err)
	defer idle.Close()
	io.WriteString(idle, "GET /api/v1/services/web HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(idle)
	resp, err := http.ReadResponse(br, nil)
	must(t, err)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	closedByServer(t, idle, "an idle keep-alive connection") // br holds nothing more
}
