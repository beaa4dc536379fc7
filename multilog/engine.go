package multilog

import (
	"bytes"
	"fmt"
	"io"
	"time"

	"github.com/taikit/taikit/errtext"
	"github.com/taikit/taikit/filter"
	"github.com/taikit/taikit/tai64n"
)

// batchLimit bounds what a directory's share of one read may grow to
// before it is written: with stamps, a read of empty lines grows 27-fold.
const batchLimit = 1 << 20

// windowSize is multilog's line buffer: patterns, e and = see this many
// bytes of a line, the stamp included; the rest is still logged.
const windowSize = 1000

// Alert and status sizes, as daemontools has them.
const (
	alertSize  = 200
	statusSize = 1001
)

// Sinks are where an engine's actions write. Dirs and Status are in the
// order their actions appear in the script.
type Sinks struct {
	Dirs   []io.Writer    // one per Dir action: usually a *rotate.Dir
	Status []StatusWriter // one per Status action
	Stdout io.Writer      // for 1 actions
	Stderr io.Writer      // for e actions
	Clock  func() time.Time
	Zone   tai64n.Zone // for T stamps; nil means UTC
}

// StatusWriter replaces a status file's content with a record.
type StatusWriter interface {
	WriteStatus(record []byte) error
}

// sink is an action that writes: an output position of the selector walk.
type sink struct {
	kind   Kind
	prefix []byte
	out    io.Writer    // Dir, Stdout
	status StatusWriter // Status
	batch  []byte       // Dir, Stdout: what this read gives it
	record []byte       // Status: the latest record, statusSize bytes
	recLen int          // Status: bytes of the line in record; the rest is padding
	dirty  bool         // Status: record not yet written
	broken bool         // Stdout: a write failed; s6-log stops writing too
}

// Engine runs a script over input given to it in chunks, as they are read.
// Per chunk it reads the clock once, stamps lines with that time, decides
// every line's selection on its first 1000 bytes (stamp included), and then
// writes each directory's share with one Write, alerts with one write to
// stderr, and each changed status file once. Memory is bounded by the
// buffers: a line is never held whole. An Engine allocates nothing per
// line once its buffers have grown to the size of a chunk.
//
// On a chunk of 128 KiB or more whose lines patterns decide, and with more
// than one processor (GOMAXPROCS), the engine starts a goroutine that
// decides some of its lines beside it; Process returns once every line it
// took is delivered, and a goroutine that had not started by then finds
// nothing left and ends.
type Engine struct {
	plan  *Plan
	walk  *filter.Walk
	sinks []sink
	// The selection of the current line at each sink: bit i of selBits for
	// sink i < 64; for a script of more than 64 actions (wide), selAll[i]
	// for every sink, reused line after line. A word is what the walk
	// makes fastest.
	selBits uint64
	selAll  []bool
	wide    bool
	clock   func() time.Time
	format  *tai64n.Formatter // T stamps
	stderr  io.Writer
	alerts  []byte

	// Only windows need building when something looks at them.
	needWindow bool

	// The line in progress.
	inLine     bool
	windowDone bool // its selection is decided
	window     [windowSize]byte
	wlen       int // bytes in window
	stampLen   int // the stamp's share of window
	stamp      [64]byte
	stampN     int
	prefix     filter.Prefix // the walk's work on this chunk's stamp
	share      *sharing      // the helper's share of a chunk's lines, once one has helped
	alone      bool          // for tests: no helper
	err        error         // the first write error of the current chunk
}

