package ship

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/taikit/taikit/internal/servertest"
	"github.com/taikit/taikit/logread"
)

// Archives pruned by retention before they were shipped: the gap is said
// (a *logread.GapError to Warn) and counted in the state file, and
// shipping goes on with what is left.
func TestGapIsSaidAndCounted(t *testing.T) {
	srv := servertest.Redis(t)
	dir := filepath.Join(t.TempDir(), "log")
	stateFile := filepath.Join(t.TempDir(), "state")
	url := "redis://" + srv.Addr + "/logs"
	writeDir(t, dir, 0, 50)
	shipOnce(t, url, dir, stateFile)
	writeDirKeep(t, dir, 50, 5000, 3) // two archives kept: most of it pruned

	ctx := context.Background()
	o := Origin{Host: "testhost", Name: "svc", Dir: dir}
	sink, err := Open(ctx, url, o, SinkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	st, err := OpenState(stateFile)
	if err != nil {
		t.Fatal(err)
	}
	var gaps []*logread.GapError
	s := &Shipper{Dir: dir, Origin: o, Sink: sink, State: st, Warn: func(err error) {
		var g *logread.GapError
		if errors.As(err, &g) {
			gaps = append(gaps, g)
		}
	}}
	if err := s.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if len(gaps) != 1 {
		t.Fatalf("%d gaps said, want 1", len(gaps))
	}
	again, err := OpenState(stateFile)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := again.Get(dir)
	if p.Gaps != 1 || p.LostBytes == 0 && p.LostUnknown == 0 {
		t.Fatalf("state after the gap: %+v", p)
	}
	// What is left was shipped, in order, up to the last line.
	msgs := redisEntries(t, srv.Addr, "logs")
	last := msgs[len(msgs)-1].Values["line"].(string)
	if last != lineText(4999) || !strings.HasPrefix(msgs[50].Values["line"].(string), "line ") {
		t.Fatalf("last line shipped %q", last)
	}
	t.Logf("gap: %v; state: %d gaps, %d bytes lost, %d of unknown size; %d of 5000 lines shipped", gaps[0], p.Gaps, p.LostBytes, p.LostUnknown, len(msgs))
}

// The state file keeps each directory's position across a save and a
// load, and refuses what logship did not write.
func TestStateRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state")
	st, _ := OpenState(path)
	if err := st.Save(`/var/log/a "b"`, Position{Seq: 42, MS: 1764900000123, Gaps: 1, LostBytes: 4096, LostUnknown: 1}); err != nil {
		t.Fatal(err)
	}
	if err := st.Save("/var/log/c", Position{Seq: 7}); err != nil {
		t.Fatal(err)
	}
	again, err := OpenState(path)
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := again.Get(`/var/log/a "b"`); !ok || p.Seq != 42 || p.MS != 1764900000123 || p.Gaps != 1 || p.LostBytes != 4096 || p.LostUnknown != 1 {
		t.Fatalf("got %+v", p)
	}
	if p, ok := again.Get("/var/log/c"); !ok || p.Seq != 7 {
		t.Fatalf("got %+v", p)
	}
	bad := filepath.Join(t.TempDir(), "bad")
	writeFile(t, bad, "taikit-rotate-cursor 1\nafter -\n")
	if _, err := OpenState(bad); !errors.Is(err, ErrStateSyntax) {
		t.Fatalf("a logcat cursor as state: %v", err)
	}
}
