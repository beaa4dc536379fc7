package campaign

// Shared helpers: the multilog binary under test, the long/short switch,
// the numbered input stream, the pipe and its feeder, running and
// signalling multilog processes, and reading a log directory back.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"golang.org/x/sys/unix"

	"github.com/taikit/taikit/internal/conformance"
	"github.com/taikit/taikit/internal/testref"
)

// multilogBin is our multilog, built by TestMain from ./cmd/multilog.
var multilogBin string

// refMultilog is daemontools' multilog, compared with where it runs.
const refMultilog = "/usr/bin/multilog"

func TestMain(m *testing.M) {
	// Started in the background (nohup, a non-interactive shell's &), the
	// tests inherit SIGHUP or SIGINT ignored, and so would every multilog
	// they start: the campaign's SIGHUP and SIGINT kills would do nothing.
	// A handler here is reset to the default action by exec.
	for _, sig := range []os.Signal{syscall.SIGHUP, syscall.SIGINT} {
		if signal.Ignored(sig) {
			signal.Notify(make(chan os.Signal, 1), sig)
		}
	}
	dir, err := os.MkdirTemp("", "taikit-campaign-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "campaign: %v\n", err)
		os.Exit(1)
	}
	multilogBin = filepath.Join(dir, "multilog")
	if err := testref.BuildCommands(dir, "multilog"); err != nil {
		fmt.Fprintf(os.Stderr, "campaign: building multilog: %v\n", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := testref.RunTests(m)
	os.RemoveAll(dir)
	os.Exit(code)
}

// long reports whether the long form of the campaign was asked for.
func long() bool { return os.Getenv("TAIKIT_CAMPAIGN") == "long" }

// pick returns short or, in the long form, long.
func pick[T any](short, longValue T) T {
	if long() {
		return longValue
	}
	return short
}

// figure logs one figure of the campaign in a shape .ci/campaign and
// RESULTS.md pick up: "FIGURE <test>: <text>".
func figure(t testing.TB, format string, args ...any) {
	t.Helper()
	t.Logf("FIGURE %s: %s", t.Name(), fmt.Sprintf(format, args...))
}

// campaignSeed returns the seed of a test's random choices, logged so that
// a failure can be replayed with TAIKIT_CAMPAIGN_SEED=<seed>.
func campaignSeed(t testing.TB) int64 {
	t.Helper()
	seed := time.Now().UnixNano()
	if s, err := strconv.ParseInt(os.Getenv("TAIKIT_CAMPAIGN_SEED"), 10, 64); err == nil {
		seed = s
	}
	t.Logf("seed %d (replay with TAIKIT_CAMPAIGN_SEED=%d)", seed, seed)
	return seed
}

// stream is the campaign's input: numbered lines, line n being its number
// in 10 digits, a space, n%47 copies of a letter depending on n, and a
// newline (12–58 bytes). It is computed, never stored: offs holds where
// each line starts (offs[len] is the length of the whole stream).
type stream struct {
	offs []int64
	// A flooded stream (newFloodStream) has floodLen empty lines after
	// every line n with n%floodEvery == floodEvery-1, counted in that
	// line's extent in offs.
	floodEvery, floodLen int
}

func streamLine(dst []byte, n int) []byte {
	dst = fmt.Appendf(dst, "%010d ", n)
	c := byte('a' + (n*7)%26)
	for i := 0; i < n%47; i++ {
		dst = append(dst, c)
	}
	return append(dst, '\n')
}

func newStream(lines int) *stream { return newFloodStream(lines, 0, 0) }

// newFloodStream is newStream with floodLen empty lines after every
// every-th line: a flood, which multilog cuts into pieces of its own
// (Engine.cut), reckoning every line at the longest stamp.
func newFloodStream(lines, every, floodLen int) *stream {
	s := &stream{offs: make([]int64, lines+1), floodEvery: every, floodLen: floodLen}
	var off int64
	for n := 0; n < lines; n++ {
		s.offs[n] = off
		off += int64(12 + n%47 + s.floodAfter(n))
	}
	s.offs[lines] = off
	return s
}

// floodAfter returns how many empty lines follow line n.
func (s *stream) floodAfter(n int) int {
	if s.floodEvery > 0 && n%s.floodEvery == s.floodEvery-1 {
		return s.floodLen
	}
	return 0
}

// empties returns how many empty lines the stream has.
func (s *stream) empties() int {
	if s.floodEvery == 0 {
		return 0
	}
	return s.lines() / s.floodEvery * s.floodLen
}

func (s *stream) lines() int  { return len(s.offs) - 1 }
func (s *stream) size() int64 { return s.offs[len(s.offs)-1] }

// lineAt returns the number of the line holding byte off.
func (s *stream) lineAt(off int64) int {
	return sort.Search(len(s.offs)-1, func(i int) bool { return s.offs[i+1] > off })
}

// ReadAt fills p with the stream's bytes from off.
func (s *stream) ReadAt(p []byte, off int64) (int, error) {
	if off >= s.size() {
		return 0, io.EOF
	}
	n := s.lineAt(off)
	var line []byte
	done := 0
	for done < len(p) && n < s.lines() {
		line = streamLine(line[:0], n)
		for range s.floodAfter(n) {
			line = append(line, '\n')
		}
		skip := int(off + int64(done) - s.offs[n])
		done += copy(p[done:], line[skip:])
		n++
	}
	if done < len(p) {
		return done, io.EOF
	}
	return done, nil
}

// bytesAt returns the stream's bytes [from, to).
func (s *stream) bytesAt(from, to int64) []byte {
	p := make([]byte, to-from)
	s.ReadAt(p, from)
	return p
}

// logPipe is a pipe the test holds both ends of, as svscan holds a log
// service's pipe: multilog processes come and go on its read end while the
// feeder writes numbered lines into it. The write end is non-blocking and
// written under a lock, so that how much of the stream the readers have
// consumed can be known exactly (written − still in the pipe).
type logPipe struct {
	r       *os.File // the read end, given to each multilog as standard input
	rfd     int
	wfd     int // the write end, raw (os.File.Fd would make it blocking)
	in      *stream
	mu      sync.Mutex
	written int64
	limit   atomic.Int64 // the feeder writes no further than this
	closed  bool
	stop    chan struct{}
	done    chan struct{}
	err     error
}

// newLogPipe makes the pipe and starts the feeder, which writes all of in
// in chunks of random sizes; stopFeeding (registered with t.Cleanup too)
// stops it.
func newLogPipe(t testing.TB, in *stream, seed int64) *logPipe {
	t.Helper()
	return newLogPipeHeld(t, in, seed, in.size())
}

// newLogPipeHeld is newLogPipe with the feeder held at byte n from its
// start (see hold): a hold after newLogPipe may come after the feeder's
// first chunk.
func newLogPipeHeld(t testing.TB, in *stream, seed int64, n int64) *logPipe {
	t.Helper()
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	if err := unix.SetNonblock(fds[1], true); err != nil {
		t.Fatal(err)
	}
	p := &logPipe{r: os.NewFile(uintptr(fds[0]), "log pipe"), rfd: fds[0], wfd: fds[1], in: in,
		stop: make(chan struct{}), done: make(chan struct{})}
	p.hold(n)
	go p.feed(seed)
	t.Cleanup(func() {
		p.stopFeeding()
		p.closeWrite()
		p.r.Close()
	})
	return p
}

func (p *logPipe) feed(seed int64) {
	defer close(p.done)
	rnd := newRand(seed)
	buf := make([]byte, 128<<10)
	var off int64
	for off < p.in.size() {
		if off >= p.limit.Load() {
			select {
			case <-p.stop:
				return
			case <-time.After(time.Millisecond):
			}
			continue
		}
		n := min(int64(1+rnd.IntN(len(buf))), p.limit.Load()-off)
		chunk := buf[:n]
		p.in.ReadAt(chunk, off)
		for len(chunk) > 0 {
			p.mu.Lock()
			w, err := unix.Write(p.wfd, chunk)
			if w > 0 {
				p.written += int64(w)
				off += int64(w)
				chunk = chunk[w:]
			}
			p.mu.Unlock()
			if err != nil && !errors.Is(err, unix.EAGAIN) && !errors.Is(err, unix.EINTR) {
				p.err = fmt.Errorf("writing the log pipe: %w", err)
				return
			}
			if errors.Is(err, unix.EAGAIN) {
				// Full: nobody reads (multilog is being restarted) or
				// multilog is slower. Wait for room, looking at stop.
				fds := []unix.PollFd{{Fd: int32(p.wfd), Events: unix.POLLOUT}}
				unix.Poll(fds, 50)
			}
			select {
			case <-p.stop:
				return
			default:
			}
		}
	}
}

// hold makes the feeder stop at byte n of the stream (until allowed on).
func (p *logPipe) hold(n int64) { p.limit.Store(min(n, p.in.size())) }

// fed returns how many bytes of the stream are in the pipe or consumed.
func (p *logPipe) fed() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.written
}

// consumed returns how many bytes of the stream readers took from the pipe.
func (p *logPipe) consumed() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	n, err := unix.IoctlGetInt(p.rfd, unix.TIOCINQ)
	if err != nil {
		panic(fmt.Sprintf("FIONREAD (TIOCINQ) on the log pipe: %v", err))
	}
	return p.written - int64(n)
}

