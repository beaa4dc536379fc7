package ship

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/taikit/taikit/internal/testref"
	"github.com/taikit/taikit/rotate"
	"github.com/taikit/taikit/tai64n"
)

// fakeSink takes records in memory; it fails the first Sends it is told
// to.
type fakeSink struct {
	max     int
	fails   int
	sends   int
	largest int // the most records in one Send
	recs    []Record
}

func (f *fakeSink) Send(ctx context.Context, recs []Record) error {
	f.sends++
	f.largest = max(f.largest, len(recs))
	if f.fails > 0 {
		f.fails--
		return errors.New("connection refused")
	}
	for _, r := range recs {
		r.Line = bytes.Clone(r.Line)
		f.recs = append(f.recs, r)
	}
	return nil
}
func (f *fakeSink) MaxLine() int { return f.max }
func (f *fakeSink) Close() error { return nil }

// A server away for a while: the same records are retried with a backoff
// that doubles from 0.1 s to 5 s and stays there (no busy loop), one
// warning when the outage begins and one, with its length, when it ends.
func TestOutageBacksOffAndWarnsOnce(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "log")
	writeDir(t, dir, 0, 100)
	sink := &fakeSink{max: 1 << 20, fails: 20}
	st, _ := OpenState("")
	clock := time.Date(2026, 12, 5, 6, 0, 0, 0, time.UTC)
	var sleeps []time.Duration
	var warnings []error
	s := &Shipper{Dir: dir, Origin: Origin{Host: "h", Name: "n"}, Sink: sink, State: st, URL: "relp://loghost:2514",
		Warn:  func(err error) { warnings = append(warnings, err) },
		Now:   func() time.Time { return clock },
		Sleep: func(ctx context.Context, d time.Duration) { sleeps = append(sleeps, d); clock = clock.Add(d) }}
	if err := s.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{100, 200, 400, 800, 1600, 3200}
	for i := range want {
		want[i] *= time.Millisecond
	}
	for len(want) < 20 {
		want = append(want, 5*time.Second)
	}
	if fmt.Sprint(sleeps) != fmt.Sprint(want) {
		t.Fatalf("slept %v, want %v", sleeps, want)
	}
	if len(warnings) != 2 {
		t.Fatalf("warnings: %v", warnings)
	}
	var begin, end *Outage
	if !errors.As(warnings[0], &begin) || begin.Over || !errors.As(warnings[1], &end) || !end.Over ||
		end.Length != 76300*time.Millisecond {
		t.Fatalf("warnings: %v", warnings)
	}
	if got := warnings[0].Error(); got != "unable to ship to relp://loghost:2514: connection refused: retrying with backoff, nothing is lost meanwhile" {
		t.Errorf("first warning: %s", got)
	}
	if got := warnings[1].Error(); got != "relp://loghost:2514 is back after 1m16.3s: shipping again" {
		t.Errorf("second warning: %s", got)
	}
	if len(sink.recs) != 100 {
		t.Fatalf("%d records delivered", len(sink.recs))
	}
}

// Lines longer than the sink takes are split into pieces marked part and
// more, never dropped; a line longer than the reader's buffer (1 MiB)
// too, its pieces made as it is read. Pieces and
// lines after them keep consecutive numbers, and a second run from the
// state sends nothing again.
func TestLongLinesSplit(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "log")
	w, err := rotate.Open(dir, rotate.Options{MaxSize: 16 << 20})
	if err != nil {
		t.Fatal(err)
	}
	stamp := tai64n.FromUnix(1764900000, 0, tai64n.Daemontools).String()
	long := strings.Repeat("0123456789", 1000)     // 10,000 bytes
	huge := strings.Repeat("abcdefghij", 300*1024) // 3 MiB: longer than the read buffer
	fmt.Fprintf(w, "%s short\n%s %s\n%s after\nunstamped %s\n%s last\n", stamp, stamp, long, stamp, huge, stamp)
	w.Close()

	sink := &fakeSink{max: 4000}
	st, _ := OpenState(filepath.Join(t.TempDir(), "state"))
	s := &Shipper{Dir: dir, Origin: Origin{Host: "h", Name: "n"}, Sink: sink, State: st}
	if err := s.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Join the pieces back, checking their marks.
	var lines []string
	var cur strings.Builder
	for i, r := range sink.recs {
		if r.Seq != uint64(i+1) {
			t.Fatalf("record %d has number %d", i, r.Seq)
		}
		if len(r.Line) > 4000 {
			t.Fatalf("record %d: %d bytes, more than the sink takes", i, len(r.Line))
		}
		cur.Write(r.Line)
		if r.Part > 0 && r.More {
			continue
		}
		lines = append(lines, cur.String())
		cur.Reset()
	}
	want := []string{"short", long, "after", "unstamped " + huge, "last"}
	if len(lines) != len(want) {
		t.Fatalf("%d lines joined from %d records, want %d", len(lines), len(sink.recs), len(want))
	}
	for i := range want {
		if lines[i] != want[i] {
			t.Fatalf("line %d: %d bytes, want %d", i, len(lines[i]), len(want[i]))
		}
	}
	if n := len(sink.recs); n != 1+3+1+769+1 { // 3,072,010 bytes in pieces of 4000
		t.Errorf("%d records", n)
	}
	if r := sink.recs[1]; r.Part != 1 || !r.More || !r.Stamped {
		t.Errorf("first piece: part %d more %v stamped %v", r.Part, r.More, r.Stamped)
	}
	if r := sink.recs[3]; r.Part != 3 || r.More {
		t.Errorf("last piece: part %d more %v", r.Part, r.More)
	}

	before := len(sink.recs)
	st, _ = OpenState(filepath.Join(filepath.Dir(st.Path()), "state"))
	s = &Shipper{Dir: dir, Origin: Origin{Host: "h", Name: "n"}, Sink: sink, State: st}
	if err := s.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(sink.recs) != before {
		t.Fatalf("a second run sent %d records again", len(sink.recs)-before)
	}
}

