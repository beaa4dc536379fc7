package logcat

import (
	"bytes"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/taikit/taikit/internal/jsontext"
	"github.com/taikit/taikit/logread"
	"github.com/taikit/taikit/tai64n"
)

// Query is what to keep of a log and how to write it.
type Query struct {
	// Since and Until bound the stamps of the lines kept: Since ≤ stamp <
	// Until. A line without a stamp has the stamp of the last stamped line
	// before it; lines before the first stamped line have no time and are
	// outside every range.
	Since, Until       tai64n.Label
	HasSince, HasUntil bool

	// Selector picks lines; nil keeps every line.
	Selector *Selector

	// First stops the query after that many selected lines (0: no limit).
	First int
	// Last keeps only the last that many selected lines, written when the
	// input ends (Flush); -1 writes every line as it comes.
	Last int
	// Count writes the number of selected lines at the end instead of them.
	Count bool

	Format     Format
	Zone       tai64n.Zone // for FormatTAI64N, FormatRFC3339, FormatJSON; nil is UTC
	Convention tai64n.Convention

	// Before and After are the numbers of lines written before and after
	// each selected line, as grep's -B and -A write them: context lines
	// within the time range, neighbours in the stream as it is read
	// (across the files of a directory and the directories of a merge),
	// "--" between groups that are not next to each other (not in JSON,
	// where a context line has "context":true). Count ignores them. A
	// context line longer than ChunkSize is its first ChunkSize bytes when
	// it comes before the selected line, whole when after.
	Before, After int

	// Labels name the inputs, in the order SetSource numbers them; each
	// line is written with the label of the input it came from, padded
	// to the longest: "name: " for a selected line, "name- " for a
	// context line, as grep marks them, after the line's stamp and its
	// space (or the time made of it), first on a line without one; in
	// JSON, a "label" field. Nil writes no labels.
	Labels []string

	// Rate, when not nil, writes counts over time instead of lines: the
	// number of selected lines in each interval of the range read (from
	// Since, or the first line read, to Until or the last), as a table
	// with bars or as JSON; with Live, each row once its interval has
	// closed (a line of a later one has been read). Lines without a time
	// are not counted. Context, Last and Count do not apply.
	Rate *Rate

	// Show, when not nil, writes these fields of each line (see Field),
	// in this order, instead of its text: after its stamp (or time) as
	// logfmt ("ms=512 path=/x"), in JSON as "fields":{"ms":"512",…}
	// instead of "line". A field a line lacks is left out.
	Show []string

	// Color writes text with ANSI colours, as grep --color: stamps (or
	// the times made of them), labels and their marks, the "--" between
	// groups, and what the regular expressions match in selected lines.
	// JSON and counts are never coloured.
	Color bool

	// Live, for following a log as it grows, writes the output without
	// holding it back for large blocks: whoever feeds the pipeline flushes
	// after each block it gives (logcat -f on standard input after each
	// read, a follower of a directory from its writing goroutine).
	Live bool

	// WriteBehind writes the output on a goroutine of its own, a block
	// behind: while a slow reader of the output (a pipe) takes one
	// block, the next is selected. Flush waits for it. Not with Live.
	WriteBehind bool
}

// ChunkSize is how much the pipeline reads at a time, and the longest line
// it handles whole: a longer line is handled in pieces of this size, its
// selection decided on the first piece (see Pipeline).
const ChunkSize = 1 << 20

// flushAt is how much output is gathered before it is written.
const flushAt = 256 << 10

// WriteError is a failure to write the output, as opposed to one to read
// the input.
type WriteError struct{ Err error }

func (e *WriteError) Error() string { return "write: " + e.Err.Error() }
func (e *WriteError) Unwrap() error { return e.Err }

// Pipeline runs a Query over one or more inputs, in order, and writes the
// result. Its one way in is AddLines, which takes the blocks of lines a
// logread.Source gives (NextLines), whatever the input: a log directory,
// several merged, a file or standard input. It keeps the stamp of the last
// stamped line across inputs.
//
// Lines longer than ChunkSize are handled in pieces: the selection and the
// time range are decided on the first piece (multilog's patterns see only
// its first 1000 bytes anyway; regular expressions see the first ChunkSize
// bytes) and apply to the rest. Raw, -t and -r output is the line as a
// whole; JSON output has one record per piece, each with the line's stamp;
// with Last, only the first piece of such a line is kept.
//
// A Pipeline is not safe for concurrent use.
type Pipeline struct {
	q   Query
	dst io.Writer
	w   *writer

	out []byte

	needStamp  bool // the range or the format looks at stamps
	ranged     bool
	copyAll    bool        // nothing to select, convert or limit: copy chunks whole
	find       finder      // searches for required
	found      *hitLines   // the lines of the block being added found ahead (AddBlock)
	lastFound  *hitLines   // the last archive's, to give back to foundPool
	foundPool  sync.Pool   // of *hitLines, for Scanner's function
	foundOff   int         // where the block begins in the text found's offsets are in
	hits       [2]hitLines // chunkHits': the lines each core found, reused
	hitDensity float64     // of the last block chunkHits searched: lines found a byte
	copied     bool        // copyAll copied a line, which it does not count
	required   []byte

	carry    tai64n.Label // the stamp of the last stamped line seen
	hasCarry bool

	// A line longer than the buffer, being handled in pieces.
	part        []byte // add: the pieces of a line so far
	partStamp   tai64n.Label
	partStamped bool
	inLong      bool
	longSel     bool
	longLabel   tai64n.Label
	longStamped bool

	selected int64
	rate     *rateCounter // Rate
	rw       *rateWriter
	ring     ring  // the last selected lines (Last)
	held     queue // the same with context (Before, After)
	done     bool
	err      error // the first write error
	behind   *writeBehind

	pres [][2][]byte // per input: what goes before a selected line, a context line
	sep  []byte      // the line between groups of context
	src  int         // the input the lines come from (SetSource)

	// Context (Before, After).
	ctxOn     bool
	seq       int64 // the number of the line being looked at: lines next to each other differ by one
	lastSeq   int64 // that of the last line written
	wrote     bool  // a line has been written: the next group that is not next to it gets "--"
	afterLeft int   // context lines still to write after the last selected one
	draining  bool  // First reached: only the context after the last selected line is left
	back      queue // the lines before the next selected one, up to Before
	longCtx   bool  // the long line being written is a context line
}

