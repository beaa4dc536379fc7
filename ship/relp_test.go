package ship

import (
	"bufio"
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

// readFrame parses the server's frames, the data and its newlines whole,
// refuses what is not RELP, and allocates nothing for the response that
// comes back for every line.
func TestRELPReadFrame(t *testing.T) {
	frames := "1 rsp 6 200 OK\n2 rsp 37 200 OK\nrelp_version=0\ncommands=syslog\n3 serverclose 0\n"
	s := &relpSink{rd: bufio.NewReader(strings.NewReader(frames))}
	for _, want := range []struct {
		txnr      int
		cmd, data string
	}{{1, "rsp", "200 OK"}, {2, "rsp", "200 OK\nrelp_version=0\ncommands=syslog"}, {3, "serverclose", ""}} {
		n, cmd, data, err := s.readFrame()
		if err != nil || n != want.txnr || string(cmd) != want.cmd || string(data) != want.data {
			t.Errorf("frame %d: %d %q %q %v", want.txnr, n, cmd, data, err)
		}
	}
	for _, bad := range []string{"x rsp 6 200 OK\n", "1 rsp 6 200 OK!", "1 rsp -1\n", "1234567890 rsp 0\n", "1 rsp 999999 x\n"} {
		s := &relpSink{rd: bufio.NewReader(strings.NewReader(bad))}
		if _, _, _, err := s.readFrame(); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	many := strings.Repeat("7 rsp 6 200 OK\n", 200)
	s = &relpSink{rd: bufio.NewReader(strings.NewReader(many))}
	s.readFrame() // the buffer grows once
	if n := testing.AllocsPerRun(100, func() {
		if n, cmd, _, err := s.readFrame(); err != nil || n != 7 || string(cmd) != "rsp" {
			t.Fatal(n, cmd, err)
		}
	}); n != 0 {
		t.Errorf("%v allocations a response", n)
	}
}