// blockingSink holds each Send until the test releases it.
type blockingSink struct {
	fakeSink
	entered chan struct{}
	release chan struct{}
}

func (b *blockingSink) Send(ctx context.Context, recs []Record) error {
	b.entered <- struct{}{}
	<-b.release
	return b.fakeSink.Send(ctx, recs)
}

// A stop (SIGTERM) while a batch is in flight waits for its
// acknowledgement, saves the position after it, and returns nil.
func TestStopWaitsForWhatIsInFlight(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "log")
	writeDir(t, dir, 0, 100)
	sink := &blockingSink{fakeSink: fakeSink{max: 1 << 20}, entered: make(chan struct{}), release: make(chan struct{})}
	stateFile := filepath.Join(t.TempDir(), "state")
	st, _ := OpenState(stateFile)
	ctx, cancel := context.WithCancel(context.Background())
	s := &Shipper{Dir: dir, Origin: Origin{Host: "h", Name: "n"}, Sink: sink, State: st, Follow: true}
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	testref.Receive(t, "a Send", sink.entered)
	cancel()
	close(sink.release)
	if err := testref.Receive(t, "Run to return", done); err != nil {
		t.Fatal(err)
	}
	again, _ := OpenState(stateFile)
	if p, _ := again.Get(dir); p.Seq != uint64(len(sink.recs)) || p.Seq == 0 {
		t.Fatalf("position saved at %d after %d records acknowledged", p.Seq, len(sink.recs))
	}
}

// A batch, what may be sent again after a kill on a sink that cannot
// deduplicate, never holds more than MaxBatch records, however many lines
// one read of the directory gives.
func TestBatchBound(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "log")
	writeDir(t, dir, 0, 5000)
	sink := &fakeSink{max: 1 << 20}
	st, _ := OpenState("")
	s := &Shipper{Dir: dir, Origin: Origin{Host: "h", Name: "n"}, Sink: sink, State: st, MaxBatch: 100}
	if err := s.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(sink.recs) != 5000 || sink.largest > 100 {
		t.Fatalf("%d records in %d sends, the largest %d", len(sink.recs), sink.sends, sink.largest)
	}
	if p, _ := st.Get(dir); p.Seq != 5000 {
		t.Fatalf("position at %d", p.Seq)
	}
}

// heldSink is a fakeSink whose server already holds the records up to
// heldUpTo (a restart after a kill): it reports them as held.
type heldSink struct {
	fakeSink
	heldUpTo uint64
	last     int
}

func (h *heldSink) Send(ctx context.Context, recs []Record) error {
	h.last = 0
	for _, r := range recs {
		if r.Seq <= h.heldUpTo {
			h.last++
		}
	}
	return h.fakeSink.Send(ctx, recs)
}

func (h *heldSink) Held() int { return h.last }

// Records sent again that the server holds are counted, and said once for
// the whole stretch, however many batches it spans.
func TestResentSaidOncePerStretch(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "log")
	writeDir(t, dir, 0, 500)
	sink := &heldSink{fakeSink: fakeSink{max: 1 << 20}, heldUpTo: 250}
	st, _ := OpenState("")
	var warnings []error
	s := &Shipper{Dir: dir, Origin: Origin{Host: "h", Name: "n"}, Sink: sink, State: st, URL: "nats://loghost/logs",
		MaxBatch: 100, Warn: func(err error) { warnings = append(warnings, err) }}
	if err := s.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if sink.sends < 3 {
		t.Fatalf("%d sends: the stretch must span batches for this test", sink.sends)
	}
	var r *Resent
	if s.Held != 250 || s.Shipped != 500 || len(warnings) != 1 || !errors.As(warnings[0], &r) || r.First != 1 || r.Last != 250 || r.Held != 250 {
		t.Fatalf("held %d, shipped %d, warnings %v", s.Held, s.Shipped, warnings)
	}
	if got, want := r.Error(), "nats://loghost/logs already held records 1 to 250 of "+dir+" (250, shipped before a restart whose position was not saved yet): sent again, not stored twice"; got != want {
		t.Fatalf("said %q\nwant %q", got, want)
	}
}