// NewPipeline returns a Pipeline writing the result of q to dst.
func NewPipeline(q Query, dst io.Writer) *Pipeline {
	p := &Pipeline{q: q, dst: dst, w: newWriter(q.Format, q.Zone, q.Convention)}
	p.ranged = q.HasSince || q.HasUntil
	p.needStamp = p.ranged || q.Format != FormatRaw || q.Rate != nil
	if q.Rate != nil {
		q.Before, q.After, q.Last, q.Count = 0, 0, -1, false
		p.rate = &rateCounter{Rate: *q.Rate, conv: q.Convention}
		if q.HasSince {
			p.rate.lo, p.rate.hasLo, p.rate.fixLo = p.rate.interval(q.Since), true, true
		}
		if q.HasUntil {
			// The last interval is that of the instant before Until.
			before := q.Until
			if before.Nano > 0 {
				before.Nano--
			} else {
				before.Sec, before.Nano = before.Sec-1, 999_999_999
			}
			p.rate.hi, p.rate.hasHi, p.rate.fixHi = p.rate.interval(before), true, true
		}
	}
	if q.Format == FormatJSON || q.Count {
		q.Color = false
	}
	if q.Rate != nil {
		p.rw = newRateWriter(q)
	}
	p.q = q
	p.copyAll = !p.needStamp && q.Selector == nil && q.First == 0 && q.Last < 0 && !q.Count && q.Labels == nil && !q.Color && q.Show == nil
	p.w.show = q.Show
	p.sep = []byte("--\n")
	if q.Color {
		p.w.color, p.w.sel = true, q.Selector
		p.sep = []byte(sgrSep + "--" + sgrReset + "\n")
	}
	if q.Selector != nil {
		p.required = q.Selector.Required()
	}
	p.ctxOn = (q.Before > 0 || q.After > 0) && !q.Count
	if q.Last >= 0 {
		p.ring.size, p.ring.labelled = q.Last, q.Labels != nil
	}
	p.pres = prefixes(q.Labels, q.Format, q.Color)
	return p
}

// prefixes returns, for each label, what goes before a selected line and a
// context line: in text, the label, ':' or '-' as grep marks them, and
// spaces up to the longest label and one more; in JSON, the fields. With no
// labels, one input with nothing before its lines but "context":true.
func prefixes(labels []string, format Format, color bool) [][2][]byte {
	pres := make([][2][]byte, max(1, len(labels)))
	width := 0
	for _, l := range labels {
		width = max(width, utf8.RuneCountInString(l))
	}
	for i := range pres {
		if format == FormatJSON {
			var pre []byte
			if labels != nil {
				pre = append(jsontext.AppendString([]byte(`"label":`), []byte(labels[i])), ',')
			}
			pres[i] = [2][]byte{pre, append(bytes.Clone(pre), `"context":true,`...)}
			continue
		}
		if labels == nil {
			continue
		}
		pad := strings.Repeat(" ", width-utf8.RuneCountInString(labels[i])+1)
		if color {
			name := sgrLabel + labels[i] + sgrReset
			pres[i] = [2][]byte{[]byte(name + sgrSep + ":" + sgrReset + pad), []byte(name + sgrSep + "-" + sgrReset + pad)}
			continue
		}
		pres[i] = [2][]byte{[]byte(labels[i] + ":" + pad), []byte(labels[i] + "-" + pad)}
	}
	return pres
}

// SetSource says which input (numbered as Query.Labels) the lines given to
// AddLines next come from.
func (p *Pipeline) SetSource(i int) {
	if i >= 0 && i < len(p.pres) {
		p.src = i
	}
}

// Selected returns the number of lines selected so far.
// Lines copied whole, when there is nothing to select, are not counted:
// Any tells whether there were some.
func (p *Pipeline) Selected() int64 { return p.selected }

// Any reports whether a line was selected (or copied) so far: what decides
// between exit 0 and 1.
func (p *Pipeline) Any() bool { return p.selected > 0 || p.copied }