// NewEngine prepares plan to run with sinks.
func NewEngine(plan *Plan, s Sinks) *Engine {
	e := &Engine{plan: plan, clock: s.Clock, stderr: s.Stderr}
	if e.clock == nil {
		e.clock = time.Now
	}
	switch plan.Stamp {
	case StampLocal:
		e.format = tai64n.NewFormatter(s.Zone, tai64n.Daemontools, tai64n.LayoutRFC3339)
	case StampUTC:
		e.format = tai64n.NewFormatter(nil, tai64n.Daemontools, tai64n.LayoutRFC3339)
	}
	var steps []filter.Step
	dirs, stats := 0, 0
	for _, a := range plan.Actions {
		switch a.Kind {
		case Select, Deselect:
			r := &filter.Rule{Select: a.Kind == Select, Pattern: a.Pattern, Glob: a.Glob}
			steps = append(steps, filter.Step{Rule: r})
			continue
		}
		steps = append(steps, filter.Step{})
		k := sink{kind: a.Kind, prefix: prefixBytes(a.Prefix)}
		switch a.Kind {
		case Dir:
			k.out = s.Dirs[dirs]
			dirs++
		case Stdout:
			k.out = s.Stdout
		case Status:
			k.status = s.Status[stats]
			k.record = make([]byte, statusSize)
			stats++
			e.needWindow = true
		case Alert:
			e.needWindow = true
		}
		if _, ok := k.out.(batchTaker); ok && k.kind == Dir {
			// The size it is handed over at from the start: grown by
			// append, the first batch left 5 MB of smaller ones behind,
			// which cost a start-up two collections more.
			k.batch = make([]byte, 0, batchCap)
		}
		e.sinks = append(e.sinks, k)
	}
	e.walk = filter.NewWalk(steps)
	if !e.walk.Trivial() {
		e.needWindow = true
	}
	e.wide = len(e.sinks) > 64
	return e
}

func prefixBytes(p string) []byte {
	if p == "" {
		return nil
	}
	return append([]byte(p), ' ')
}

// setStamp formats the stamp of this chunk's lines.
func (e *Engine) setStamp(now time.Time) {
	l := tai64n.FromTime(now, tai64n.Daemontools)
	b := e.stamp[:0]
	switch e.plan.Stamp {
	case NoStamp:
	case StampTAI64N:
		b = l.Append(b)
		b = append(b, ' ')
	default:
		b, _ = e.format.Append(b, l)
		b = append(b, ' ')
	}
	e.stampN = len(b)
}

// Process runs the script over the next chunk of input, which may begin
// or end inside a line. It returns the first write error of a directory
// or status file; everything else in the chunk is still processed.
func (e *Engine) Process(chunk []byte) error {
	return e.ProcessAt(chunk, e.clock())
}

// ProcessAt is Process with the chunk's lines stamped with now: what a
// multilog repeating a killed one's batch needs to write the same bytes.
func (e *Engine) ProcessAt(chunk []byte, now time.Time) error {
	e.err = nil
	e.setStamp(now)
	// Every line that starts in this chunk has the chunk's stamp at the
	// start of its window: copied there once, at the first such line (a
	// line in progress still has its own stamp there).
	stamped := false
	room := windowSize - e.stampN
	stamp := e.stamp[:e.stampN]
	if e.needWindow {
		e.walk.Prepare(&e.prefix, stamp)
	}
	for len(chunk) > 0 {
		if !e.inLine && !e.needWindow {
			// Every line goes whole to every directory and standard
			// output: no window, no walk, one scan per sink.
			if chunk = e.wholeLines(chunk); len(chunk) == 0 {
				break
			}
		}
		if !e.inLine && e.needWindow && e.prefix.OK() {
			// The common case: whole lines short enough to be their own
			// windows, each decided where it lies in the chunk (the walk
			// has seen the stamp apart) and delivered in one step; in a
			// large chunk, many of them decided on the other processor.
			chunk = e.decideShared(chunk, stamp, room)
			for {
				nl := bytes.IndexByte(chunk[:min(len(chunk), room+1)], '\n')
				if nl < 0 {
					break
				}
				e.evalText(chunk[:nl])
				e.deliver(stamp, chunk[:nl], chunk[:nl+1])
				chunk = chunk[nl+1:]
			}
			if len(chunk) == 0 {
				break
			}
		}
		if !e.inLine {
			if !stamped {
				e.stampLen = copy(e.window[:], e.stamp[:e.stampN])
				stamped = true
			}
			e.wlen = e.stampLen
			if !e.needWindow {
				e.inLine = true
				e.decide()
			} else if nl := bytes.IndexByte(chunk[:min(len(chunk), room+1)], '\n'); nl >= 0 {
				// A whole line short enough to be its own window, where the
				// walk needs the stamp before it: decided in the window.
				e.wlen += copy(e.window[e.wlen:], chunk[:nl])
				e.decide()
				e.emit(chunk[nl : nl+1])
				chunk = chunk[nl+1:]
				continue
			} else {
				e.inLine, e.windowDone = true, false
			}
		}
		if !e.windowDone {
			// Fill the window to a newline or to its end.
			nl := bytes.IndexByte(chunk, '\n')
			take := len(chunk)
			if nl >= 0 {
				take = nl
			}
			room := windowSize - e.wlen
			if take >= room {
				e.wlen += copy(e.window[e.wlen:], chunk[:room])
				chunk = chunk[room:]
				e.decide()
			} else {
				e.wlen += copy(e.window[e.wlen:], chunk[:take])
				chunk = chunk[take:]
				if nl < 0 {
					break // the window goes on in the next chunk
				}
				e.decide()
			}
			continue
		}
		// The rest of the line goes only to the directories and stdout.
		seg := chunk
		if nl := bytes.IndexByte(chunk, '\n'); nl >= 0 {
			seg = chunk[:nl+1]
			e.inLine = false
		}
		e.emit(seg)
		chunk = chunk[len(seg):]
	}
	e.flush()
	return e.err
}

