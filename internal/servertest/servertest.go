// Package servertest starts the servers logship ships to, for tests: the
// real programs from Debian's packages (nats-server, redis-server,
// rsyslogd with imrelp), each on a free loopback port, with a
// configuration and data of its own in a test's temporary directory,
// never the machine's service. A test waits for each to be ready and
// stops it at its end; it is skipped, naming the package, where the
// program is absent.
package servertest

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/taikit/taikit/internal/testref"
)

// T is what the servers need of a test: testing.TB has it, and so has
// the benchmark harness (go run ./bench), which starts the same servers.
// Fatal and Fatalf must not return (testing's end the goroutine).
type T interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
	Cleanup(func())
	TempDir() string
}

// Server is a server process the test started.
type Server struct {
	Name string // the program, for messages
	Addr string // 127.0.0.1:port
	Dir  string // its configuration and data

	t    T
	args []string
	cmd  *exec.Cmd
	done chan struct{}
	log  *os.File
}

// need skips the test unless the program at path is installed.
func need(t T, path, pkg string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Skipf("%s is not installed: apt-get install %s", path, pkg)
	}
}

// FreePort returns a loopback port nothing listens on now.
func FreePort(t T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func start(t T, name, dir string, port int, args []string) *Server {
	t.Helper()
	s := &Server{Name: name, Addr: "127.0.0.1:" + strconv.Itoa(port), Dir: dir, t: t, args: args}
	s.Start()
	t.Cleanup(s.Kill)
	return s
}

// Start starts the server (again, on the same port and data) and waits
// until it accepts connections.
func (s *Server) Start() {
	s.t.Helper()
	log, err := os.OpenFile(filepath.Join(s.Dir, "server.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		s.t.Fatal(err)
	}
	s.cmd = exec.Command(s.args[0], s.args[1:]...)
	s.cmd.Dir = s.Dir
	s.cmd.Stdout, s.cmd.Stderr = log, log
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		log.Close()
		s.t.Fatalf("unable to start %s: %v", s.Name, err)
	}
	s.log = log
	s.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { cmd.Wait(); close(done) }(s.cmd, s.done)
	testref.WaitFor(s.t, s.Name+" to accept connections on "+s.Addr+" (see "+log.Name()+")", func() bool {
		select {
		case <-s.done:
			b, _ := os.ReadFile(log.Name())
			s.t.Fatalf("%s exited at start:\n%s", s.Name, b)
		default:
		}
		c, err := net.DialTimeout("tcp", s.Addr, time.Second)
		if err != nil {
			return false
		}
		c.Close()
		return true
	})
}

// Stop ends the server with SIGTERM and waits for it.
func (s *Server) Stop() { s.signal(syscall.SIGTERM) }

// Kill ends the server with SIGKILL and waits for it.
func (s *Server) Kill() { s.signal(syscall.SIGKILL) }

func (s *Server) signal(sig syscall.Signal) {
	if s.cmd == nil {
		return
	}
	select {
	case <-s.done:
	default:
		syscall.Kill(-s.cmd.Process.Pid, sig)
		select {
		case <-s.done:
		case <-time.After(testref.Patience):
			s.t.Fatalf("gave up after %v waiting for %s to exit", testref.Patience, s.Name)
		}
	}
	s.cmd = nil
	s.log.Close()
}

// Log returns what the server wrote on its output.
func (s *Server) Log() string {
	b, _ := os.ReadFile(filepath.Join(s.Dir, "server.log"))
	return string(b)
}

// NATS starts nats-server with JetStream, its store in a temporary
// directory.
func NATS(t T) *Server {
	t.Helper()
	const bin = "/usr/sbin/nats-server"
	need(t, bin, "nats-server")
	dir := t.TempDir()
	port := FreePort(t)
	return start(t, "nats-server", dir, port, []string{bin, "-a", "127.0.0.1", "-p", strconv.Itoa(port),
		"-js", "-sd", filepath.Join(dir, "js")})
}

// Redis starts redis-server with an append-only file fsynced always, so
// that what it acknowledged survives its kill.
func Redis(t T) *Server {
	t.Helper()
	return RedisFsync(t, "always")
}

// RedisFsync starts redis-server with an append-only file and the
// appendfsync policy given: "always" (an acknowledged entry is on disk),
// "everysec" (Redis's default and production's usual: up to a second of
// acknowledged entries may be lost when the machine fails, none when only
// the server is killed) or "no".
func RedisFsync(t T, policy string) *Server {
	t.Helper()
	const bin = "/usr/bin/redis-server"
	need(t, bin, "redis-server")
	dir := t.TempDir()
	port := FreePort(t)
	conf := fmt.Sprintf("bind 127.0.0.1\nport %d\ndir %s\nsave \"\"\nappendonly yes\nappendfsync %s\n"+
		"latency-monitor-threshold 100\ndaemonize no\nlogfile \"\"\n", port, dir, policy)
	if err := os.WriteFile(filepath.Join(dir, "redis.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return start(t, "redis-server", dir, port, []string{bin, filepath.Join(dir, "redis.conf")})
}

// Rsyslog starts rsyslogd in the foreground with imrelp on a port and
// nothing else (no system socket, no kernel log), writing what it
// receives to Out, one message a line: the structured data, a space, the
// message.
type Rsyslog struct {
	*Server
	Out string
}

// RsyslogRELP starts rsyslogd receiving RELP.
func RsyslogRELP(t T) *Rsyslog {
	t.Helper()
	const bin = "/usr/sbin/rsyslogd"
	need(t, bin, "rsyslog")
	need(t, "/usr/lib/x86_64-linux-gnu/rsyslog/imrelp.so", "rsyslog-relp")
	dir := t.TempDir()
	port := FreePort(t)
	out := filepath.Join(dir, "received")
	conf := fmt.Sprintf(`global(workDirectory=%q)
module(load="imrelp")
template(name="sdmsg" type="string" string="%%structured-data%% %%msg%%\n")
input(type="imrelp" port="%d" address="127.0.0.1")
action(type="omfile" file=%q template="sdmsg" asyncWriting="off" flushOnTXEnd="on")
`, dir, port, out)
	if err := os.WriteFile(filepath.Join(dir, "rsyslog.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	s := start(t, "rsyslogd", dir, port, []string{bin, "-n", "-f", filepath.Join(dir, "rsyslog.conf"),
		"-i", filepath.Join(dir, "rsyslogd.pid")})
	return &Rsyslog{Server: s, Out: out}
}

// Received returns the lines rsyslogd wrote so far.
func (r *Rsyslog) Received() []string {
	f, err := os.Open(r.Out)
	if err != nil {
		return nil
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}

// Field returns the value of param in structured data like
// [logship@32473 key="h/n/1"], or "".
func Field(sd, param string) string {
	_, v, ok := strings.Cut(sd, param+`="`)
	if !ok {
		return ""
	}
	v, _, _ = strings.Cut(v, `"`)
	return v
}

// Certs are a certificate authority and a server certificate it signed,
// made for a test, as PEM files.
type Certs struct {
	CA, Cert, Key string
}

// MakeCerts makes a CA and a server certificate for the DNS names given
// (and no IP address), valid for a day, in a temporary directory.
func MakeCerts(t T, names ...string) Certs {
	t.Helper()
	dir := t.TempDir()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "taikit test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: names[0]}, DNSNames: names,
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	c := Certs{CA: filepath.Join(dir, "ca.pem"), Cert: filepath.Join(dir, "cert.pem"), Key: filepath.Join(dir, "key.pem")}
	for path, block := range map[string]*pem.Block{c.CA: {Type: "CERTIFICATE", Bytes: caDER},
		c.Cert: {Type: "CERTIFICATE", Bytes: der}, c.Key: {Type: "PRIVATE KEY", Bytes: keyDER}} {
		if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// RsyslogTCP starts rsyslogd receiving syslog over TCP (imtcp, octet
// counting), with TLS (rsyslog-gnutls) when certs is not nil.
func RsyslogTCP(t T, certs *Certs) *Rsyslog {
	t.Helper()
	const bin = "/usr/sbin/rsyslogd"
	need(t, bin, "rsyslog")
	load := `module(load="imtcp")`
	if certs != nil {
		need(t, "/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so", "rsyslog-gnutls")
		load = fmt.Sprintf(`global(DefaultNetstreamDriverCAFile=%q DefaultNetstreamDriverCertFile=%q DefaultNetstreamDriverKeyFile=%q)
module(load="imtcp" StreamDriver.Name="gtls" StreamDriver.Mode="1" StreamDriver.AuthMode="anon")`,
			certs.CA, certs.Cert, certs.Key)
	}
	dir := t.TempDir()
	port := FreePort(t)
	out := filepath.Join(dir, "received")
	conf := fmt.Sprintf(`global(workDirectory=%q)
%s
template(name="sdmsg" type="string" string="%%structured-data%% %%msg%%\n")
input(type="imtcp" port="%d" address="127.0.0.1")
action(type="omfile" file=%q template="sdmsg" asyncWriting="off" flushOnTXEnd="on")
`, dir, load, port, out)
	if err := os.WriteFile(filepath.Join(dir, "rsyslog.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	s := start(t, "rsyslogd", dir, port, []string{bin, "-n", "-f", filepath.Join(dir, "rsyslog.conf"),
		"-i", filepath.Join(dir, "rsyslogd.pid")})
	return &Rsyslog{Server: s, Out: out}
}