// Done reports whether the query needs no more input.
func (p *Pipeline) Done() bool { return p.done || p.err != nil }

// Cursor returns the stamp of the last stamped line read, and whether there
// was one.
func (p *Pipeline) Cursor() (tai64n.Label, bool) { return p.carry, p.hasCarry }

// chunk runs the query over whole lines. It returns how many bytes of b
// it handled: all of them unless the query completed within b, then up to
// the end of the line that completed it.
func (p *Pipeline) chunk(b []byte) int {
	if p.copyAll {
		p.copied = true
		if len(b) >= flushAt && !p.q.Live {
			// Large enough to go out as it is, without a copy.
			p.flush()
			if p.err == nil {
				p.writeDirect(b)
			}
			return len(b)
		}
		p.out = append(p.out, b...)
		if len(p.out) >= flushAt {
			p.flush()
		}
		return len(b)
	}
	if p.required != nil && p.find.lit == nil {
		p.find = newFinder(p.required, b)
	}
	if p.ctxOn {
		return p.chunkContext(b)
	}
	if p.required != nil && p.found != nil {
		// Searched ahead (Scanner): the lines found are written out.
		pos := p.emitHits(b, p.found, p.foundOff, 0)
		if p.Done() {
			return pos
		}
		p.skip(b[pos:])
		return len(b)
	}
	if p.required != nil && len(b) >= 2*searchHalf {
		return p.chunkHits(b)
	}
	whole := len(b)
	for len(b) > 0 && !p.Done() {
		if p.required != nil {
			i := p.find.index(b)
			if i < 0 {
				p.skip(b)
				return whole
			}
			if start := bytes.LastIndexByte(b[:i], '\n') + 1; start > 0 {
				p.skip(b[:start])
				b = b[start:]
			}
		}
		nl := bytes.IndexByte(b, '\n')
		p.line(b[:nl], true)
		b = b[nl+1:]
	}
	return whole - len(b)
}

// searchHalf is the least a search gives each of the two cores: below
// it, starting a goroutine costs more than it saves.
const searchHalf = 128 << 10

// emitBytesPerHit is what writing out a line found costs this goroutine,
// in bytes of search: while the other core searches the second part of a
// block, this one searches the first and writes out what it found, so
// the first part is made smaller by the lines it is expected to hold.
// An estimate from the bench VM's profile, not a tuned figure: writing a
// found line out took ~100 ns, a search ~0.16 ns a byte.
const emitBytesPerHit = 600

// chunkHits is chunk for a large block and a literal every selected line
// contains: the block is searched for it on two cores at once, and only
// the lines where it occurs are looked at. This goroutine searches the
// first part and writes out what it found while the other searches the
// rest.
func (p *Pipeline) chunkHits(b []byte) int {
	first := len(b) / 2
	if p.hitDensity > 0 {
		first = int(float64(len(b)) / (2 + emitBytesPerHit*p.hitDensity))
	}
	first = max(first, searchHalf)
	done := make(chan struct{})
	var fault error
	go func() { // waited for below
		defer close(done)
		// b may be an archive's mapping (logread.Options.Map).
		fault = logread.Guard(func() { searchLines(b, &p.find, first, len(b), &p.hits[1]) })
	}()
	searchLines(b, &p.find, 0, first, &p.hits[0])
	pos := p.emitHits(b, &p.hits[0], 0, 0)
	<-done
	if fault != nil {
		panic(fault) // for the Guard that this goroutine runs in
	}
	found := (len(p.hits[0].at) + len(p.hits[1].at)) / 3
	p.hitDensity = float64(found) / float64(len(b))
	pos = p.emitHits(b, &p.hits[1], 0, pos)
	if p.Done() {
		return pos
	}
	p.skip(b[pos:])
	return len(b)
}

// emitHits handles the lines of b that h found, from pos (those before it
// were handled), and returns where the handled part of b ends. h's
// offsets are in a text of which b begins at base.
func (p *Pipeline) emitHits(b []byte, h *hitLines, base, pos int) int {
	k := 0
	if base > 0 {
		// The first line in b: h is in order.
		k = 3 * sort.Search(len(h.at)/3, func(i int) bool { return h.at[3*i] >= base })
	}
	for ; k < len(h.at); k += 3 {
		if p.Done() {
			break
		}
		start, end, copied := h.at[k]-base, h.at[k+1]-base, h.at[k+2]
		if end >= len(b) {
			break // after b
		}
		if start < pos {
			continue // a line that crosses the parts' border, found in both
		}
		line := b[start:end]
		if copied >= 0 {
			line = h.text[copied : copied+end-start]
		}
		if _, ok := stampOf(line); !ok {
			// The stamp it inherits is in the lines passed over (a
			// stamped line's own replaces it: looking for it there cost
			// a tenth of --rate).
			p.skip(b[pos:start])
		}
		p.line(line, true)
		pos = end + 1
	}
	return pos
}

// hitLines are the lines of a block that a search found the required
// literal in, in order. Each is copied, up to copyMax bytes, while the
// searching core has it in its cache: read again from the block when
// writing out, each line waited for memory (a fifth of a search of a
// mapped directory).
type hitLines struct {
	// at holds three numbers a line: where it starts in the block, where
	// its newline is, and where it starts in text (-1: not copied).
	at   []int
	text []byte
	pool *sync.Pool // where it goes back to, when it came from one
}