// finished reports whether the feeder wrote the whole stream (or failed).
func (p *logPipe) finished() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *logPipe) stopFeeding() {
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	<-p.done
}

// closeWrite closes the write end: once the pipe is drained the reader
// sees the end of its input.
func (p *logPipe) closeWrite() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.closed {
		p.closed = true
		unix.Close(p.wfd)
	}
}

// proc is a running multilog.
type proc struct {
	cmd     *exec.Cmd
	stderr  *os.File // a file, not a pipe: an orphaned processor may keep it open
	done    chan struct{}
	state   *os.ProcessState
	started time.Time
	ended   time.Time
	readyR  *os.File
}

// procOpts are how to start a multilog.
type procOpts struct {
	prog   string   // multilogBin by default
	dir    string   // working directory
	stdin  *os.File // the log pipe's read end, a file…
	stdout *os.File // nil: /dev/null
	stderr *os.File // nil: a new temporary file
	env    []string
	// ready adds the script word d3 and gives multilog a pipe on
	// descriptor 3, on which it says when its directories are open (and
	// its signal handlers set); awaitReady waits for that.
	ready bool
}

func startProc(t testing.TB, o procOpts, args ...string) *proc {
	t.Helper()
	prog := o.prog
	if prog == "" {
		prog = multilogBin
	}
	cmd := exec.Command(prog, args...)
	cmd.Dir = o.dir
	cmd.Stdin = o.stdin
	if o.stdout != nil {
		cmd.Stdout = o.stdout
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	if o.stderr != nil {
		cmd.Stderr = o.stderr
	} else {
		f, err := os.CreateTemp(t.TempDir(), "stderr-")
		if err != nil {
			t.Fatal(err)
		}
		p.stderr = f
		cmd.Stderr = f
	}
	cmd.Env = os.Environ()
	if len(o.env) > 0 {
		cmd.Env = append(cmd.Env, o.env...)
	}
	if o.ready {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		p.readyR = r
		cmd.ExtraFiles = []*os.File{w}
		cmd.Args = append(cmd.Args, "d3")
	}
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", prog, err)
	}
	go func() { // owned by p: ends when the process does
		cmd.Wait()
		p.ended = time.Now()
		p.state = cmd.ProcessState
		close(p.done)
	}()
	t.Cleanup(func() {
		if !p.exited() {
			cmd.Process.Kill()
			<-p.done
		}
		if p.stderr != nil {
			p.stderr.Close()
		}
		if p.readyR != nil {
			p.readyR.Close()
		}
	})
	return p
}

