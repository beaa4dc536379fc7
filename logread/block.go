package logread

import (
	"bytes"

	"github.com/taikit/taikit/tai64n"
)

// Lines is a run of lines of the stream, all from one file: what
// NextLines gives a reader that handles many lines at a time (a search,
// a copy) instead of paying a call per line.
type Lines struct {
	// Bytes is whole lines, each with its newline, as the file holds them;
	// valid until the next call of Next or NextLines. A block lacks the
	// final newline only where a Line would (the end of a file without
	// one, a line longer than the read buffer given in pieces); such a
	// piece, and the piece that continues it, come as blocks of their own,
	// so a block that ends with a newline holds whole lines from its first
	// byte, or the rest of the line the block before it began.
	Bytes []byte
	// Stamp is the stamp carried in: that of the nearest stamped line
	// before the block, which its first lines inherit until one has its
	// own; zero when there is none. The lines' own stamps are in Bytes.
	Stamp tai64n.Label
	// Cut says that a block without a final newline still ends its last
	// line, as Line.Cut does.
	Cut bool
	// Scan is what Options.Scan returned for the archive the block comes
	// from, when it ran on the archive's content ahead (nil otherwise);
	// ScanOff is where Bytes begin in that content.
	Scan    any
	ScanOff int
}

// NextLines returns the next lines of the stream, as many as the read
// buffer holds whole (up to 1 MiB; from a mapped or decompressed-ahead
// archive, up to 16 MiB), from one file. It ends, waits and
// applies Since and Until exactly as Next does: lines before Since are
// skipped (one by one, after the binary search on the file), and a block
// ends before the first line stamped after Until. Calls of Next and
// NextLines may be mixed.
//
// Cursor then stands after the whole block; CursorAfter(n) after its
// first n bytes, for a caller that wrote out only part of it.
func (r *Reader) NextLines() (Lines, error) {
	l, err := r.read(true) // take sets r.scan for the block it took
	r.lastLen = len(l.Bytes)
	b := Lines{Bytes: l.Bytes, Stamp: l.Stamp, Cut: l.Cut}
	if r.scan != nil && len(l.Bytes) > 0 {
		b.Scan, b.ScanOff = r.scan, r.scanOff
	}
	return b, err
}

// CursorAfter returns the position after the first n bytes of what the
// last Next or NextLines returned: n = 0 is the position before it, n =
// its length is Cursor(). Give n at a line end (just after a newline), or
// the restarted Reader begins in the middle of a line. n outside that
// range is clamped to it.
func (r *Reader) CursorAfter(n int) Cursor {
	c := r.Cursor()
	if !c.has || r.resume != nil {
		return c
	}
	n = max(0, min(n, r.lastLen))
	c.off -= int64(r.lastLen - n)
	return c
}

// takeBlock returns the whole lines in the buffer, or with final the rest
// of the buffer, or a whole full buffer (a line longer than it).
func (s *source) takeBlock(buf []byte, final bool) ([]byte, bool) {
	return s.takeTo(buf, final, bytes.LastIndexByte)
}

// acceptBlock applies stamps and Until to b, which begins at a line start
// after Since is past. It returns the line with the stamp carried in.
func (r *Reader) acceptBlock(b []byte) (Line, bool) {
	s := r.src
	before := r.stamp
	if r.opts.HasUntil {
		// Every stamped line is compared, so that the stream ends where
		// Next would end it even when stamps are out of order.
		for pos := 0; pos < len(b); {
			line := b[pos:]
			if st, ok := tai64n.ParsePrefix(line); ok {
				if r.opts.Until.Before(st) {
					// The stream ends before this line; it stays unread,
					// so that a Cursor stands after the last line given.
					s.start -= len(b) - pos
					r.ended = true
					b = b[:pos]
					break
				}
				r.stamp = st
			}
			nl := bytes.IndexByte(line, '\n')
			if nl < 0 {
				break
			}
			pos += nl + 1
		}
	} else {
		r.stamp = lastStamp(b, r.stamp)
	}
	if len(b) == 0 {
		return Line{}, false
	}
	s.atLineStart = b[len(b)-1] == '\n'
	return Line{Bytes: b, Stamp: before}, true
}

// lastStamp returns the stamp of the last stamped line in b, which begins
// at a line start, or prev when no line of b has one. Log lines are
// nearly always stamped, so this looks at one line or a few.
func lastStamp(b []byte, prev tai64n.Label) tai64n.Label {
	end := len(b)
	if end > 0 && b[end-1] == '\n' {
		end--
	}
	for end >= 0 {
		start := bytes.LastIndexByte(b[:end], '\n') + 1
		if st, ok := tai64n.ParsePrefix(b[start:]); ok {
			return st
		}
		end = start - 1
	}
	return prev
}