// copyMax bounds what hitLines copies: one line's bytes, and the copies
// of one search.
const copyMax = 4 << 10
const copyAllMax = 4 << 20

// searchLines sets h to the lines that hold lit and start in b[from:to],
// the first occurrence in each (a line that starts before from and holds
// lit after it is found too).
func searchLines(b []byte, lit *finder, from, to int, h *hitLines) {
	h.at, h.text = h.at[:0], h.text[:0]
	end := min(to+len(lit.lit)-1, len(b))
	for i := from; i < to; {
		j := lit.index(b[i:end])
		if j < 0 {
			return
		}
		at := i + j
		nl := bytes.IndexByte(b[at:], '\n')
		if nl < 0 {
			return // b ends with a newline
		}
		start := bytes.LastIndexByte(b[:at], '\n') + 1
		lineEnd := at + nl
		if n := lineEnd - start; n <= copyMax && len(h.text)+n <= copyAllMax {
			h.at = append(h.at, start, lineEnd, len(h.text))
			h.text = append(h.text, b[start:lineEnd]...)
		} else {
			h.at = append(h.at, start, lineEnd, -1)
		}
		// The rest of its line cannot add a line.
		i = lineEnd + 1
	}
}

// chunkContext is chunk with context lines: the search for the required
// bytes passes over the lines that cannot be selected once the context
// after the last selected line is written, looking at only the last Before
// of them, which may come before the next selected line.
func (p *Pipeline) chunkContext(b []byte) int {
	whole := len(b)
	for len(b) > 0 && !p.Done() {
		if p.required != nil && p.afterLeft == 0 {
			end := len(b)
			if i := p.find.index(b); i >= 0 {
				end = bytes.LastIndexByte(b[:i], '\n') + 1
			}
			if end > 0 {
				p.passOver(b[:end])
				b = b[end:]
				continue
			}
		}
		nl := bytes.IndexByte(b, '\n')
		p.line(b[:nl], true)
		b = b[nl+1:]
	}
	return whole - len(b)
}

// passOver handles whole lines none of which is selected, with no context
// after a selected line left to write: only the last Before of them are
// looked at, one by one; the others are skipped as a block.
func (p *Pipeline) passOver(b []byte) {
	s := len(b)
	for k := 0; k < p.q.Before && s > 0; k++ {
		s = bytes.LastIndexByte(b[:s-1], '\n') + 1
	}
	if s > 0 {
		p.skip(b[:s])
		// Far enough for the lines held before to be no one's context, and
		// for the next group to be apart from the last.
		p.seq += int64(p.q.Before) + 1
	}
	for b = b[s:]; len(b) > 0; {
		nl := bytes.IndexByte(b, '\n')
		p.line(b[:nl], true)
		b = b[nl+1:]
	}
}

// skip passes over whole lines that cannot be selected, keeping only the
// stamp of the last stamped one when the time range needs it.
func (p *Pipeline) skip(b []byte) {
	if !p.ranged && p.rate == nil {
		return
	}
	end := len(b) - 1 // the newline ending the last line
	for end >= 0 {
		start := bytes.LastIndexByte(b[:end], '\n') + 1
		if l, ok := stampOf(b[start:end]); ok {
			p.carry, p.hasCarry = l, true
			return
		}
		end = start - 1
	}
}

// line handles one line (without its newline) of an input whose stamps the
// pipeline follows itself.
func (p *Pipeline) line(line []byte, nl bool) {
	if len(line) > ChunkSize {
		p.longLine(line)
		return
	}
	label, stamped, has := p.stampFor(line)
	// take, by hand: this is the loop over every line of a chunk.
	if p.ctxOn {
		p.takeContext(line, p.inRange(label, has), nl)
	} else if p.admit(line, label, stamped, has) {
		p.emit(line, label, stamped, nl)
	}
}

// longLine handles a whole line longer than ChunkSize, which a block from
// a mapping may hold, as the same line given in pieces is handled: decided
// on its first ChunkSize bytes, written (in JSON) a record a piece.
func (p *Pipeline) longLine(line []byte) {
	label, stamped, has := p.stampFor(line)
	p.inLong = true
	p.longLabel, p.longStamped = label, stamped
	p.longSel = p.take(line[:ChunkSize], label, stamped, has, p.q.Last >= 0)
	for rest := line[ChunkSize:]; ; rest = rest[ChunkSize:] {
		if len(rest) <= ChunkSize {
			p.longPiece(rest, true)
			break
		}
		p.longPiece(rest[:ChunkSize], false)
	}
	p.inLong = false
}

// take decides on a line (or the first piece of a long one) and writes,
// keeps or counts it. It reports whether the line is written, its later
// pieces with it.
func (p *Pipeline) take(line []byte, label tai64n.Label, stamped, has, nl bool) bool {
	if p.ctxOn {
		return p.takeContext(line, p.inRange(label, has), nl)
	}
	if p.admit(line, label, stamped, has) {
		p.emit(line, label, stamped, nl)
		return true
	}
	return false
}

