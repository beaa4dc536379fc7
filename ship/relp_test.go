package ship

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/taikit/taikit/internal/servertest"
)

// relpLines returns the lines rsyslogd received: the message of each,
// checked to carry its key.
func relpLines(t *testing.T, r *servertest.Rsyslog) []string {
	t.Helper()
	var lines []string
	for _, l := range r.Received() {
		sd, msg, ok := strings.Cut(l, "] ")
		if !ok || servertest.Field(sd, "key") == "" {
			t.Fatalf("received %q: no key", l)
		}
		lines = append(lines, msg)
	}
	return lines
}

// rsyslogd's imrelp takes every line, in order, once when nothing breaks.
func TestRELPShipsToRsyslog(t *testing.T) {
	srv := servertest.RsyslogRELP(t)
	dir := filepath.Join(t.TempDir(), "log")
	state := filepath.Join(t.TempDir(), "state")
	url := "relp://" + srv.Addr
	writeDir(t, dir, 0, 3000)
	shipOnce(t, url, dir, state)
	writeDir(t, dir, 3000, 5000)
	if s := shipOnce(t, url, dir, state); s.Shipped != 2000 {
		t.Fatalf("shipped %d records after 2000 more lines, want 2000", s.Shipped)
	}
	// Acknowledged is taken, not yet written: wait for the file.
	var lines []string
	waitFor(t, "rsyslogd to write 5000 lines", func() bool { lines = relpLines(t, srv); return len(lines) >= 5000 })
	checkLines(t, lines, 5000)
	first := srv.Received()[0]
	if !strings.Contains(first, `[logship@32473 key="testhost/svc/1"]`) {
		t.Errorf("first message: %q", first)
	}
}
