package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"

	"github.com/taikit/taikit/internal/servertest"
	"github.com/taikit/taikit/internal/testref"
	"github.com/taikit/taikit/rotate"
)

// The logship suite ships the log directory holding the corpus (the logcat suites' ./d, 16 MB
// archives and current) with `logship --once` to a server that each run's Setup starts on a
// free loopback port from Debian's packages (package servertest, as the tests do), one
// contender per acknowledged sink, beside rsyslog forwarding the same bytes the way a user
// does it today: rsyslogd's imfile reading the file and omrelp sending it to another
// rsyslogd's imrelp. Each run's Cleanup checks that the server holds every line; the
// reference's run ends when the receiving rsyslogd has written the last one. The CPU is the
// shipping side's alone (logship; the forwarding rsyslogd), not the server's.
//
// A run of the reference with rsyslog's default omrelp window takes minutes (some 2,000
// lines/s on the shared 2-core VM), so the reference sets windowSize="1024", logship's RELP
// window. Run it as `go run ./bench -runs 1 -warmup 0 logship`.
func init() {
	ours := func(name string, start func(r *Run, t *benchT) (url string, count func() (int, error))) Contender {
		return Contender{Name: name, Build: "./cmd/logship",
			Args: []string{"--once", "-C", "./state", "-H", "bench", "-n", "svc"},
			Setup: func(r *Run) error {
				dir, err := corpusLogDir(r.Corpus, rotate.Compression{})
				if err != nil {
					return err
				}
				var url string
				var count func() (int, error)
				if err := withServerT(r, func(t *benchT) { url, count = start(r, t) }); err != nil {
					return err
				}
				r.Args, r.Data = []string{url, dir}, count
				return nil
			},
			Cleanup: func(r *Run) error {
				want, err := corpusLines(r.Corpus)
				if err != nil {
					return err
				}
				n, err := r.Data.(func() (int, error))()
				if err != nil {
					return err
				}
				if n != want {
					return fmt.Errorf("the server holds %d lines, want %d", n, want)
				}
				return nil
			},
		}
	}
	suites = append(suites, Suite{
		Name:   "logship",
		Doc:    "logship --once of a log directory holding the corpus to each acknowledged sink vs rsyslog imfile -> omrelp",
		Corpus: stampedLogCorpus,
		Contenders: []Contender{
			ours("nats", func(r *Run, t *benchT) (string, func() (int, error)) {
				srv := servertest.NATS(t)
				return "nats://" + srv.Addr + "/logs.bench", func() (int, error) { return natsCount(srv.Addr, "logs.bench") }
			}),
			ours("redis-always", func(r *Run, t *benchT) (string, func() (int, error)) {
				srv := servertest.Redis(t)
				return "redis://" + srv.Addr + "/logs", func() (int, error) { return redisCount(srv.Addr, "logs") }
			}),
			ours("redis-everysec", func(r *Run, t *benchT) (string, func() (int, error)) {
				srv := servertest.RedisFsync(t, "everysec")
				return "redis://" + srv.Addr + "/logs", func() (int, error) { return redisCount(srv.Addr, "logs") }
			}),
			ours("relp", func(r *Run, t *benchT) (string, func() (int, error)) {
				srv := servertest.RsyslogRELP(t)
				want, _ := corpusLines(r.Corpus)
				// rsyslogd acknowledges what it queued: its output may lag a moment.
				return "relp://" + srv.Addr, func() (int, error) { return waitLines(srv.Out, want) }
			}),
			{
				Name: "rsyslog", Path: "/usr/sbin/rsyslogd",
				Args: []string{"-n", "-f", "./fwd.conf", "-i", "./fwd.pid"},
				Setup: func(r *Run) error {
					var srv *servertest.Rsyslog
					if err := withServerT(r, func(t *benchT) { srv = servertest.RsyslogRELP(t) }); err != nil {
						return err
					}
					want, err := corpusLines(r.Corpus)
					if err != nil {
						return err
					}
					r.Data = &lineCounter{path: srv.Out, want: want}
					// rsyslogd's notices (a worker thread ending…) would go to stderr: they
					// are left out, and its other messages go to the default ruleset, which has no action.
					conf := fmt.Sprintf(`global(workDirectory=%q processInternalMessages="on" internalmsg.severity="warning")
module(load="imfile")
module(load="omrelp")
ruleset(name="fwd") {
	action(type="omrelp" target="127.0.0.1" port=%q windowSize="1024")
}
input(type="imfile" File=%q Tag="svc" freshStartTail="off" ruleset="fwd")
`, r.Dir, srv.Addr[strings.LastIndexByte(srv.Addr, ':')+1:], r.Corpus)
					return os.WriteFile(filepath.Join(r.Dir, "fwd.conf"), []byte(conf), 0o644)
				},
				Until: func(r *Run) (bool, error) { return r.Data.(*lineCounter).done() },
			},
		},
		Ratios: []Ratio{
			{Name: "nats / rsyslog", Of: "nats", To: "rsyslog", Target: 1},
			{Name: "redis-always / rsyslog", Of: "redis-always", To: "rsyslog", Target: 1},
			{Name: "redis-everysec / rsyslog", Of: "redis-everysec", To: "rsyslog", Target: 1},
			{Name: "relp / rsyslog", Of: "relp", To: "rsyslog", Target: 1},
		},
	})
}