// takeContext is take with context lines; in says that the line is in the
// time range. A line outside it ends the context: no line is the context
// of one across it.
func (p *Pipeline) takeContext(line []byte, in, nl bool) bool {
	if !in {
		if p.draining {
			p.done = true
		}
		p.afterLeft = 0
		p.seq += int64(p.q.Before) + 1
		return false
	}
	p.seq++
	if !p.draining && (p.q.Selector == nil || p.q.Selector.Match(line)) {
		for i := 0; i < p.back.n; i++ {
			if e := p.back.at(i); e.seq >= p.seq-int64(p.q.Before) {
				p.put(e.line, true, true, e.seq, e.src)
			}
		}
		p.back.reset()
		p.put(line, nl, false, p.seq, p.src)
		p.longCtx = false
		p.selected++
		p.afterLeft = p.q.After
		if p.q.First > 0 && p.selected >= int64(p.q.First) {
			// As grep -m: the context after the last line is still written.
			p.draining = p.afterLeft > 0
			p.done = !p.draining
		}
		return true
	}
	if p.afterLeft > 0 {
		p.afterLeft--
		p.put(line, nl, true, p.seq, p.src)
		p.longCtx = true
		if p.draining && p.afterLeft == 0 {
			p.done = true
		}
		return true
	}
	if p.q.Before > 0 {
		// Written before a selected line, a context line ends with a newline.
		p.back.push(line, true, true, p.seq, p.src)
		if p.back.n > p.q.Before {
			p.back.pop()
		}
	}
	return false
}

// put writes a line (ctx: a context line), or keeps it for Last.
func (p *Pipeline) put(line []byte, nl, ctx bool, seq int64, src int) {
	if p.q.Last < 0 {
		p.write(line, nl, ctx, seq, src)
		return
	}
	if p.q.Last == 0 {
		return
	}
	p.held.push(line, nl, ctx, seq, src)
	if p.held.sel <= p.q.Last {
		return
	}
	// One selected line too many: the first is one no more, and what is
	// not context before the next goes (that first line too, unless it is).
	next := int64(-1)
	for i := 0; i < p.held.n; i++ {
		if e := p.held.at(i); !e.ctx {
			if next < 0 {
				e.ctx = true
				p.held.sel--
				next = 0
				continue
			}
			next = e.seq
			break
		}
	}
	for p.held.n > 0 && p.held.at(0).seq < next-int64(p.q.Before) {
		p.held.pop()
	}
}

// write writes a line with its label, after "--" when context is on and
// the line is not next to the last one written.
func (p *Pipeline) write(line []byte, nl, ctx bool, seq int64, src int) {
	if p.ctxOn && p.wrote && seq > p.lastSeq+1 && p.q.Format != FormatJSON {
		p.out = append(p.out, p.sep...)
	}
	p.wrote, p.lastSeq = true, seq
	pre := p.pres[src][0]
	if ctx {
		pre = p.pres[src][1]
	}
	label, stamped := stampOf(line)
	p.out = p.w.append(p.out, pre, line, label, stamped, nl, !ctx)
	if len(p.out) >= flushAt {
		p.flush()
	}
}

// stampFor returns line's stamp, or the carried one, and remembers it.
func (p *Pipeline) stampFor(line []byte) (label tai64n.Label, stamped, has bool) {
	if !p.needStamp {
		return label, false, false
	}
	if label, stamped = stampOf(line); stamped {
		p.carry, p.hasCarry = label, true
		return label, true, true
	}
	return p.carry, false, p.hasCarry
}

// admit decides whether line is selected. label is its stamp (stamped) or
// the one it inherits (has: there is one).
func (p *Pipeline) admit(line []byte, label tai64n.Label, stamped, has bool) bool {
	return p.inRange(label, has) && (p.q.Selector == nil || p.q.Selector.Match(line))
}

// inRange reports whether a line stamped label (has: it has one, its own or
// inherited) is in the time range.
func (p *Pipeline) inRange(label tai64n.Label, has bool) bool {
	if !p.ranged {
		return true
	}
	if !has {
		return false
	}
	return !(p.q.HasSince && label.Before(p.q.Since) || p.q.HasUntil && !label.Before(p.q.Until))
}

