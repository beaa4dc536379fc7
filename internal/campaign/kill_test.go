package campaign

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/taikit/taikit/internal/testref"
	"github.com/taikit/taikit/logread"
)

// killVariant is one kill campaign: a script and its sizes.
type killVariant struct {
	name  string
	args  []string // the script, writing ./d
	s     int      // the s of the script, for the size contract
	lines int      // lines in the stream
	kills int      // SIGKILLs
	other int      // SIGHUPs and SIGINTs besides (they kill multilog too)
	ref   bool     // daemontools' multilog understands the script: run it too
	env   []string // for our multilog, besides the test's own
	// A flood of floodLen empty lines after every floodEvery-th line
	// (none when 0).
	floodEvery, floodLen int
}

func killVariants() []killVariant {
	plain := []string{"s16384", "n1000000", "./d"}
	vs := []killVariant{
		{name: "plain", args: plain, s: 16384, lines: pick(100_000, 5_000_000), kills: pick(10, 110), other: pick(2, 20), ref: true},
		{name: "gzip processor", args: []string{"s8192", "n1000000", "!gzip", "./d"}, s: 8192,
			lines: pick(10_000, 100_000), kills: pick(6, 40), other: pick(1, 5), ref: true},
		{name: "zstd built-in", args: []string{"s16384", "n1000000", "z", "./d"}, s: 16384,
			lines: pick(100_000, 2_000_000), kills: pick(8, 60), other: pick(1, 6)},
		// With two processors multilog writes a pipe's batches on the
		// engine's thread; with more, a writer thread writes one batch while
		// the next is taken, and the pipe holds both (stage.go): the same
		// kills on that path.
		{name: "plain writer thread", args: plain, s: 16384,
			lines: pick(50_000, 1_000_000), kills: pick(6, 40), other: pick(1, 5), env: []string{"GOMAXPROCS=4"}},
		// Floods of empty lines: multilog cuts a batch whose output could
		// outgrow 4 MiB into pieces, each with its record and its consume.
		{name: "floods", args: plain, s: 16384, lines: pick(20_000, 200_000), kills: pick(6, 40), other: pick(1, 5), ref: true,
			floodEvery: 2000, floodLen: 300_000},
	}
	if long() {
		vs = append(vs, killVariant{name: "cat processor", args: []string{"s4096", "n1000000", "!cat", "./d"}, s: 4096,
			lines: 60_000, kills: 40, other: 5, ref: true})
	}
	return vs
}

// killEvent is one end of a multilog process the campaign causes.
type killEvent struct {
	sig     syscall.Signal
	startup bool  // sent 0–3 ms after the start: aims at crash recovery
	at      int64 // otherwise sent once the feeder has written this far
}

func killSchedule(v killVariant, size int64, seed int64) []killEvent {
	r := newRand(seed)
	var evs []killEvent
	for i := 0; i < v.kills+v.other; i++ {
		e := killEvent{sig: syscall.SIGKILL, at: r.Int64N(size)}
		if i >= v.kills {
			e.sig = []syscall.Signal{syscall.SIGHUP, syscall.SIGINT}[i%2]
		}
		e.startup = r.IntN(5) == 0
		evs = append(evs, e)
	}
	slices.SortFunc(evs, func(a, b killEvent) int { return int(a.at - b.at) })
	return evs
}

// TestKill9 kills multilog at random moments while a stream of numbered
// lines flows through a pipe the test holds, restarting it each time on
// the same directory and pipe, as svscan and supervise would. Our
// multilog takes from the pipe only what is in the directory, and the
// next one writes of the batch a kill cut only what the directory's
// "unconsumed" record says it lacks (issue 14): afterwards every line is
// there, once, whole and in order — none lost, doubled, torn or out of
// order. Every file keeps the size contract. daemontools' multilog runs the same stream with the same kills
// in the same test, and its figures are reported beside ours.
func TestKill9(t *testing.T) {
	for _, v := range killVariants() {
		t.Run(strings.ReplaceAll(v.name, " ", "_"), func(t *testing.T) {
			seed := campaignSeed(t)
			ours := killCampaign(t, v, multilogBin, seed)
			ref := "daemontools: not run (the script uses taikit's z)"
			if v.env != nil {
				ref = "daemontools: not run (the variant is about taikit's threads)"
			}
			if v.ref {
				if _, err := os.Stat(refMultilog); err != nil {
					ref = "daemontools: not installed (" + refMultilog + "; apt-get install daemontools)"
				} else {
					ref = killCampaign(t, v, refMultilog, seed).String()
				}
			}
			figure(t, "%s: %d lines, %d SIGKILL + %d SIGHUP/SIGINT; %s; %s",
				strings.Join(v.args, " "), v.lines, v.kills, v.other, ours, ref)
		})
	}
}

