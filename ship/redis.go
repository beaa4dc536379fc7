package ship

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
)

// redisSink adds records to a Redis stream with XADD and explicit entry
// IDs, "<ms>-<seq>": the record's time in Unix milliseconds (never less
// than the record before) and its number. They only grow, so the stream
// refuses an entry sent again as not newer than its top; the sink then
// checks that the entry under that ID is this record (its key), and
// otherwise stops: another writer adds to the stream, and entries of this
// origin would be refused as well. Give each origin a stream of its own
// ({host}, {name} in the URL).
type redisSink struct {
	url    string
	stream string
	origin Origin
	rdb    *redis.Client
	f      *formatter
	window int
}

// quiet takes go-redis's log, which would print to standard error: a
// library of taikit's prints nothing, and every failure it logs reaches
// the Shipper as an error too.
type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

var quietOnce sync.Once

func openRedis(ctx context.Context, u *url.URL, stream string, o Origin, opts SinkOptions) (Sink, error) {
	quietOnce.Do(func() { redis.SetLogger(quiet{}) })
	if err := o.check(); err != nil {
		return nil, err
	}
	ro := &redis.Options{Addr: u.Host, DialTimeout: opts.timeout(), ReadTimeout: opts.timeout(),
		WriteTimeout: opts.timeout(), MaxRetries: -1, PoolSize: 1, ContextTimeoutEnabled: true,
		// RESP2: the replies are plain, and servers before 6 answer it.
		Protocol: 2, DisableIdentity: true}
	if u.User != nil {
		ro.Username = u.User.Username()
		ro.Password, _ = u.User.Password()
	}
	if opts.Dial != nil {
		ro.Dialer = func(ctx context.Context, network, addr string) (net.Conn, error) {
			return opts.Dial(ctx, network, addr)
		}
	}
	window := opts.Window
	if window <= 0 {
		window = 4096
	}
	s := &redisSink{url: u.Redacted(), stream: stream, origin: o, rdb: redis.NewClient(ro), window: window}
	s.f = newFormatter(&s.origin, 0)
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		s.rdb.Close()
		return nil, fmt.Errorf("unable to connect to %s: %w", s.url, err)
	}
	return s, nil
}

// MaxLine: Redis takes strings of 512 MB; a line is split at 1 MiB to
// keep each entry, and the memory of a batch, reasonable.
func (s *redisSink) MaxLine() int { return 1 << 20 }

func (s *redisSink) id(r *Record) string {
	return strconv.FormatUint(r.MS, 10) + "-" + strconv.FormatUint(r.Seq, 10)
}

func (s *redisSink) Send(ctx context.Context, recs []Record) error {
	for len(recs) > 0 {
		n := min(len(recs), s.window)
		if err := s.send(ctx, recs[:n]); err != nil {
			return err
		}
		recs = recs[n:]
	}
	return nil
}

func (s *redisSink) send(ctx context.Context, recs []Record) error {
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.StringCmd, len(recs))
	for i := range recs {
		r := &recs[i]
		v := []any{"line", r.Line, "host", s.origin.Host, "name", s.origin.Name, "dir", s.origin.Dir,
			"key", r.Key(&s.origin), "seq", r.Seq}
		if r.Stamped {
			if t, ok := s.f.times.Append(nil, r.Stamp); ok {
				v = append(v, "time", t)
			}
			v = append(v, "tai64n", r.Stamp.String())
		}
		if r.Part > 0 {
			v = append(v, "part", r.Part, "more", r.More)
		}
		cmds[i] = pipe.XAdd(ctx, &redis.XAddArgs{Stream: s.stream, ID: s.id(r), Values: v})
	}
	_, err := pipe.Exec(ctx)
	if err == nil {
		return nil
	}
	// Which were refused as not newer than the top, and which failed?
	var held []int
	for i, c := range cmds {
		switch e := c.Err(); {
		case e == nil:
		case strings.Contains(e.Error(), "equal or smaller than the target stream top item"):
			held = append(held, i)
		case isRedisReply(e):
			return permanent(fmt.Errorf("%s refused XADD to %s: %w", s.url, s.stream, e))
		default:
			return fmt.Errorf("no acknowledgement: %w", e)
		}
	}
	return s.checkHeld(ctx, recs, held)
}

// checkHeld makes sure the entries refused are this origin's records, sent
// before: the entry under each ID has the record's key.
func (s *redisSink) checkHeld(ctx context.Context, recs []Record, held []int) error {
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.XMessageSliceCmd, len(held))
	for j, i := range held {
		id := s.id(&recs[i])
		cmds[j] = pipe.XRange(ctx, s.stream, id, id)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("%s did not answer XRANGE on %s: %w", s.url, s.stream, err)
	}
	for j, i := range held {
		msgs := cmds[j].Val()
		if len(msgs) != 1 || msgs[0].Values["key"] != recs[i].Key(&s.origin) {
			return permanent(fmt.Errorf("stream %s on %s has entries newer than %s that are not this origin's (%s): another writer adds to it; give each origin a stream of its own (redis://host:port/logs:{host}:{name})",
				s.stream, s.url, s.id(&recs[i]), recs[i].Key(&s.origin)))
		}
	}
	return nil
}

// isRedisReply tells an error the server answered from a failure to reach
// it.
func isRedisReply(err error) bool {
	_, ok := err.(redis.Error)
	return ok && !strings.HasPrefix(err.Error(), "LOADING") && !strings.HasPrefix(err.Error(), "READONLY") &&
		!strings.HasPrefix(err.Error(), "CLUSTERDOWN") && !strings.HasPrefix(err.Error(), "TRYAGAIN") &&
		!strings.HasPrefix(err.Error(), "MASTERDOWN") && !strings.HasPrefix(err.Error(), "BUSY")
}

func (s *redisSink) Close() error { return s.rdb.Close() }