// maxJobOutput bounds what one piece of a read gives a directory, where
// the writer holds it: a read of 1 MiB of empty lines stamped with t is
// 27 MiB of output, and the writer holds two batches' (the one it writes
// and the one being filled), so a flood of short lines held 66 MB.
const maxJobOutput = 4 * batchLimit

// cut returns how much of chunk to process at once: all of it when its
// output to a directory stays within maxJobOutput, else as many whole
// lines as do (at least one line). lines is chunk's newlines when known,
// or -1.
func (e *Engine) cut(chunk []byte, lines int) int {
	per := len(e.stamp) // the longest stamp
	longest := 0
	for i := range e.sinks {
		longest = max(longest, len(e.sinks[i].prefix))
	}
	per += longest
	if lines < 0 {
		lines = bytes.Count(chunk, []byte{'\n'})
	}
	if len(chunk)+per*lines <= maxJobOutput {
		return len(chunk)
	}
	pos, out := 0, 0
	for pos < len(chunk) {
		nl := bytes.IndexByte(chunk[pos:], '\n')
		if nl < 0 {
			return len(chunk)
		}
		out += nl + 1 + per
		if out > maxJobOutput && pos > 0 {
			return pos
		}
		pos += nl + 1
	}
	return pos
}

// wholeLines appends every whole line at the start of chunk, stamped, to
// every directory and standard output sink, and returns the rest: the
// engine's work when the script selects every line everywhere (no
// patterns, no status files, no alerts), where every mark selects and no
// window is needed.
func (e *Engine) wholeLines(chunk []byte) []byte {
	end := bytes.LastIndexByte(chunk, '\n') + 1
	if end == 0 {
		return chunk
	}
	stamp := e.stamp[:e.stampN]
	for i := range e.sinks {
		k := &e.sinks[i]
		if k.kind != Dir && k.kind != Stdout {
			continue
		}
		b, rest := k.batch, chunk[:end]
		for len(rest) > 0 {
			nl := bytes.IndexByte(rest, '\n') + 1
			b = append(b, stamp...)
			b = append(b, k.prefix...)
			b = append(b, rest[:nl]...)
			rest = rest[nl:]
			if len(b) >= batchLimit {
				k.batch = b
				e.writeBatch(k)
				b = k.batch
			}
		}
		k.batch = b
	}
	return chunk[end:]
}

// decide runs the selector walk on the completed window and gives the
// window to the actions that selected the line.
func (e *Engine) decide() {
	e.windowDone = true
	win := e.window[:e.wlen]
	e.eval(win)
	text := win[e.stampLen:]
	e.deliver(win[:e.stampLen], text, text)
}

// eval decides the line whose window is window.
func (e *Engine) eval(window []byte) {
	if !e.wide {
		e.selBits = e.walk.EvalBits(window)
		return
	}
	e.setSelection(e.walk.Eval(window, e.selAll[:0]))
}

// evalText decides the line whose window is the chunk's stamp, which the
// walk has been prepared with, followed by text.
func (e *Engine) evalText(text []byte) {
	if !e.wide {
		e.selBits = e.walk.EvalTextBits(&e.prefix, text)
		return
	}
	e.setSelection(e.walk.EvalText(&e.prefix, text, e.selAll[:0]))
}

// setSelection sets the current line's selection from one value per sink
// (a wide script's).
func (e *Engine) setSelection(sel []bool) {
	e.selAll, e.selBits = sel, 0
	for i, s := range sel[:64] {
		if s {
			e.selBits |= 1 << i
		}
	}
}

// selected reports whether the current line is selected at sink i.
func (e *Engine) selected(i int) bool {
	if i < 64 {
		return e.selBits&(1<<i) != 0
	}
	return e.selAll[i]
}