// killFigures is what one program made of a kill campaign.
type killFigures struct {
	prog                              string
	lost, duplicated, reordered, torn int
	files                             int
	took                              time.Duration
}

func (f killFigures) String() string {
	name := "daemontools"
	if f.prog == multilogBin {
		name = "taikit"
	}
	return fmt.Sprintf("%s: lost %d, duplicated %d, reordered %d, torn %d lines; %d files; %v",
		name, f.lost, f.duplicated, f.reordered, f.torn, f.files, f.took.Round(time.Millisecond))
}

// ambiguousRestarts counts the warnings of restarts that could not tell
// whether the killed multilog had removed its last batch from the pipe,
// and the bytes they logged again for it.
type ambiguousRestarts struct {
	n     int
	bytes int64
}

// ambiguousWarning is the beginning of that warning; the batch's length follows.
const ambiguousWarning = "multilog: warning: the pipe begins with the "

// add counts stderr if it is nothing but such warnings, and reports whether it was.
func (a *ambiguousRestarts) add(stderr string) bool {
	var n int
	var b int64
	for _, l := range strings.Split(strings.TrimSuffix(stderr, "\n"), "\n") {
		rest, ok := strings.CutPrefix(l, ambiguousWarning)
		var k int64
		if _, err := fmt.Sscanf(rest, "%d bytes a killed multilog had written to every directory", &k); !ok || err != nil {
			return false
		}
		n, b = n+1, b+k
	}
	a.n, a.bytes = a.n+n, a.bytes+b
	return true
}

func (a ambiguousRestarts) String() string {
	return fmt.Sprintf("%d restarts unsure whether a batch was removed, %d bytes logged again", a.n, a.bytes)
}

// instanceRun is what one multilog process of a campaign did.
type instanceRun struct {
	ev       killEvent
	final    bool          // the last process, which reads to the end of the input
	from, to int64         // what the pipe lost while it ran: what it consumed
	up       time.Duration // from start to signal
}

