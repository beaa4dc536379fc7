package campaign

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/taikit/taikit/logread"
)

// readBuffer is how much multilog reads at a time (multilog/run.go): a
// killed process can lose at most what its last read held.
const readBuffer = 1 << 20

// killVariant is one kill campaign: a script and its sizes.
type killVariant struct {
	name  string
	args  []string // the script, writing ./d
	s     int      // the s of the script, for the size contract
	lines int      // lines in the stream
	kills int      // SIGKILLs
	other int      // SIGHUPs and SIGINTs besides (they kill multilog too)
}

func killVariants() []killVariant {
	vs := []killVariant{
		{"plain", []string{"s16384", "n1000000", "./d"}, 16384, pick(100_000, 5_000_000), pick(10, 110), pick(2, 20)},
		{"gzip processor", []string{"s8192", "n1000000", "!gzip", "./d"}, 8192, pick(10_000, 100_000), pick(6, 40), pick(1, 5)},
		{"zstd built-in", []string{"s16384", "n1000000", "z", "./d"}, 16384, pick(100_000, 2_000_000), pick(8, 60), pick(1, 6)},
	}
	if long() {
		vs = append(vs, killVariant{"cat processor", []string{"s4096", "n1000000", "!cat", "./d"}, 4096, 60_000, 40, 5})
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
// the same directory and pipe, as svscan and supervise would. Afterwards
// every line is in the directory exactly once and in order, except lines
// that were inside a killed process's last read; each kill is accounted
// for from the pipe (what the process read) and the directory (what it
// wrote); every file keeps the size contract.
func TestKill9(t *testing.T) {
	for _, v := range killVariants() {
		t.Run(strings.ReplaceAll(v.name, " ", "_"), func(t *testing.T) { killCampaign(t, v) })
	}
}

// instanceRun is what one multilog process of a campaign did.
type instanceRun struct {
	ev       killEvent
	final    bool // the last process, which reads to the end of the input
	from, to int64
	wrote    int64
	up       time.Duration // from start to signal
}

func killCampaign(t *testing.T, v killVariant) {
	began := time.Now()
	seed := campaignSeed(t)
	in := newStream(v.lines)
	work := t.TempDir()
	dir := filepath.Join(work, "d")
	pipe := newLogPipe(t, in, seed)
	r := newRand(seed + 1)

	var runs []instanceRun
	var from int64
	for i, ev := range killSchedule(v, in.size(), seed) {
		p := startProc(t, procOpts{dir: work, stdin: pipe.r}, v.args...)
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
		if e := p.errText(); e != "" {
			t.Errorf("kill %d: multilog said %q", i, e)
		}
		to := pipe.consumed()
		runs = append(runs, instanceRun{ev: ev, from: from, to: to, up: up})
		from = to
	}

	// The last process reads the stream to its end and stops cleanly.
	p := startProc(t, procOpts{dir: work, stdin: pipe.r}, v.args...)
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
	if code := p.wait(t, 5*time.Minute); code != 0 || p.errText() != "" {
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
	for _, f := range files {
		if err := checkFileCut(f, v.s); err != nil {
			t.Errorf("size contract: %v", err)
		}
		if strings.HasSuffix(f.name, ".s") && f.mode.Perm() != 0o744 {
			t.Errorf("%s: mode %04o, want 0744", f.name, f.mode.Perm())
		}
	}
	if err := accountRuns(files, in, runs); err != nil {
		t.Fatal(err)
	}
	lc := countLines(files, in)
	lostMarked := make([]bool, in.lines())
	for _, run := range runs {
		if lost := run.to - run.from - run.wrote; lost > readBuffer {
			t.Errorf("a process lost %d bytes, more than one read (%d): %+v", lost, readBuffer, run)
		}
		if run.from+run.wrote < run.to {
			for n := in.lineAt(run.from + run.wrote); n <= in.lineAt(run.to-1); n++ {
				lostMarked[n] = true
			}
		}
	}
	for _, n := range gluedByChance(in, runs) {
		lostMarked[n] = false
	}
	mismatch := 0
	for n, c := range lc.seen {
		if (c == 0) != lostMarked[n] {
			if mismatch++; mismatch <= 5 {
				t.Errorf("line %d: seen %d times, but the accounting of kills says lost=%v", n, c, lostMarked[n])
			}
		}
	}
	if lc.duplicated > 0 || lc.outOfOrder > 0 {
		t.Errorf("%d lines duplicated, %d out of order", lc.duplicated, lc.outOfOrder)
	}
	if err := crossCheckReader(dir, files); err != nil {
		t.Errorf("logread.Reader: %v", err)
	}
	reportKills(t, v, runs, in, lc, len(files), fed)
}

// accountRuns finds, file by file, which process wrote what: a process's
// data is a contiguous part of what it read, starting where its read
// started, and a restart after a kill always begins a new file (crash
// recovery archives the killed process's current), so a file either
// continues the data before it or starts that of a later process. It fills
// each run's wrote and fails on anything else (data out of place, lost
// beyond the kills, written twice).
func accountRuns(files []dirFile, in *stream, runs []instanceRun) error {
	k := 0
	pos := runs[0].from
	for _, f := range files {
		n := int64(len(f.data))
		if n == 0 {
			continue
		}
		if pos+n <= in.size() && bytes.Equal(in.bytesAt(pos, pos+n), f.data) {
			// The data goes on. Past the end of what process k read it
			// is the next process's: after a clean stop (SIGTERM) the next
			// one appends to the same current, and then process k lost
			// nothing.
			pos += n
			for k < len(runs)-1 && pos > runs[k].to {
				runs[k].wrote = runs[k].to - runs[k].from
				k++
			}
			continue
		}
		j := k + 1
		for ; j < len(runs); j++ {
			if a := runs[j].from; a+n <= runs[j].to && bytes.Equal(in.bytesAt(a, a+n), f.data) {
				break
			}
		}
		if j == len(runs) {
			want := in.bytesAt(pos, min(pos+n, in.size()))
			i := 0
			for i < len(want) && i < len(f.data) && want[i] == f.data[i] {
				i++
			}
			return fmt.Errorf("%s (%d bytes) is neither the continuation of process %d's data at stream byte %d (line %d) "+
				"nor the start of a later process's: it differs from the continuation at byte %d: %q, expected %q",
				f.name, n, k, pos, in.lineAt(pos), i, clip(f.data[i:]), clip(want[min(i, len(want)):]))
		}
		runs[k].wrote = pos - runs[k].from
		k, pos = j, runs[j].from+n
	}
	runs[k].wrote = pos - runs[k].from
	for _, r := range runs[k+1:] {
		if r.to != r.from {
			return fmt.Errorf("the data ends at stream byte %d, in what process %d read; process %+v read more", pos, k, r)
		}
	}
	if pos != in.size() {
		return fmt.Errorf("the data ends at stream byte %d (process %d of %d); the stream has %d", pos, k, len(runs), in.size())
	}
	return nil
}

// gluedByChance returns the lines that countLines finds whole although
// their bytes were lost: countLines joins a killed process's last piece of
// a line to the first line of the next file when the two make a line of
// the stream, as they do when the process wrote all it read, and they may
// also make one by chance. In one run a process wrote "000009" of line
// 96988 and the next began 6 bytes into line 98190 ("8190 uuuuuuu\n"):
// together, line 98190, whose own "000009" died with the first.
func gluedByChance(in *stream, runs []instanceRun) []int {
	var glued []int
	for i, run := range runs {
		end := run.from + run.wrote
		head := in.offs[in.lineAt(min(end, in.size()-1))]
		if end >= run.to || head == end || head < run.from {
			continue // nothing lost, no piece at the end, or a piece begun before this run (not tracked)
		}
		j := i + 1
		for j < len(runs) && runs[j].wrote == 0 {
			j++
		}
		if j == len(runs) {
			continue
		}
		a := runs[j].from
		lineEnd := in.offs[in.lineAt(a)+1]
		if a+runs[j].wrote < lineEnd {
			continue // the next process wrote no newline: not tracked
		}
		joined := append(in.bytesAt(head, end), in.bytesAt(a, lineEnd)...)
		if n := streamLineNumber(in, joined); n >= 0 {
			glued = append(glued, n)
		}
	}
	return glued
}

// streamLineNumber returns the number of the stream line seg is, or -1.
func streamLineNumber(in *stream, seg []byte) int {
	if len(seg) < 12 || seg[10] != ' ' {
		return -1
	}
	n := 0
	for _, c := range seg[:10] {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	if n >= in.lines() || !bytes.Equal(seg, streamLine(nil, n)) {
		return -1
	}
	return n
}

func clip(b []byte) []byte { return b[:min(len(b), 60)] }

// lineCount is what the directory holds, line by line, read as one stream.
type lineCount struct {
	seen       []uint8 // times each line of the stream was found whole
	missing    int
	duplicated int
	outOfOrder int
	pieces     int // "lines" that are not lines of the stream: the pieces a kill leaves around what it lost
}

// countLines reads the files as one stream (as cat @* current would) and
// counts each line of the input found whole, independently of
// accountRuns.
func countLines(files []dirFile, in *stream) lineCount {
	lc := lineCount{seen: make([]uint8, in.lines())}
	last := -1
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
		n := lineNumber(seg)
		if n < 0 {
			lc.pieces++
			return
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

func reportKills(t *testing.T, v killVariant, runs []instanceRun, in *stream, lc lineCount, nfiles int, took time.Duration) {
	var tb strings.Builder
	fmt.Fprintf(&tb, "%-4s %-8s %-8s %12s %12s %10s %10s %10s\n", "#", "signal", "when", "read bytes", "wrote bytes", "lost bytes", "lost lines", "up")
	var maxLost, maxRead, totalLostBytes int64
	maxLostLines, kills, zero := 0, 0, 0
	for i, r := range runs {
		if r.final {
			fmt.Fprintf(&tb, "%-4d %-8s %-8s %12d %12d %10d %10d %10s\n", i, "(end)", "EOF", r.to-r.from, r.wrote, r.to-r.from-r.wrote, 0, "")
			continue
		}
		lost := r.to - r.from - r.wrote
		lines := 0
		if lost > 0 {
			lines = in.lineAt(r.to-1) - in.lineAt(r.from+r.wrote) + 1
		} else {
			zero++
		}
		when := "stream"
		if r.ev.startup {
			when = "start-up"
		}
		fmt.Fprintf(&tb, "%-4d %-8s %-8s %12d %12d %10d %10d %10s\n", i, sigName(r.ev.sig), when, r.to-r.from, r.wrote, lost, lines, r.up.Round(time.Millisecond))
		maxLost, maxRead, maxLostLines = max(maxLost, lost), max(maxRead, r.to-r.from), max(maxLostLines, lines)
		totalLostBytes += lost
		if r.ev.sig == syscall.SIGKILL {
			kills++
		}
	}
	t.Logf("per process:\n%s", tb.String())
	figure(t, "%s: %d lines (%d bytes) through %d processes ended by %d SIGKILL + %d SIGHUP/SIGINT; "+
		"written whole %d, lost %d (%d bytes; max per kill %d lines, %d bytes; %d kills lost nothing; max read by one process %d bytes), "+
		"duplicated %d, out of order %d; %d files; %v",
		strings.Join(v.args, " "), in.lines(), in.size(), len(runs), kills, len(runs)-1-kills,
		in.lines()-lc.missing, lc.missing, totalLostBytes, maxLostLines, maxLost, zero, maxRead,
		lc.duplicated, lc.outOfOrder, nfiles, took.Round(time.Millisecond))
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
