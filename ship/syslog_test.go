package ship

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"

	"github.com/taikit/taikit/internal/servertest"
)

// rsyslogd's imtcp takes every line, octet-counted, in order, once when
// nothing breaks; with TLS too, the server's certificate checked against
// the CA given.
func TestSyslogTCPAndTLS(t *testing.T) {
	certs := servertest.MakeCerts(t, "localhost")
	pem, err := os.ReadFile(certs.CA)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	for _, c := range []struct {
		name  string
		certs *servertest.Certs
	}{{"tcp", nil}, {"tls", &certs}} {
		t.Run(c.name, func(t *testing.T) {
			srv := servertest.RsyslogTCP(t, c.certs)
			url := "syslog+tcp://" + srv.Addr
			if c.certs != nil {
				url = "syslog+tls://localhost:" + srv.Addr[len("127.0.0.1:"):]
			}
			dir := filepath.Join(t.TempDir(), "log")
			state := filepath.Join(t.TempDir(), "state")
			writeDir(t, dir, 0, 3000)
			shipOnceWith(t, url, dir, state, SinkOptions{TLS: &tls.Config{RootCAs: pool}})
			writeDir(t, dir, 3000, 5000)
			if s := shipOnceWith(t, url, dir, state, SinkOptions{TLS: &tls.Config{RootCAs: pool}}); s.Shipped != 2000 {
				t.Fatalf("shipped %d records after 2000 more lines, want 2000", s.Shipped)
			}
			var lines []string
			waitFor(t, "rsyslogd to write 5000 lines", func() bool { lines = relpLines(t, srv); return len(lines) >= 5000 })
			checkLines(t, lines, 5000)
		})
	}
}