// benchT is what package servertest needs of a test, for a run: Fatal ends the server's start
// by a panic that withServerT turns into an error; Cleanup's functions run when the run ends.
type benchT struct {
	r   *Run
	dir string
}

type benchFatal struct{ msg string }

func (t *benchT) Helper()                           {}
func (t *benchT) Fatal(args ...any)                 { panic(benchFatal{fmt.Sprint(args...)}) }
func (t *benchT) Fatalf(format string, args ...any) { panic(benchFatal{fmt.Sprintf(format, args...)}) }
func (t *benchT) Skipf(format string, args ...any)  { panic(benchFatal{fmt.Sprintf(format, args...)}) }
func (t *benchT) Cleanup(f func())                  { t.r.Defer(f) }

func (t *benchT) TempDir() string {
	d, err := os.MkdirTemp(t.dir, "server-")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// withServerT runs f, which starts servers with package servertest, and returns what made it
// fail. The servers stop when the run ends.
func withServerT(r *Run, f func(t *benchT)) (err error) {
	// Beside the run's directory, not in it: the contender's working directory starts empty.
	dir := r.Dir + ".servers"
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	r.Defer(func() { os.RemoveAll(dir) })
	defer func() {
		if p := recover(); p != nil {
			f, ok := p.(benchFatal)
			if !ok {
				panic(p)
			}
			err = errors.New(f.msg)
		}
	}()
	f(&benchT{r: r, dir: dir})
	return nil
}

// corpusLines counts the corpus file's lines (once per file).
func corpusLines(corpus string) (int, error) {
	expectMu.Lock()
	e, ok := expectCache["lines\x00"+corpus]
	expectMu.Unlock()
	if ok {
		return e.lines, nil
	}
	b, err := os.ReadFile(corpus)
	if err != nil {
		return 0, err
	}
	n := bytes.Count(b, []byte{'\n'})
	expectMu.Lock()
	expectCache["lines\x00"+corpus] = logExpectation{lines: n}
	expectMu.Unlock()
	return n, nil
}

// lineCounter counts the lines of a file as it grows, reading only what is new; it gives up
// when no line came for testref.Patience.
type lineCounter struct {
	path     string
	want     int
	off      int64
	lines    int
	buf      []byte
	progress time.Time
}

func (c *lineCounter) done() (bool, error) {
	if c.progress.IsZero() {
		c.progress = time.Now()
	}
	if time.Since(c.progress) > testref.Patience {
		return false, fmt.Errorf("%s has held %d lines of %d for %v", c.path, c.lines, c.want, testref.Patience)
	}
	f, err := os.Open(c.path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	if c.buf == nil {
		c.buf = make([]byte, 1<<20)
	}
	for {
		n, err := f.ReadAt(c.buf, c.off)
		c.lines += bytes.Count(c.buf[:n], []byte{'\n'})
		c.off += int64(n)
		if n > 0 {
			c.progress = time.Now()
		}
		if err == io.EOF {
			return c.lines >= c.want, nil
		}
		if err != nil {
			return false, err
		}
	}
}

// waitLines waits until the file at path has want lines (or none came for testref.Patience),
// and returns how many it has.
func waitLines(path string, want int) (int, error) {
	c := &lineCounter{path: path, want: want}
	for {
		ok, err := c.done()
		if ok || err != nil {
			return c.lines, err
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func redisCount(addr, stream string) (int, error) {
	rdb := redis.NewClient(&redis.Options{Addr: addr, Protocol: 2, DisableIdentity: true})
	defer rdb.Close()
	n, err := rdb.XLen(context.Background(), stream).Result()
	return int(n), err
}

func natsCount(addr, subject string) (int, error) {
	nc, err := nats.Connect("nats://" + addr)
	if err != nil {
		return 0, err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return 0, err
	}
	ctx := context.Background()
	name, err := js.StreamNameBySubject(ctx, subject)
	if err != nil {
		return 0, err
	}
	st, err := js.Stream(ctx, name)
	if err != nil {
		return 0, err
	}
	info, err := st.Info(ctx)
	if err != nil {
		return 0, err
	}
	return int(info.State.Msgs), nil
}
