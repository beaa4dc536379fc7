package multilog

import (
	"bytes"
	"runtime"
	"sync/atomic"

	"github.com/taikit/taikit/filter"
)

// Deciding lines on the other processor.
//
// With patterns, the selector walk is most of an engine's work (the bench
// suite's qmail-style script: 50 ns a line, beside 20 ns for stamping and
// copying it), and it depends on nothing but the line and the chunk's
// stamp. So a chunk of short lines is cut into blocks, and a helper
// goroutine decides blocks from the back while the engine decides and
// delivers blocks from the front; where they meet, the engine delivers
// the helper's blocks with the selections it found. Each block is taken
// by whichever side comes to it first, so a helper that starts late, or
// whose processor is busy, costs nothing but its own time: the engine
// does the work itself. Everything is still written by the engine, in
// order.

// helpBlock is the size of a block the two sides take at a time: some
// hundreds of lines, the time to decide them (tens of microseconds) well
// above the cost of taking one, and small enough that the engine waits
// little for the block the helper is in when they meet.
const helpBlock = 32 << 10

// helpMin is the least a chunk must have for a helper to be worth starting.
const helpMin = 4 * helpBlock

// maxBlockLines bounds the lines of a block the helper keeps selections
// for (16 bytes each), whatever the input: lines averaging under 16 bytes
// are not a log's, and a block of them (a flood of empty lines) is left to
// the engine from where the helper stopped.
const maxBlockLines = helpBlock / 16

// maxHelpMarks bounds the marks of a script whose selections a helper can
// keep: one bit each in a word per line.
const maxHelpMarks = 64

// The claim word: which blocks are left, [lo, hi), and the generation of
// the chunk they belong to, so that a helper started for an earlier chunk
// cannot take a block of a later one.
const (
	claimBits = 20
	claimMask = 1<<claimBits - 1
	genMask   = 1<<(64-2*claimBits) - 1 // generations wrap round
)

func claimWord(gen uint64, lo, hi int) uint64 {
	return gen<<(2*claimBits) | uint64(lo)<<claimBits | uint64(hi)
}

func splitClaim(w uint64) (gen uint64, lo, hi int) {
	return w >> (2 * claimBits), int(w >> claimBits & claimMask), int(w & claimMask)
}

// sharing is the engine's side of the work shared with a helper; one
// per Engine, reused for every chunk.
type sharing struct {
	claim atomic.Uint64
	gen   uint64

	// Set by the engine before a generation's claim word is published, and
	// not changed until every block of it the helper took is done.
	walk   *filter.Walk
	prefix *filter.Prefix
	chunk  []byte // whole lines only
	room   int    // the longest line decided here (longer ones need a window)
	// blocks holds, for each block the helper decided, each line's
	// selections and end, up to the end of the block, a line too long to
	// be decided apart, or maxBlockLines lines (the engine then takes the
	// rest of the chunk its own way).
	blocks [][]sharedLine
	done   chan int // the helper's blocks, as it finishes them

	// For tests: most, when > 0, is how many blocks a helper takes at most;
	// start, when set, starts the helper instead of a goroutine.
	most  int
	start func(help func())
}

// sharedLine is a line the helper decided.
type sharedLine struct {
	sel uint64 // bit k: selected at mark k
	nl  int32  // the line's newline, from the start of the block
}

// blockStart returns where block i of chunk starts: after the first newline
// at or after i·helpBlock (every block but the first), or len(chunk).
func blockStart(chunk []byte, i int) int {
	if i == 0 {
		return 0
	}
	at := i * helpBlock
	if at >= len(chunk) {
		return len(chunk)
	}
	nl := bytes.IndexByte(chunk[at:], '\n')
	if nl < 0 {
		return len(chunk)
	}
	return at + nl + 1
}

// decideLines appends to lines the selections and ends of the lines of
// block, each at most room bytes without its newline, up to the end of
// block, the first longer line, or maxBlockLines lines.
func decideLines(w *filter.Walk, p *filter.Prefix, block []byte, room int, lines []sharedLine) []sharedLine {
	pos := 0
	for n := 0; pos < len(block) && n < maxBlockLines; n++ {
		rest := block[pos:]
		nl := bytes.IndexByte(rest[:min(len(rest), room+1)], '\n')
		if nl < 0 {
			break
		}
		lines = append(lines, sharedLine{sel: w.EvalTextBits(p, rest[:nl]), nl: int32(pos + nl)})
		pos += nl + 1
	}
	return lines
}