// add runs the query over one line or piece of a line (for AddLines): b
// is the line with its newline, stamp its own stamp (stamped) or the one
// it inherits (zero when none). A b without a newline is a piece of a line
// that the next calls continue; the pieces are joined (up to ChunkSize)
// before the line is looked at. Flush takes a last line without a newline
// as a line.
func (p *Pipeline) add(b []byte, stamp tai64n.Label, stamped bool) {
	if p.Done() || len(b) == 0 {
		return
	}
	nl := b[len(b)-1] == '\n'
	switch {
	case p.inLong:
		if nl {
			p.longPiece(b[:len(b)-1], true)
			p.inLong = false
		} else {
			p.longPiece(b, false)
		}
	case len(p.part) == 0 && nl:
		if p.copyAll {
			p.copied = true
			p.out = append(p.out, b...)
			if len(p.out) >= flushAt {
				p.flush()
			}
			return
		}
		has := stamped || stamp != (tai64n.Label{})
		p.take(b[:len(b)-1], stamp, stamped, has, true)
	default:
		if len(p.part) == 0 {
			p.partStamp, p.partStamped = stamp, stamped
		}
		room := ChunkSize - len(p.part)
		if len(b) < room || nl && len(b) <= room+1 {
			p.part = append(p.part, b...)
			if nl {
				p.addPart(true)
			}
			return
		}
		// The line is decided on its first ChunkSize bytes; the rest of
		// b, however large a piece it was, follows as a later piece.
		p.part = append(p.part, b[:room]...)
		has := p.partStamped || p.partStamp != (tai64n.Label{})
		p.inLong = true
		p.longLabel, p.longStamped = p.partStamp, p.partStamped
		p.longSel = p.take(p.part, p.partStamp, p.partStamped, has, p.q.Last >= 0)
		p.part = p.part[:0]
		if rest := b[room:]; len(rest) > 0 {
			p.add(rest, stamp, stamped)
		}
	}
}

// Scanner returns a function that searches a whole text for what the
// query needs, for logread.Options.Scan to run on archives read ahead,
// and whose results AddBlock uses; nil when the query needs no search.
// The function may run on other goroutines, at the same time as the
// Pipeline.
func (p *Pipeline) Scanner() func(text []byte) any {
	if p.required == nil || p.ctxOn || p.copyAll {
		return nil
	}
	lit := p.required
	pool := &p.foundPool
	var once sync.Once
	var chosen finder // the bytes searched for, chosen on the first text
	return func(text []byte) any {
		once.Do(func() { chosen = newFinder(lit, text) })
		f := chosen
		h, _ := pool.Get().(*hitLines)
		if h == nil {
			h = &hitLines{}
		}
		h.pool = pool
		searchLines(text, &f, 0, len(text), h)
		return h
	}
}

// AddBlock is AddLines for a block as NextLines gives it, using what
// Scanner's function found in its archive ahead, if it ran.
func (p *Pipeline) AddBlock(l logread.Lines) int {
	h, ok := l.Scan.(*hitLines)
	if last := p.lastFound; last != nil && last != h {
		// The lines of another archive: the last one's are done with
		// (growing a new one for each archive cost a third of a search).
		p.lastFound = nil
		last.pool.Put(last)
	}
	if ok {
		p.found, p.foundOff, p.lastFound = h, l.ScanOff, h
		defer func() { p.found = nil }()
	}
	return p.AddLines(l.Bytes, l.Stamp)
}

// AddLines runs the query over a block of lines as a logread.Source's
// NextLines gives it: b is whole lines, each with its newline, and carry
// the stamp of the nearest stamped line before b in its source (zero when
// none: the last stamp of the inputs before is kept). A b without a final
// newline is a piece of a line (longer than the source's buffer, or the
// last of an input), and so is the b that follows one: pieces are joined
// up to ChunkSize, and a longer line is decided on its first ChunkSize
// bytes. Whole lines are searched and copied a block at a time, not a line
// at a time. Call Flush once the inputs have ended.
//
// It returns how many bytes of b were handled: all of them, unless the
// query completed (First) within b, then those up to the end of the line
// that completed it: a cursor saved after them continues exactly.
func (p *Pipeline) AddLines(b []byte, carry tai64n.Label) int {
	if p.rate == nil {
		return p.addLines(b, carry)
	}
	if !p.rate.started && len(b) > 0 {
		// The range shown starts with the first line read that has a time.
		for rest := b; len(rest) > 0; {
			if l, ok := stampOf(rest); ok {
				p.rate.seen(l)
				p.rate.started = true
				break
			}
			nl := bytes.IndexByte(rest, '\n')
			if nl < 0 {
				break
			}
			rest = rest[nl+1:]
		}
	}
	n := p.addLines(b, carry)
	if p.hasCarry {
		p.rate.seen(p.carry)
		if p.q.Live {
			// A line of a later interval closes the ones before it.
			p.liveRows(p.rate.interval(p.carry))
		}
	}
	return n
}

func (p *Pipeline) addLines(b []byte, carry tai64n.Label) int {
	if p.Done() || len(b) == 0 {
		return 0
	}
	if carry == (tai64n.Label{}) && p.hasCarry {
		carry = p.carry // nothing stamped before b in its source: the inputs' last stamp
	}
	if p.Pending() || b[len(b)-1] != '\n' {
		label, stamped := carry, false
		if !p.Pending() {
			if st, ok := stampOf(b); ok {
				label, stamped = st, true
			}
		}
		p.add(b, label, stamped)
		return len(b)
	}
	if p.needStamp {
		p.carry, p.hasCarry = carry, carry != (tai64n.Label{})
	}
	return p.chunk(b)
}

// DropPending forgets the start of a line given to AddLines whose end has not
// come: for a reader that will be resumed from a cursor at the line's
// start.
func (p *Pipeline) DropPending() {
	if !p.inLong {
		p.part = p.part[:0]
	}
}

// Pending reports whether AddLines holds the start of a line whose end has
// not come yet.
func (p *Pipeline) Pending() bool { return len(p.part) > 0 || p.inLong }

