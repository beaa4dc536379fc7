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
	if s := shipOnce(t, url, dir, state); s.Shipped != 0 || s.Held != 0 {
		t.Fatalf("shipped %d records again with nothing new (%d held)", s.Shipped, s.Held)
	}
	// The position lost, as after a kill before its save: everything is
	// sent again, and the stream, which holds it, says so.
	os.Remove(state)
	if s, warnings := shipAs(t, url, Origin{Host: "testhost", Name: "svc", Dir: dir}, state, SinkOptions{}); s.Held != 5000 || heldSaid(warnings) != 5000 {
		t.Fatalf("shipped again from scratch: %d held, %d said held, want 5000", s.Held, heldSaid(warnings))
	}

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

// TestNATSDuplicateWindow: on a subject two origins share, the last message
// is not this origin's, so after its position is lost everything is
// published again and the server drops each as a duplicate within the
// stream's window: acknowledged as held, stored once.
func TestNATSDuplicateWindow(t *testing.T) {
	srv := servertest.NATS(t)
	url := "nats://" + srv.Addr + "/logs.shared"
	svc := Origin{Host: "testhost", Name: "svc", Dir: filepath.Join(t.TempDir(), "svc")}
	other := Origin{Host: "testhost", Name: "other", Dir: filepath.Join(t.TempDir(), "other")}
	state := filepath.Join(t.TempDir(), "state")
	writeDir(t, svc.Dir, 0, 300)
	writeDir(t, other.Dir, 0, 10)
	if s, _ := shipAs(t, url, svc, state, SinkOptions{}); s.Shipped != 300 || s.Held != 0 {
		t.Fatalf("first shipping: %d shipped, %d held", s.Shipped, s.Held)
	}
	shipAs(t, url, other, filepath.Join(t.TempDir(), "state-other"), SinkOptions{})
	os.Remove(state)
	s, warnings := shipAs(t, url, svc, state, SinkOptions{})
	if s.Shipped != 300 || s.Held != 300 || heldSaid(warnings) != 300 {
		t.Fatalf("shipped again: %d shipped, %d held, %d said held; want 300 each", s.Shipped, s.Held, heldSaid(warnings))
	}
	if n := len(natsMessages(t, srv.Addr, "logs.shared")); n != 310 {
		t.Fatalf("the stream holds %d messages, want 310", n)
	}
}