// help is the helper goroutine: it takes blocks from the back of the chunk
// of generation gen while there are any, and ends. Started late, after the
// engine has taken every block (or gone on to another chunk), it ends
// without touching anything.
func (a *sharing) help(gen uint64) {
	for taken := 0; a.most == 0 || taken < a.most; {
		w := a.claim.Load()
		g, lo, hi := splitClaim(w)
		if g != gen || lo >= hi {
			return
		}
		if !a.claim.CompareAndSwap(w, claimWord(gen, lo, hi-1)) {
			continue
		}
		taken++
		i := hi - 1
		start := blockStart(a.chunk, i)
		a.blocks[i] = decideLines(a.walk, a.prefix, a.chunk[start:blockStart(a.chunk, i+1)], a.room, a.blocks[i][:0])
		a.done <- i
	}
}

// decideShared decides and delivers the whole lines at the start of chunk
// that are at most room bytes long, with a helper deciding blocks of them,
// and returns the rest of chunk. It returns chunk as it is when sharing
// does not pay: a small chunk, one processor, a script with many marks.
func (e *Engine) decideShared(chunk, stamp []byte, room int) []byte {
	if e.alone || len(chunk) < helpMin || e.walk.Marks() > maxHelpMarks || runtime.GOMAXPROCS(0) < 2 {
		return chunk
	}
	lines := chunk[:bytes.LastIndexByte(chunk, '\n')+1]
	nblocks := (len(lines) + helpBlock - 1) / helpBlock
	if nblocks < 2 || nblocks > claimMask {
		return chunk
	}
	if e.share == nil {
		e.share = &sharing{walk: e.walk, prefix: &e.prefix}
	}
	a := e.share
	if cap(a.blocks) < nblocks {
		a.blocks = append(a.blocks[:cap(a.blocks)], make([][]sharedLine, nblocks-cap(a.blocks))...)
		a.done = make(chan int, nblocks)
	}
	a.blocks, a.chunk, a.room = a.blocks[:nblocks], lines, room
	a.gen = (a.gen + 1) & genMask
	gen := a.gen
	a.claim.Store(claimWord(gen, 0, nblocks))
	if a.start != nil {
		a.start(func() { a.help(gen) })
	} else {
		go a.help(gen) // ends when no block is left: at the latest once this call has taken the last
	}

	// The engine's blocks, from the front, each delivered as it is decided.
	pos := 0
	for {
		w := a.claim.Load()
		_, lo, hi := splitClaim(w)
		if lo >= hi {
			break // the helper has [hi, nblocks)
		}
		if !a.claim.CompareAndSwap(w, claimWord(gen, lo+1, hi)) {
			continue
		}
		for end := blockStart(lines, lo+1); pos < end; {
			nl := bytes.IndexByte(lines[pos:min(len(lines), pos+room+1)], '\n')
			if nl < 0 {
				// A line longer than room: the rest goes the engine's usual
				// way, once the helper has let go of the chunk.
				_, _, hi := splitClaim(a.claim.Swap(claimWord(gen, 0, 0)))
				a.wait(nblocks - hi)
				return chunk[pos:]
			}
			e.evalText(lines[pos : pos+nl])
			e.deliver(stamp, lines[pos:pos+nl], lines[pos:pos+nl+1])
			pos += nl + 1
		}
	}
	_, _, hi := splitClaim(a.claim.Load())
	a.wait(nblocks - hi)
	// The helper's blocks, in order, with the selections it found.
	for i := hi; i < nblocks; i++ {
		start := pos
		for _, l := range a.blocks[i] {
			e.selBits = l.sel
			nl := start + int(l.nl)
			e.deliver(stamp, lines[pos:nl], lines[pos:nl+1])
			pos = nl + 1
		}
		if pos != blockStart(lines, i+1) {
			return chunk[pos:] // the helper met a line too long to decide here
		}
	}
	return chunk[pos:]
}

// wait waits for the helper to finish the n blocks it took.
func (a *sharing) wait(n int) {
	for range n {
		<-a.done
	}
}
