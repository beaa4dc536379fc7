package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"

	"github.com/taikit/taikit/internal/servertest"
	"github.com/taikit/taikit/internal/testref"
	"github.com/taikit/taikit/rotate"
	"github.com/taikit/taikit/tai64n"
)

func TestMain(m *testing.M) { testref.TestMainOr(m, main) }

// ourMultilog builds cmd/multilog once: the writer of the directories
// shipped.
func ourMultilog(t *testing.T) string { return testref.Ours(t, "multilog") }

// writer is our multilog writing a log directory from lines the test
// feeds.
type writer struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	dir string
}

func startWriter(t *testing.T, script ...string) *writer {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "log")
	cmd := exec.Command(ourMultilog(t), append(script, dir)...)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w := &writer{cmd: cmd, in: in, dir: dir}
	t.Cleanup(func() { w.in.Close(); w.cmd.Process.Kill(); w.cmd.Wait() })
	testref.WaitFor(t, "the log directory", func() bool {
		_, err := os.Stat(filepath.Join(dir, "current"))
		return err == nil
	})
	return w
}

func lineText(i int) string { return fmt.Sprintf("line %06d %s", i, strings.Repeat("y", i%50)) }

func (w *writer) lines(t *testing.T, from, to int) {
	t.Helper()
	bw := bufio.NewWriterSize(w.in, 64<<10)
	for i := from; i < to; i++ {
		fmt.Fprintln(bw, lineText(i))
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
}

func (w *writer) finish(t *testing.T) {
	t.Helper()
	w.in.Close()
	if err := w.cmd.Wait(); err != nil {
		t.Fatalf("multilog: %v", err)
	}
}

// shipper is logship running as a process, its standard error in a file.
type shipper struct {
	cmd    *exec.Cmd
	errOut string
	done   chan struct{}
}

func startShipper(t *testing.T, args ...string) *shipper {
	t.Helper()
	errOut := filepath.Join(t.TempDir(), "stderr")
	f, err := os.Create(errOut)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(testref.Self(t), args...)
	// Killed while saving its state, logship leaves the file it was
	// writing in $TMPDIR (renameio writes there when it can, then renames):
	// in the test's, it goes with it.
	cmd.Env = testref.Environ(testref.BeCommand, "TMPDIR="+t.TempDir())
	cmd.Stderr = f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &shipper{cmd: cmd, errOut: errOut, done: make(chan struct{})}
	go func() { cmd.Wait(); close(s.done) }()
	t.Cleanup(func() { cmd.Process.Kill(); <-s.done })
	return s
}

func (s *shipper) stderr() string {
	b, _ := os.ReadFile(s.errOut)
	return string(b)
}

func (s *shipper) kill(t *testing.T) {
	s.cmd.Process.Signal(syscall.SIGKILL)
	testref.Receive(t, "logship to die", s.done)
}

// store is a server logship ships to, as the tests see it.
type store struct {
	name  string
	srv   *servertest.Server
	url   string
	exact bool // the server deduplicates: exactly once
	// unacked: the protocol has no acknowledgement (syslog over TCP): what
	// the server's TCP took and the server had not yet handled when it
	// stopped is lost, as logship.8 says, and cannot be resent.
	unacked bool
	count   func(t *testing.T) int
	lines   func(t *testing.T) []string // the lines received, in order
}

func natsStore(t *testing.T) *store {
	srv := servertest.NATS(t)
	const subject = "logs.kill"
	stream := func(t *testing.T) (jetstream.Stream, func()) {
		nc, err := nats.Connect("nats://" + srv.Addr)
		if err != nil {
			t.Fatal(err)
		}
		js, _ := jetstream.New(nc)
		ctx := context.Background()
		name, err := js.StreamNameBySubject(ctx, subject)
		if err != nil {
			nc.Close()
			return nil, nil
		}
		st, err := js.Stream(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		return st, nc.Close
	}
	return &store{name: "nats", srv: srv, url: "nats://" + srv.Addr + "/" + subject, exact: true,
		count: func(t *testing.T) int {
			st, done := stream(t)
			if st == nil {
				return 0
			}
			defer done()
			info, err := st.Info(context.Background())
			if err != nil {
				return 0 // a server restarting
			}
			return int(info.State.Msgs)
		},
		lines: func(t *testing.T) []string {
			st, done := stream(t)
			defer done()
			info, _ := st.Info(context.Background())
			var lines []string
			for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
				m, err := st.GetMsg(context.Background(), seq)
				if err != nil {
					t.Fatal(err)
				}
				var r struct{ Line string }
				json.Unmarshal(m.Data, &r)
				lines = append(lines, r.Line)
			}
			return lines
		}}
}

func redisStore(t *testing.T) *store {
	srv := servertest.Redis(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1})
	t.Cleanup(func() { rdb.Close() })
	return &store{name: "redis", srv: srv, url: "redis://" + srv.Addr + "/logs", exact: true,
		count: func(t *testing.T) int {
			n, _ := rdb.XLen(context.Background(), "logs").Result()
			return int(n)
		},
		lines: func(t *testing.T) []string {
			msgs, err := rdb.XRange(context.Background(), "logs", "-", "+").Result()
			if err != nil {
				t.Fatal(err)
			}
			var lines []string
			for _, m := range msgs {
				lines = append(lines, m.Values["line"].(string))
			}
			return lines
		}}
}