// killCampaign runs one campaign with prog and returns its figures. With
// our multilog it fails the test on any line lost, torn or out of order.
func killCampaign(t *testing.T, v killVariant, prog string, seed int64) killFigures {
	began := time.Now()
	in := newFloodStream(v.lines, v.floodEvery, v.floodLen)
	work := t.TempDir()
	dir := filepath.Join(work, "d")
	pipe := newLogPipe(t, in, seed)
	r := newRand(seed + 1)

	var runs []instanceRun
	var from int64
	var unsure ambiguousRestarts
	for i, ev := range killSchedule(v, in.size(), seed) {
		p := startProc(t, procOpts{prog: prog, dir: work, stdin: pipe.r, env: v.env}, v.args...)
		if ev.startup {
			time.Sleep(time.Duration(r.IntN(3000)) * time.Microsecond)
		} else {
			deadline := time.Now().Add(5 * time.Minute)
			for pipe.fed() < ev.at && !p.exited() && !pipe.finished() {
				if time.Now().After(deadline) {
					t.Fatalf("kill %d: the stream did not reach byte %d in 5 minutes (at %d)", i, ev.at, pipe.fed())
				}
				time.Sleep(200 * time.Microsecond)
			}
		}
		up := time.Since(p.started)
		p.signal(ev.sig)
		select {
		case <-p.done:
		case <-time.After(time.Minute):
			t.Fatalf("kill %d (%v, %s after the start, start-up kill %v): multilog still runs a minute later; stderr %q",
				i, ev.sig, up, ev.startup, p.errText())
		}
		if code := p.wait(t, time.Minute); code != -int(ev.sig) {
			t.Fatalf("kill %d: multilog ended with %d before %v reached it (the directory could not be recovered?); stderr %q",
				i, code, ev.sig, p.errText())
		}
		if e := p.errText(); e != "" && !unsure.add(e) {
			t.Errorf("kill %d: multilog said %q", i, e)
		}
		// A processor the killed process was starting holds a copy of its
		// descriptors, the lock's among them, until it executes, which
		// under load may be after the next multilog tried the lock (and
		// gave up, as multilog does). supervise waits a second before a
		// restart; the campaign waits for the lock.
		testref.WaitFor(t, "the killed multilog's lock to be free", func() bool { return lockFree(filepath.Join(dir, "lock")) })
		to := pipe.consumed()
		runs = append(runs, instanceRun{ev: ev, from: from, to: to, up: up})
		from = to
	}

	// The last process reads the stream to its end and stops cleanly.
	p := startProc(t, procOpts{prog: prog, dir: work, stdin: pipe.r, env: v.env}, v.args...)
	for !pipe.finished() {
		if p.exited() {
			t.Fatalf("the last multilog ended before the end of its input: %d; stderr %q", exitCode(p.state), p.errText())
		}
		time.Sleep(time.Millisecond)
	}
	if pipe.err != nil {
		t.Fatal(pipe.err)
	}
	pipe.closeWrite()
	if code := p.wait(t, 5*time.Minute); code != 0 || p.errText() != "" && !unsure.add(p.errText()) {
		t.Fatalf("the last multilog exited %d; stderr %q", code, p.errText())
	}
	if c := pipe.consumed(); c != in.size() {
		t.Fatalf("the pipe was consumed up to %d bytes of %d", c, in.size())
	}
	runs = append(runs, instanceRun{final: true, from: from, to: in.size()})
	fed := time.Since(began)

	files, err := readLogDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	lc := countLines(files, in)
	got := killFigures{prog: prog, lost: lc.missing, duplicated: lc.duplicated, reordered: lc.reordered,
		torn: lc.pieces, files: len(files), took: fed}
	if prog != multilogBin {
		t.Logf("%s: %s", prog, got)
		return got
	}
	for _, f := range files {
		if err := checkFileCut(f, v.s); err != nil {
			t.Errorf("size contract: %v", err)
		}
		if strings.HasSuffix(f.name, ".s") && f.mode.Perm() != 0o744 {
			t.Errorf("%s: mode %04o, want 0744", f.name, f.mode.Perm())
		}
	}
	if lc.missing > 0 || lc.reordered > 0 {
		for n, c := range lc.seen {
			if c == 0 {
				t.Errorf("line %d (the first lost) is not in the directory", n)
				break
			}
		}
		t.Errorf("%d lines lost, %d out of order by %d kills: the pipe is consumed only once its bytes are logged",
			lc.missing, lc.reordered, len(runs)-1)
	}
	// These scripts select every line, so the next multilog can finish
	// the batch and the line a kill cut (multilog.8). The one exception is
	// a restart that cannot tell whether the killed multilog removed a
	// batch it had written everywhere (the bytes after it were not known to
	// differ from it): it says so, and logs the head of the pipe, which may
	// write that batch twice. Lines are at least 12 bytes.
	if lc.pieces > 0 || lc.duplicated > int(unsure.bytes/12) {
		t.Errorf("%d lines written twice and %d pieces of lines by %d kills (%s): the unconsumed record was not followed",
			lc.duplicated, lc.pieces, len(runs)-1, unsure)
	}
	// A flood's pieces are the same bytes one after the other: a kill just
	// after one was written may have it written twice, as above, never lost.
	if lc.empty < in.empties() || int64(lc.empty) > int64(in.empties())+unsure.bytes {
		t.Errorf("%d empty lines in the directory, %d in the stream (%s): a flood's pieces were lost, or written twice unannounced",
			lc.empty, in.empties(), unsure)
	}
	if in.empties() > 0 || unsure.n > 0 {
		t.Logf("empty lines: %d in the stream, %d in the directory (%d written twice); numbered lines written twice: %d; %s",
			in.empties(), lc.empty, lc.empty-in.empties(), lc.duplicated, unsure)
	}
	if err := crossCheckReader(dir, files); err != nil {
		t.Errorf("logread.Reader: %v", err)
	}
	reportKills(t, runs)
	return got
}

// sameAsStream checks that the files, read in order as one stream, are
// exactly the stream: nothing lost, doubled, torn or out of place.
func sameAsStream(files []dirFile, in *stream) error {
	var pos int64
	for _, f := range files {
		n := int64(len(f.data))
		want := in.bytesAt(pos, min(pos+n, in.size()))
		if !bytes.Equal(want, f.data) {
			i := 0
			for i < len(want) && i < len(f.data) && want[i] == f.data[i] {
				i++
			}
			return fmt.Errorf("%s (%d bytes) differs from the stream at its byte %d (stream byte %d, line %d): %q, expected %q",
				f.name, n, i, pos+int64(i), in.lineAt(min(pos+int64(i), in.size()-1)), clip(f.data[i:]), clip(want[min(i, len(want)):]))
		}
		pos += n
	}
	if pos != in.size() {
		return fmt.Errorf("the files hold %d bytes of the %d of the stream", pos, in.size())
	}
	return nil
}

func clip(b []byte) []byte { return b[:min(len(b), 60)] }

