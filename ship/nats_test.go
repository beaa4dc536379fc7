package ship

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/taikit/taikit/internal/servertest"
)

// A directory with compressed archives goes to JetStream whole and in
// order; shipping again sends nothing; shipping again from scratch (the
// state file lost) sends everything again, and the server drops it all.
func TestNATSShipsEachLineOnce(t *testing.T) {
	srv := servertest.NATS(t)
	dir := filepath.Join(t.TempDir(), "log")
	state := filepath.Join(t.TempDir(), "state")
	url := "nats://" + srv.Addr + "/logs.{host}.{name}"
	writeDir(t, dir, 0, 3000)
	if s := shipOnce(t, url, dir, state); s.Shipped != 3000 {
		t.Fatalf("shipped %d records, want 3000", s.Shipped)
	}
	writeDir(t, dir, 3000, 5000)
	if s := shipOnce(t, url, dir, state); s.Shipped != 2000 {
		t.Fatalf("shipped %d records after 3000 more lines, want 2000", s.Shipped)
	}
	if s := shipOnce(t, url, dir, state); s.Shipped != 0 {
		t.Fatalf("shipped %d records again with nothing new", s.Shipped)
	}
	os.Remove(state)
	shipOnce(t, url, dir, state)

	recs := natsMessages(t, srv.Addr, "logs.testhost.svc")
	var lines []string
	for i, r := range recs {
		lines = append(lines, r.Line)
		if r.Seq != uint64(i+1) || r.Host != "testhost" || r.Name != "svc" || r.Dir != dir || r.TAI64N == "" {
			t.Fatalf("record %d: %+v", i, r)
		}
	}
	checkLines(t, lines, 5000)
	if recs[1234].Time != "2025-12-05T02:00:01.234000000Z" {
		t.Errorf("record 1234's time: %q", recs[1234].Time)
	}
}