// addPart handles the joined pieces in p.part as a line.
func (p *Pipeline) addPart(nl bool) {
	line := p.part
	if nl {
		line = line[:len(line)-1]
	}
	has := p.partStamped || p.partStamp != (tai64n.Label{})
	p.take(line, p.partStamp, p.partStamped, has, nl)
	p.part = p.part[:0]
}

// emit writes, keeps or counts a selected line.
func (p *Pipeline) emit(line []byte, label tai64n.Label, stamped, nl bool) {
	p.selected++
	switch {
	case p.rate != nil:
		if label != (tai64n.Label{}) {
			p.rate.add(label)
		}
	case p.q.Count:
	case p.q.Last >= 0:
		p.ring.push(line, nl, p.src)
	default:
		p.out = p.w.append(p.out, p.pres[p.src][0], line, label, stamped, nl, true)
		if len(p.out) >= flushAt {
			p.flush()
		}
	}
	if p.q.First > 0 && p.selected >= int64(p.q.First) {
		p.done = true
	}
}

// longPiece handles a later piece of a long line; end says it is the last.
func (p *Pipeline) longPiece(b []byte, end bool) {
	if !p.longSel || p.q.Count || p.q.Last >= 0 || p.err != nil || p.q.Show != nil {
		return
	}
	if p.q.Format == FormatJSON {
		pre := p.pres[p.src][0]
		if p.longCtx {
			pre = p.pres[p.src][1]
		}
		if p.longStamped {
			// The piece with the line's stamp, so that the record says when.
			p.out = append(p.out, '{')
			p.out = append(p.out, pre...)
			p.out = append(p.out, `"time":`...)
			n := len(p.out)
			p.out = append(p.out, '"')
			if out, ok := p.w.times.Append(p.out, p.longLabel); ok {
				p.out = append(out, '"')
			} else {
				p.out = append(p.out[:n], "null"...)
			}
			p.out = append(p.out, `,"tai64n":"`...)
			p.out = p.longLabel.Append(p.out)
			p.out = append(p.out, `","line":`...)
			p.out = jsontext.AppendString(p.out, b)
			p.out = append(p.out, "}\n"...)
		} else {
			p.out = p.w.appendJSON(p.out, pre, b, tai64n.Label{}, false)
		}
	} else {
		p.out = append(p.out, b...)
		if end {
			p.out = append(p.out, '\n')
		}
	}
	if len(p.out) >= flushAt {
		p.flush()
	}
}

// Flush writes what the query holds back: a last line without a newline
// given to AddLines, the last lines (Last) or the count (Count), and any
// buffered output. Call it once the input has ended.
func (p *Pipeline) Flush() error {
	p.EndInput()
	if p.rate != nil {
		p.flushRate()
	}
	if p.q.Count {
		p.out = strconv.AppendInt(p.out, p.selected, 10)
		p.out = append(p.out, '\n')
	}
	p.writeHeld()
	p.flush()
	p.endWriteBehind()
	return p.err
}

// EndInput ends an input: a last line without a newline given to AddLines
// is taken as a line now, so that the next input does not continue it.
func (p *Pipeline) EndInput() {
	if len(p.part) > 0 && !p.Done() {
		p.addPart(false)
	}
	p.part = p.part[:0]
	p.inLong = false
}

// CutLine ends the line whose start AddLines holds, as a whole line,
// written with a newline: its file ended there (a logread.Lines with Cut:
// a ".u" archive whose writer was killed mid-line), and what comes next is
// a line of its own, which must keep its stamp and be selected by itself.
func (p *Pipeline) CutLine() {
	switch {
	case p.Done():
	case len(p.part) > 0:
		p.part = append(p.part, '\n')
		p.addPart(true)
	case p.inLong && p.q.Format != FormatJSON:
		p.longPiece(nil, true) // the newline; a JSON record is complete already
	}
	p.part = p.part[:0]
	p.inLong = false
}

// writeHeld writes the last lines kept for Last.
func (p *Pipeline) writeHeld() {
	if p.q.Last < 0 {
		return
	}
	for i := 0; i < p.held.n; i++ {
		e := p.held.at(i)
		p.write(e.line, e.nl, e.ctx, e.seq, e.src)
	}
	p.held.reset()
	p.ring.each(func(line []byte, nl bool, src int) {
		p.write(line, nl, false, 0, src)
	})
	p.ring.reset()
}

// StartLive writes the last lines held back (Last) and switches to writing
// every selected line at once: what following does once the existing log
// has been read. A line still in pieces stays pending.
func (p *Pipeline) StartLive() error {
	p.writeHeld()
	p.q.Last = -1
	p.q.Live = true
	p.flush()
	return p.err
}

func (p *Pipeline) flush() {
	if len(p.out) == 0 || p.err != nil {
		p.out = p.out[:0]
		return
	}
	if p.q.WriteBehind && !p.q.Live {
		if p.behind == nil {
			p.behind = startWriteBehind(p.dst)
		}
		var err error
		if p.out, err = p.behind.write(p.out); err != nil {
			p.err = &WriteError{err}
		}
		return
	}
	if _, err := p.dst.Write(p.out); err != nil {
		p.err = &WriteError{err}
	}
	p.out = p.out[:0]
}