// lineCount is what the directory holds, line by line, read as one stream.
type lineCount struct {
	seen       []uint8 // times each line of the stream was found whole
	missing    int
	duplicated int
	outOfOrder int // lines whose number is not above the one before (a line written twice is one)
	reordered  int // first appearances of lines after a later line's first appearance
	pieces     int // "lines" that are not lines of the stream: the pieces a kill leaves around what it lost
	empty      int // empty lines (a flooded stream's)
}

// countLines reads the files as one stream (as cat @* current would) and
// counts each line of the input found whole, independently of
// anything else.
func countLines(files []dirFile, in *stream) lineCount {
	lc := lineCount{seen: make([]uint8, in.lines())}
	last, furthest := -1, -1
	var carry, want []byte
	// lineNumber returns the number of the stream line seg is, or -1.
	lineNumber := func(seg []byte) int {
		n := -1
		if len(seg) >= 12 && seg[10] == ' ' {
			n = 0
			for _, c := range seg[:10] {
				if c < '0' || c > '9' {
					n = -1
					break
				}
				n = n*10 + int(c-'0')
			}
		}
		if n < 0 || n >= in.lines() || !bytes.Equal(seg, streamLine(want[:0], n)) {
			return -1
		}
		return n
	}
	handle := func(seg []byte) {
		if len(seg) == 1 {
			lc.empty++
			return
		}
		n := lineNumber(seg)
		if n < 0 {
			lc.pieces++
			return
		}
		if lc.seen[n] == 0 {
			if n < furthest {
				lc.reordered++
			}
			furthest = max(furthest, n)
		}
		if lc.seen[n] < 255 {
			lc.seen[n]++
		}
		if n <= last {
			lc.outOfOrder++
		}
		last = n
	}
	for _, f := range files {
		data := f.data
		for len(data) > 0 {
			i := bytes.IndexByte(data, '\n')
			if i < 0 {
				carry = append(carry, data...)
				break
			}
			if len(carry) > 0 {
				// A file that ends inside a line continues in the next
				// when the line was cut at s, or when a killed writer had
				// written all it read; otherwise (the rest of the line
				// died with the writer) the next file begins a new line.
				if joined := append(carry, data[:i+1]...); lineNumber(joined) >= 0 {
					handle(joined)
				} else {
					lc.pieces++
					handle(data[:i+1])
				}
				carry = carry[:0]
			} else {
				handle(data[:i+1])
			}
			data = data[i+1:]
		}
	}
	if len(carry) > 0 {
		lc.pieces++
	}
	for _, c := range lc.seen {
		switch {
		case c == 0:
			lc.missing++
		case c > 1:
			lc.duplicated++
		}
	}
	return lc
}

// crossCheckReader reads the directory with logread.Reader, which must give
// exactly the bytes of the files in order.
func crossCheckReader(dir string, files []dirFile) error {
	want := sha256.New()
	var wantN int64
	for _, f := range files {
		want.Write(f.data)
		wantN += int64(len(f.data))
	}
	rd, err := logread.OpenDir(dir, logread.Options{})
	if err != nil {
		return err
	}
	defer rd.Close()
	got := sha256.New()
	var gotN int64
	for {
		l, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		got.Write(l.Bytes)
		gotN += int64(len(l.Bytes))
	}
	if errs := rd.Errors(); len(errs) > 0 {
		return fmt.Errorf("errors: %v", errs)
	}
	if !bytes.Equal(want.Sum(nil), got.Sum(nil)) {
		return fmt.Errorf("read %d bytes that differ from the %d bytes of the files", gotN, wantN)
	}
	return nil
}

// reportKills logs what each process consumed from the pipe.
func reportKills(t *testing.T, runs []instanceRun) {
	var tb strings.Builder
	fmt.Fprintf(&tb, "%-4s %-8s %-8s %14s %10s\n", "#", "signal", "when", "consumed bytes", "up")
	for i, r := range runs {
		sig, when := "(end)", "EOF"
		if !r.final {
			sig, when = sigName(r.ev.sig), "stream"
			if r.ev.startup {
				when = "start-up"
			}
		}
		fmt.Fprintf(&tb, "%-4d %-8s %-8s %14d %10s\n", i, sig, when, r.to-r.from, r.up.Round(time.Millisecond))
	}
	t.Logf("per process:\n%s", tb.String())
}

func sigName(s syscall.Signal) string {
	switch s {
	case syscall.SIGKILL:
		return "KILL"
	case syscall.SIGHUP:
		return "HUP"
	case syscall.SIGINT:
		return "INT"
	case syscall.SIGTERM:
		return "TERM"
	}
	return s.String()
}

// lockFree reports whether nobody holds the directory's lock (or there is
// none yet).
func lockFree(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return errors.Is(err, os.ErrNotExist)
	}
	defer f.Close()
	if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		return false
	}
	syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return true
}
