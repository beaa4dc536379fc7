package ship

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/taikit/taikit/internal/servertest"
)

func redisEntries(t *testing.T, addr, stream string) []redis.XMessage {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	msgs, err := rdb.XRange(context.Background(), stream, "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

// The same as for NATS: each line once, in order, across rotations,
// repeated shipping and a lost state file; the entry IDs are the lines'
// times and numbers.
func TestRedisShipsEachLineOnce(t *testing.T) {
	srv := servertest.Redis(t)
	dir := filepath.Join(t.TempDir(), "log")
	state := filepath.Join(t.TempDir(), "state")
	url := "redis://" + srv.Addr + "/logs:{host}:{name}"
	writeDir(t, dir, 0, 3000)
	shipOnce(t, url, dir, state)
	writeDir(t, dir, 3000, 5000)
	if s := shipOnce(t, url, dir, state); s.Shipped != 2000 {
		t.Fatalf("shipped %d records after 2000 more lines, want 2000", s.Shipped)
	}
	os.Remove(state)
	s, warnings := shipAs(t, url, Origin{Host: "testhost", Name: "svc", Dir: dir}, state, SinkOptions{})
	if s.Shipped != 5000 || s.Held != 5000 || heldSaid(warnings) != 5000 {
		t.Fatalf("shipped %d records from scratch, %d held, %d said held; want 5000 each (refused by the server as held)", s.Shipped, s.Held, heldSaid(warnings))
	}
	msgs := redisEntries(t, srv.Addr, "logs:testhost:svc")
	var lines []string
	for i, m := range msgs {
		lines = append(lines, m.Values["line"].(string))
		if m.Values["key"] != "testhost/svc/"+itoa(i+1) || !strings.HasSuffix(m.ID, "-"+itoa(i+1)) {
			t.Fatalf("entry %d: %s %v", i, m.ID, m.Values)
		}
	}
	checkLines(t, lines, 5000)
	if msgs[1234].ID != "1764900001234-1235" || msgs[1234].Values["time"] != "2025-12-05T02:00:01.234000000Z" {
		t.Errorf("entry 1234: %s %v", msgs[1234].ID, msgs[1234].Values)
	}
}

// A stream another writer adds to would refuse this origin's entries as
// old: that is said, and shipping stops, rather than taken for entries
// held.
func TestRedisRefusesASharedStream(t *testing.T) {
	srv := servertest.Redis(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rdb.Close()
	if err := rdb.XAdd(context.Background(), &redis.XAddArgs{Stream: "shared", ID: "9999999999999-1",
		Values: []any{"line", "someone else's"}}).Err(); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "log")
	writeDir(t, dir, 0, 10)
	ctx := context.Background()
	o := Origin{Host: "testhost", Name: "svc", Dir: dir}
	sink, err := Open(ctx, "redis://"+srv.Addr+"/shared", o, SinkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	st, _ := OpenState("")
	err = (&Shipper{Dir: dir, Origin: o, Sink: sink, State: st}).Run(ctx)
	if !errors.Is(err, ErrPermanent) || !strings.Contains(err.Error(), "another writer adds to it") {
		t.Fatalf("got %v, want a permanent error naming another writer", err)
	}
	if p, _ := st.Get(dir); p.Seq != 0 {
		t.Errorf("position saved at %d records", p.Seq)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