// deliver gives a line's window, stamp and text, to the actions that
// selected it: out (text, or text and its newline) to the directories and
// standard output.
func (e *Engine) deliver(stamp, text, out []byte) {
	for i := range e.sinks {
		if !e.selected(i) {
			continue
		}
		k := &e.sinks[i]
		switch k.kind {
		case Dir, Stdout:
			k.batch = append(k.batch, stamp...)
			k.batch = append(k.batch, k.prefix...)
			k.batch = append(k.batch, out...)
			if len(k.batch) >= batchLimit {
				e.writeBatch(k)
			}
		case Alert:
			e.alert(stamp, k.prefix, text)
		case Status:
			// Padding waits for the write: only the last line of a read is.
			n := copy(k.record, stamp)
			n += copy(k.record[n:windowSize], k.prefix)
			n += copy(k.record[n:windowSize], text)
			k.recLen, k.dirty = n, true
		}
	}
}

// alert writes a line's window to stderr as multilog's e does: more than
// 200 bytes are cut to 200 and followed by "...".
func (e *Engine) alert(parts ...[]byte) {
	n := 0
	for _, p := range parts {
		take := min(len(p), alertSize-n+1) // one byte more tells a longer line
		e.alerts = append(e.alerts, p[:take]...)
		n += take
		if n > alertSize {
			e.alerts = append(e.alerts[:len(e.alerts)-1], "..."...)
			break
		}
	}
	e.alerts = append(e.alerts, '\n')
}

// emit gives the rest of a line to the directories and stdout that
// selected it.
func (e *Engine) emit(seg []byte) {
	for i := range e.sinks {
		k := &e.sinks[i]
		if e.selected(i) && (k.kind == Dir || k.kind == Stdout) {
			k.batch = append(k.batch, seg...)
			if len(k.batch) >= batchLimit {
				e.writeBatch(k)
			}
		}
	}
}

// Finish ends the input: a last line without a newline gets one, as
// multilog does, and everything is written.
func (e *Engine) Finish() error {
	e.err = nil
	if e.inLine {
		if !e.windowDone {
			e.decide()
		}
		e.emit([]byte{'\n'})
		e.inLine = false
	}
	e.flush()
	return e.err
}

// ContinueLine makes a fresh engine continue a line an earlier one began,
// as the earlier one would have: possible only when a line's selection
// does not depend on its content (no pattern, status file or alert), so
// that nothing but the rest of the line is left to write. It reports
// whether it could.
func (e *Engine) ContinueLine() bool {
	if e.needWindow {
		return false
	}
	e.inLine, e.windowDone = true, true
	e.eval(e.window[:0])
	return true
}

// Continuable reports whether ContinueLine would work.
func (e *Engine) Continuable() bool { return !e.needWindow }

// AtLineStart reports whether the input so far ended with a newline (or
// nothing has been read): what TERM handling needs to know.
func (e *Engine) AtLineStart() bool { return !e.inLine }

// writeBatch writes a directory's or stdout's share.
func (e *Engine) writeBatch(k *sink) {
	if t, ok := k.out.(batchTaker); ok && k.kind == Dir {
		// The runner's stage: the batch is written beside the engine.
		k.batch = t.takeBatch(k.batch)
		return
	}
	if !k.broken {
		if _, err := k.out.Write(k.batch); err != nil {
			if k.kind == Stdout {
				// As s6-log: a gone reader does not stop the logging.
				k.broken = true
				fmt.Fprintf(e.stderr, "multilog: warning: unable to write to standard output: %s; no more lines go there\n", errtext.Of(err))
			} else if e.err == nil {
				e.err = err
			}
		}
	}
	k.batch = k.batch[:0]
}

// flush writes what the chunk gave every action.
func (e *Engine) flush() {
	for i := range e.sinks {
		k := &e.sinks[i]
		switch {
		case (k.kind == Dir || k.kind == Stdout) && len(k.batch) > 0:
			e.writeBatch(k)
		case k.kind == Status && k.dirty:
			for j := k.recLen; j < statusSize; j++ {
				k.record[j] = '\n'
			}
			if err := k.status.WriteStatus(k.record); err != nil && e.err == nil {
				e.err = err
			}
			k.dirty = false
		}
	}
	if len(e.alerts) > 0 {
		e.stderr.Write(e.alerts) // as multilog, write errors on stderr are ignored
		e.alerts = e.alerts[:0]
	}
}
