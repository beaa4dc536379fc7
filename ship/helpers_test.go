package ship

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	osexec "os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/taikit/taikit/internal/testref"
	"github.com/taikit/taikit/rotate"
	"github.com/taikit/taikit/tai64n"
)

// writeDir writes lines from..to-1 into a log directory with small files
// and gzip-compressed archives, stamped from a fixed time a millisecond
// apart.
func writeDir(t *testing.T, dir string, from, to int) {
	t.Helper()
	writeDirKeep(t, dir, from, to, 10000)
}

// writeDirKeep is writeDir with retention: keep-1 archives.
func writeDirKeep(t *testing.T, dir string, from, to, keep int) {
	t.Helper()
	w, err := rotate.Open(dir, rotate.Options{MaxSize: 4096, Keep: keep,
		Compression: rotate.Compression{Method: rotate.Gzip}})
	if err != nil {
		t.Fatal(err)
	}
	var b []byte
	for i := from; i < to; i++ {
		b = tai64n.FromUnix(1764900000+int64(i/1000), uint32(i%1000)*1e6, tai64n.Daemontools).Append(b[:0])
		b = fmt.Appendf(b, " %s\n", lineText(i))
		if _, err := w.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func lineText(i int) string { return fmt.Sprintf("line %06d %s", i, strings.Repeat("x", i%37)) }

// shipOnce ships dir once with the sink the URL names, its state in the
// file given.
func shipOnce(t *testing.T, url, dir, stateFile string) *Shipper {
	t.Helper()
	return shipOnceWith(t, url, dir, stateFile, SinkOptions{})
}

func shipOnceWith(t *testing.T, url, dir, stateFile string, opts SinkOptions) *Shipper {
	t.Helper()
	s, _ := shipAs(t, url, Origin{Host: "testhost", Name: "svc", Dir: dir}, stateFile, opts)
	return s
}

// shipAs ships o's directory once as origin o and returns the Shipper with
// the warnings it gave.
func shipAs(t *testing.T, url string, o Origin, stateFile string, opts SinkOptions) (*Shipper, []error) {
	t.Helper()
	ctx := context.Background()
	dir := o.Dir
	sink, err := Open(ctx, url, o, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	st, err := OpenState(stateFile)
	if err != nil {
		t.Fatal(err)
	}
	var warnings []error
	s := &Shipper{Dir: dir, Origin: o, Sink: sink, State: st, URL: url,
		Warn: func(err error) {
			t.Logf("warning: %v", err)
			warnings = append(warnings, err)
		}}
	if err := s.Run(ctx); err != nil {
		t.Fatal(err)
	}
	return s, warnings
}

// heldSaid sums what the warnings said was held (*Resent).
func heldSaid(warnings []error) int {
	n := 0
	for _, w := range warnings {
		var r *Resent
		if errors.As(w, &r) {
			n += r.Held
		}
	}
	return n
}

// natsRecord is a message of the stream as logship writes it.
type natsRecord struct {
	Time, TAI64N, Line, Host, Name, Dir, Key string
	Seq                                      uint64
	Part                                     int
	More                                     bool
}

// natsMessages returns the messages of the stream that captures subject,
// in the stream's order.
func natsMessages(t *testing.T, addr, subject string) []natsRecord {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	nc, err := nats.Connect("nats://" + addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	name, err := js.StreamNameBySubject(ctx, subject)
	if err != nil {
		t.Fatal(err)
	}
	st, err := js.Stream(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var recs []natsRecord
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if err != nil {
			t.Fatalf("message %d: %v", seq, err)
		}
		var r natsRecord
		if err := json.Unmarshal(m.Data, &r); err != nil {
			t.Fatalf("message %d: %v: %s", seq, err, m.Data)
		}
		if id := m.Header.Get(jetstream.MsgIDHeader); id != r.Key {
			t.Fatalf("message %d: Nats-Msg-Id %q, key %q", seq, id, r.Key)
		}
		recs = append(recs, r)
	}
	return recs
}

// checkLines says what is wrong with the lines received against the lines
// 0..n-1 in order: missing, doubled, out of order.
func checkLines(t *testing.T, got []string, n int) {
	t.Helper()
	seen := map[string]int{}
	for _, g := range got {
		seen[g]++
	}
	missing, doubled := 0, 0
	for i := range n {
		switch c := seen[lineText(i)]; {
		case c == 0:
			missing++
		case c > 1:
			doubled += c - 1
		}
	}
	outOfOrder := 0
	last := -1
	for _, g := range got {
		var i int
		fmt.Sscanf(g, "line %d", &i)
		if i < last {
			outOfOrder++
		}
		last = max(last, i)
	}
	if missing+doubled+outOfOrder > 0 || len(got) != n {
		t.Fatalf("%d lines received for %d: %d missing, %d doubled, %d out of order", len(got), n, missing, doubled, outOfOrder)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testref.WaitFor(t, what, cond)
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func exec(tb testing.TB, path string, args ...string) *osexec.Cmd {
	tb.Helper()
	cmd := osexec.Command(path, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd
}