func relpStore(t *testing.T) *store {
	r := servertest.RsyslogRELP(t)
	lines := func(t *testing.T) []string {
		var lines []string
		for _, l := range r.Received() {
			_, msg, _ := strings.Cut(l, "] ")
			lines = append(lines, msg)
		}
		return lines
	}
	return &store{name: "relp", srv: r.Server, url: "relp://" + r.Addr,
		count: func(t *testing.T) int { return len(r.Received()) }, lines: lines}
}

// tally compares the lines received with lines 0..n-1: the first receipt
// of each line must come in order, none missing; doubled counts the
// receipts after the first.
func tally(t *testing.T, got []string, n int) (doubled int) {
	t.Helper()
	seen := map[string]bool{}
	next := 0
	for _, g := range got {
		if seen[g] {
			doubled++
			continue
		}
		seen[g] = true
		if next >= n || g != lineText(next) {
			t.Fatalf("received %q where %q was due (%d received in order before it)", g, lineText(next), next)
		}
		next++
	}
	if next != n {
		t.Fatalf("%d lines of %d received: the rest were lost", next, n)
	}
	return doubled
}

func syslogStore(t *testing.T) *store {
	r := servertest.RsyslogTCP(t, nil)
	s := relpStore(t)
	s.name, s.srv, s.url, s.unacked = "syslog+tcp", r.Server, "syslog+tcp://"+r.Addr, true
	s.count = func(t *testing.T) int { return len(r.Received()) }
	s.lines = func(t *testing.T) []string {
		var lines []string
		for _, l := range r.Received() {
			_, msg, _ := strings.Cut(l, "] ")
			lines = append(lines, msg)
		}
		return lines
	}
	return s
}

var stores = []struct {
	name string
	make func(*testing.T) *store
}{{"nats", natsStore}, {"redis", redisStore}, {"relp", relpStore}, {"syslog+tcp", syslogStore}}

// logship killed -9 at random moments while multilog writes and rotates
// (small files, gzip-compressed by a processor): each time it starts
// again from its state file. At the end every line is on the server, in
// order; NATS and Redis hold each exactly once; RELP's duplicates (what
// was in flight at a kill) are counted.
func TestKilledAtRandomNothingLost(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			s := st.make(t)
			w := startWriter(t, "t", "s4096", "n10000", "!gzip")
			state := filepath.Join(t.TempDir(), "state")
			// TAIKIT_LOGSHIP_KILLS=n runs n rounds instead of 12, for the
			// README's figures.
			rounds, per := 12, 1500
			if n, err := strconv.Atoi(os.Getenv("TAIKIT_LOGSHIP_KILLS")); err == nil && n > 0 {
				rounds = n
			}
			rng := rand.New(rand.NewPCG(uint64(os.Getpid()), 15))
			kills := 0
			for round := range rounds {
				w.lines(t, round*per, (round+1)*per)
				p := startShipper(t, "-C", state, "-H", "testhost", "-n", "svc", s.url, w.dir)
				// Somewhere between what the server had and all written so
				// far; 0 kills it at once, perhaps before it connected.
				before := s.count(t)
				target := before + rng.IntN((round+1)*per-before+1)
				testref.WaitFor(t, fmt.Sprintf("the server to hold %d records", target), func() bool {
					select {
					case <-p.done:
						t.Fatalf("logship exited: %s", p.stderr())
					default:
					}
					return s.count(t) >= target
				})
				p.kill(t)
				kills++
			}
			w.finish(t)
			total := rounds * per
			p := startShipper(t, "--once", "-C", state, "-H", "testhost", "-n", "svc", s.url, w.dir)
			<-p.done
			if code := p.cmd.ProcessState.ExitCode(); code != 0 {
				t.Fatalf("logship --once exited %d: %s", code, p.stderr())
			}
			var got []string
			testref.WaitFor(t, "the server to hold every line", func() bool {
				got = s.lines(t)
				return len(got) >= total
			})
			doubled := tally(t, got, total)
			t.Logf("%s: %d lines, %d kills -9: 0 lost, %d doubled, 0 out of order", s.name, total, kills, doubled)
			if s.exact && doubled > 0 {
				t.Fatalf("%d lines doubled on a server that deduplicates", doubled)
			}
			// Elsewhere, what was acknowledged after the last save: at
			// most a batch (logship's default, 16384) per kill.
			if doubled > kills*16384 {
				t.Fatalf("%d lines doubled in %d kills: more than a batch each", doubled, kills)
			}
		})
	}
}