// awaitReady waits for the readiness newline of a process started with
// ready; it fails the test if the process ends first or takes a minute.
func (p *proc) awaitReady(t testing.TB) {
	t.Helper()
	got := make(chan bool, 1)
	go func() { // ends when multilog writes or closes descriptor 3, or exits
		var b [1]byte
		n, _ := p.readyR.Read(b[:])
		got <- n == 1
	}()
	select {
	case ok := <-got:
		if !ok {
			p.wait(t, time.Minute)
			t.Fatalf("multilog %q ended without saying it was ready: %d; stderr %q", p.cmd.Args[1:], exitCode(p.state), p.errText())
		}
	case <-time.After(time.Minute):
		t.Fatalf("multilog %q not ready within a minute; stderr %q", p.cmd.Args[1:], p.errText())
	}
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// signal sends sig to the process. os.Process signals through a pidfd on
// Linux, so a storm that outlives the process never reaches another one
// that reused its pid.
func (p *proc) signal(sig syscall.Signal) { p.cmd.Process.Signal(sig) }

// wait waits up to limit for the process to end and returns its exit code,
// or minus the signal that killed it; it fails the test after limit.
func (p *proc) wait(t testing.TB, limit time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(limit):
		p.cmd.Process.Kill()
		<-p.done
		t.Fatalf("multilog %q did not end within %v; stderr %q", p.cmd.Args[1:], limit, p.errText())
	}
	return exitCode(p.state)
}