// writeDirect writes b at once, after what is being written behind.
func (p *Pipeline) writeDirect(b []byte) {
	if p.behind != nil {
		if err := p.behind.wait(); err != nil {
			p.err = &WriteError{err}
			return
		}
	}
	if _, err := p.dst.Write(b); err != nil {
		p.err = &WriteError{err}
	}
}

// endWriteBehind waits for the output written behind and stops its
// goroutine.
func (p *Pipeline) endWriteBehind() {
	if p.behind == nil {
		return
	}
	if err := p.behind.stop(); err != nil && p.err == nil {
		p.err = &WriteError{err}
	}
	p.behind = nil
}

// writeBehind owns the goroutine that writes a Pipeline's output blocks
// (WriteBehind), in order, one at a time, while the Pipeline fills the
// next; stop ends it.
type writeBehind struct {
	blocks chan []byte // to write
	spare  chan []byte // written, to fill again
	done   chan struct{}
	queued int // blocks sent and not yet taken back from spare

	mu  sync.Mutex
	err error // the first write error
}

func startWriteBehind(dst io.Writer) *writeBehind {
	w := &writeBehind{blocks: make(chan []byte, 1), spare: make(chan []byte, 2), done: make(chan struct{})}
	go func() { // ended by stop, which closes blocks and waits for done
		defer close(w.done)
		for b := range w.blocks {
			if w.errNow() == nil {
				if _, err := dst.Write(b); err != nil {
					w.mu.Lock()
					w.err = err
					w.mu.Unlock()
				}
			}
			w.spare <- b[:0]
		}
	}()
	return w
}

// write hands b over to be written and returns a buffer to fill next, and
// the error of a write before, if one failed.
func (w *writeBehind) write(b []byte) ([]byte, error) {
	var next []byte
	if w.queued == 2 {
		// Both other buffers are taken: wait until one is written.
		next = <-w.spare
		w.queued--
	} else {
		select {
		case next = <-w.spare:
			w.queued--
		default:
			next = make([]byte, 0, cap(b))
		}
	}
	w.blocks <- b
	w.queued++
	return next, w.errNow()
}

// errNow returns the first write error so far.
func (w *writeBehind) errNow() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// wait waits until every block handed over is written.
func (w *writeBehind) wait() error {
	for ; w.queued > 0; w.queued-- {
		<-w.spare
	}
	return w.errNow()
}

func (w *writeBehind) stop() error {
	err := w.wait()
	close(w.blocks)
	<-w.done
	return err
}

// queue keeps lines in order, first in first out, reusing their buffers.
// Its length is a power of two.
type queue struct {
	e       []held
	head, n int
	sel     int // lines held that are not context lines
}

// held is a line a queue keeps.
type held struct {
	line    []byte
	nl, ctx bool
	seq     int64
	src     int
}

func (q *queue) push(line []byte, nl, ctx bool, seq int64, src int) {
	if q.n == len(q.e) {
		e := make([]held, max(8, 2*len(q.e)))
		for i := range q.n {
			e[i] = *q.at(i)
		}
		q.e, q.head = e, 0
	}
	h := &q.e[(q.head+q.n)&(len(q.e)-1)]
	h.line = append(h.line[:0], line...)
	h.nl, h.ctx, h.seq, h.src = nl, ctx, seq, src
	q.n++
	if !ctx {
		q.sel++
	}
}

func (q *queue) at(i int) *held { return &q.e[(q.head+i)&(len(q.e)-1)] }

func (q *queue) pop() {
	if !q.at(0).ctx {
		q.sel--
	}
	q.head = (q.head + 1) & (len(q.e) - 1)
	q.n--
}

func (q *queue) reset() { q.head, q.n, q.sel = 0, 0, 0 }

// ring keeps the last size lines pushed, reusing their buffers.
type ring struct {
	size  int
	lines [][]byte
	nls   []bool
	srcs  []int // the inputs', when labelled
	// labelled: the lines' inputs are kept; without labels there is one.
	labelled bool
	next     int // where the next line goes once the ring is full
	full     bool
}

func (r *ring) push(line []byte, nl bool, src int) {
	if r.size == 0 {
		return
	}
	if !r.full {
		r.lines = append(r.lines, append([]byte(nil), line...))
		r.nls = append(r.nls, nl)
		if r.labelled {
			r.srcs = append(r.srcs, src)
		}
		if len(r.lines) == r.size {
			r.full = true
		}
		return
	}
	r.lines[r.next] = append(r.lines[r.next][:0], line...)
	r.nls[r.next] = nl
	if r.labelled {
		r.srcs[r.next] = src
	}
	r.next = (r.next + 1) % r.size
}

func (r *ring) each(f func(line []byte, nl bool, src int)) {
	for i := range r.lines {
		j := (r.next + i) % len(r.lines)
		src := 0
		if r.labelled {
			src = r.srcs[j]
		}
		f(r.lines[j], r.nls[j], src)
	}
}

func (r *ring) reset() {
	r.lines, r.nls, r.srcs, r.next, r.full = r.lines[:0], r.nls[:0], r.srcs[:0], 0, false
}