// The server stopped mid-stream and started again: logship says once that
// it cannot ship, retries with backoff, says when the server is back and
// how long it was away, and every line arrives.
func TestServerRestartedNothingLost(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			s := st.make(t)
			w := startWriter(t, "t", "s4096", "n10000")
			state := filepath.Join(t.TempDir(), "state")
			p := startShipper(t, "-C", state, "-H", "testhost", "-n", "svc", s.url, w.dir)
			w.lines(t, 0, 3000)
			testref.WaitFor(t, "the server to hold 1000 lines", func() bool { return s.count(t) >= 1000 })
			s.srv.Stop()
			w.lines(t, 3000, 6000)
			testref.WaitFor(t, "logship to say the server is away", func() bool {
				return strings.Contains(p.stderr(), "unable to ship to "+s.url)
			})
			s.srv.Start()
			testref.WaitFor(t, "logship to say the server is back", func() bool {
				return strings.Contains(p.stderr(), s.url+" is back after ")
			})
			var got []string
			if s.unacked {
				// Lines shipped before the stop may have been taken by the
				// server's TCP and never handled; every line written after
				// it is shipped once the server is back, and must arrive.
				testref.WaitFor(t, "the server to hold lines 3000-5999", func() bool {
					got = s.lines(t)
					return len(got) > 0 && got[len(got)-1] == lineText(5999)
				})
				have := map[string]bool{}
				for _, g := range got {
					have[g] = true
				}
				lost := 0
				for i := range 6000 {
					switch {
					case have[lineText(i)]:
					case i >= 3000:
						t.Fatalf("line %d, written after the server stopped, never arrived", i)
					default:
						lost++
					}
				}
				p.cmd.Process.Signal(syscall.SIGTERM)
				testref.Receive(t, "logship to exit on SIGTERM", p.done)
				if code := p.cmd.ProcessState.ExitCode(); code != 0 {
					t.Fatalf("logship exited %d on SIGTERM: %s", code, p.stderr())
				}
				t.Logf("%s: %d lines shipped before the stop lost with the server (no acknowledgement in the protocol); logship said:\n%s", s.name, lost, p.stderr())
				return
			}
			testref.WaitFor(t, "the server to hold 6000 lines", func() bool {
				got = s.lines(t)
				return len(got) >= 6000
			})
			p.cmd.Process.Signal(syscall.SIGTERM)
			testref.Receive(t, "logship to exit on SIGTERM", p.done)
			if code := p.cmd.ProcessState.ExitCode(); code != 0 {
				t.Fatalf("logship exited %d on SIGTERM: %s", code, p.stderr())
			}
			doubled := tally(t, got, 6000)
			if s.exact && doubled > 0 {
				t.Fatalf("%d lines doubled", doubled)
			}
			if n := strings.Count(p.stderr(), "unable to ship"); n != 1 {
				t.Errorf("%d warnings for one outage:\n%s", n, p.stderr())
			}
			t.Logf("%s: %d doubled; logship said:\n%s", s.name, doubled, p.stderr())
		})
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// With --once, exit 3 says that this run met data pruned before it was
// shipped, not that some run ever did: the runs after it, with nothing
// pruned meanwhile, exit 0 (the state file still counts the gap).
func TestOnceExitsThreeForThisRunsGapOnly(t *testing.T) {
	s := redisStore(t)
	dir := filepath.Join(t.TempDir(), "log")
	stateFile := filepath.Join(t.TempDir(), "state")
	write := func(from, to, keep int) {
		t.Helper()
		w, err := rotate.Open(dir, rotate.Options{MaxSize: 4096, Keep: keep})
		if err != nil {
			t.Fatal(err)
		}
		var b []byte
		for i := from; i < to; i++ {
			b = tai64n.FromUnix(1764900000+int64(i), 0, tai64n.Daemontools).Append(b[:0])
			b = fmt.Appendf(b, " %s\n", lineText(i))
			if _, err := w.Write(b); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	run := func() (int, string) {
		t.Helper()
		p := startShipper(t, "--once", "-C", stateFile, "-H", "h", "-n", "svc", s.url, dir)
		testref.Receive(t, "logship --once to end", p.done)
		return p.cmd.ProcessState.ExitCode(), p.stderr()
	}
	write(0, 100, 1000)
	if code, errs := run(); code != 0 {
		t.Fatalf("first run: exit %d: %s", code, errs)
	}
	write(100, 3000, 2) // most of it pruned before the next run
	if code, errs := run(); code != 3 || !strings.Contains(errs, "pruned") && !strings.Contains(errs, "gap") {
		t.Fatalf("the run that met the gap: exit %d, stderr %q", code, errs)
	}
	if code, errs := run(); code != 0 {
		t.Errorf("a run with nothing new: exit %d: %s", code, errs)
	}
	write(3000, 3100, 1000)
	if code, errs := run(); code != 0 {
		t.Errorf("a run with new lines and nothing pruned: exit %d: %s", code, errs)
	}
}