func exitCode(st *os.ProcessState) int {
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return -int(ws.Signal())
	}
	return st.ExitCode()
}

// errText returns what the process wrote on standard error so far.
func (p *proc) errText() string {
	if p.stderr == nil {
		return ""
	}
	b, _ := os.ReadFile(p.stderr.Name())
	return string(b)
}

// dirFile is one file of a log directory, in reading order.
type dirFile struct {
	name string
	data []byte // decompressed (unless read with readLogDirAs(dir, false))
	raw  int64  // size on disk
	mode os.FileMode
}

// readLogDir reads a log directory that was stopped cleanly: the archives
// in name order, then current, decompressed by magic number. Anything else
// but lock and state (previous, processed, newstate, other names) is an
// error: a clean stop leaves none.
func readLogDir(dir string) ([]dirFile, error) { return readLogDirAs(dir, true) }

// readLogDirAs is readLogDir, with unpack false for a directory whose
// script compresses nothing and whose lines may begin with any bytes (a
// binary stream's archive that happens to begin as a gzip stream does
// must be read as it is).
func readLogDirAs(dir string, unpack bool) ([]dirFile, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, de := range des {
		n := de.Name()
		switch {
		case conformance.IsArchiveName(n):
			names = append(names, n)
		case n == "lock" || n == "state" || n == "current":
		case n == "unconsumed": // our multilog's record of the batch in the pipe (multilog.8)
		default:
			return nil, fmt.Errorf("%s: unexpected entry %q after a clean stop", dir, n)
		}
	}
	slices.Sort(names)
	names = append(names, "current")
	var files []dirFile
	for _, n := range names {
		path := filepath.Join(dir, n)
		st, err := os.Lstat(path)
		if err != nil {
			return nil, err
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		data := raw
		if unpack {
			if data, err = decompress(raw); err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
		}
		files = append(files, dirFile{name: n, data: data, raw: int64(len(raw)), mode: st.Mode()})
	}
	return files, nil
}

// decompress returns an archive's data, decompressing gzip and zstd by
// their magic numbers (the kill campaign's lines start with digits, so its
// plain data is never mistaken for either; binary streams are read with
// readLogDirAs).
func decompress(raw []byte) ([]byte, error) {
	switch {
	case bytes.HasPrefix(raw, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, err
		}
		defer dec.Close()
		return dec.DecodeAll(raw, nil)
	case bytes.HasPrefix(raw, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, err
		}
		return io.ReadAll(zr)
	}
	return raw, nil
}

// checkFileCut checks the size contract on a file of a directory written
// with size s: an archive closed by size (.s, or a .u kept from previous)
// passes conformance.CheckCut; one closed early (by a kill, SIGALRM, a
// clean stop) must not have gone past a cut (conformance.CheckOpen).
func checkFileCut(f dirFile, s int) error {
	if len(f.data) == 0 {
		return nil
	}
	cutErr := conformance.CheckCut(f.data, s)
	if cutErr == nil {
		return nil
	}
	if openErr := conformance.CheckOpen(f.data, s); openErr != nil {
		return fmt.Errorf("%s: neither a file closed by size (%v) nor one closed early (%v)", f.name, cutErr, openErr)
	}
	return nil
}

// stderrLines returns the lines of text, without empty ones.
func stderrLines(text string) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

// newRand returns a random source seeded with seed.
func newRand(seed int64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), 0x7a1c17))
}

// percentile returns the p-th percentile (0–100) of ds.
func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}
