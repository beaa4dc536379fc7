package filter

import (
	"bytes"
	"encoding/binary"
)

// Match reports whether line matches pattern as daemontools' multilog
// matches it (match.c): the whole line, byte for byte; '*' at the end of
// the pattern matches any rest; '*' followed by a byte c skips to the first
// following c in line, without backtracking; every other byte is literal.
// See the package documentation for examples.
//
// match.c reads the pattern as a C string, ending at its first NUL; Match
// takes every byte of pattern, NUL included, as a literal. A pattern from a
// command line cannot hold a NUL, so the difference cannot be seen there.
//
// Match does not allocate and does not keep pattern or line.
func Match(pattern, line []byte) bool {
	for len(pattern) > 0 {
		c := pattern[0]
		pattern = pattern[1:]
		if c != '*' {
			if len(line) == 0 || line[0] != c {
				return false
			}
			line = line[1:]
			continue
		}
		if len(pattern) == 0 {
			return true
		}
		// Skip to the first occurrence of the byte after the star, which
		// is then matched by the next round (as a literal, or as a star
		// again in "**").
		i := bytes.IndexByte(line, pattern[0])
		if i < 0 {
			return false
		}
		line = line[i:]
	}
	return len(line) == 0
}

// prog is a pattern taken apart for matching a window: the literal bytes
// before its first star, then, for each star, the byte it skips to and the
// literal bytes that follow (a star ending the pattern is any). Literals
// are compared whole, not a byte at a time as Match goes. never makes a
// prog that matches nothing.
type prog struct {
	head  lit
	segs  []seg
	any   bool
	never bool
	shape shape // what the prog's form lets advance and match skip
}

// shape is a prog's form where it is one of the forms most patterns of a
// script take, which are matched without a call to the general loop: a
// line ends with a literal ("-* * tick", after the shared beginning), a
// literal begins the rest ("kernel: *"), or a beginning skips one field
// ("* " skips the stamp or a program name). The general loop costs more
// in its setup than in its work on such short patterns.
type shape uint8

const (
	general    shape = iota
	literal          // head only: the whole rest
	literalAny       // head, then any
	skipTo           // an empty head, then one star skipping to its byte, which it eats
)

// seg is a star of a prog and what follows it up to the next star.
type seg struct {
	c   byte // what the star skips to
	eat bool // c is the literal byte after the star, not another star
	lit lit  // with eat, the literal bytes after c
}

// lit is a run of literal bytes, with its first eight in a word (w, with
// mask m over the bytes it has): most literals of a script are that short,
// and compare in a register, without a call.
type lit struct {
	b    []byte
	w, m uint64
}

func newLit(b []byte) lit {
	l := lit{b: b}
	for i := 0; i < len(b) && i < 8; i++ {
		l.w |= uint64(b[i]) << (8 * i)
		l.m |= 0xff << (8 * i)
	}
	return l
}

// at reports whether window has l at pos.
func (l *lit) at(window []byte, pos int) bool {
	n := len(l.b)
	if n == 0 {
		return true
	}
	if len(window)-pos < 8 {
		return len(window)-pos >= n && string(window[pos:pos+n]) == string(l.b)
	}
	if binary.LittleEndian.Uint64(window[pos:])&l.m != l.w {
		return false
	}
	return n <= 8 || len(window)-pos >= n && string(window[pos+8:pos+n]) == string(l.b[8:])
}

// compile returns pattern's prog, its segs appended to arena (which then
// grows only when it lacks room): the prog shares pattern's bytes.
func compile(pattern []byte, arena []seg) (prog, []seg) {
	var p prog
	i := bytes.IndexByte(pattern, '*')
	if i < 0 {
		p.head = newLit(pattern)
		p.shape = literal
		return p, arena
	}
	p.head, pattern = newLit(pattern[:i]), pattern[i:]
	start := len(arena)
	for len(pattern) > 0 { // pattern begins with a star
		pattern = pattern[1:]
		switch {
		case len(pattern) == 0:
			p.any = true
		case pattern[0] == '*':
			// "**": skip to a literal '*', where the next star starts.
			arena = append(arena, seg{c: '*'})
		default:
			j := bytes.IndexByte(pattern, '*')
			if j < 0 {
				j = len(pattern)
			}
			arena = append(arena, seg{c: pattern[0], eat: true, lit: newLit(pattern[1:j])})
			pattern = pattern[j:]
		}
	}
	p.segs = arena[start:len(arena):len(arena)]
	p.shape = shapeOf(&p)
	return p, arena
}

func shapeOf(p *prog) shape {
	switch {
	case p.never:
		return general
	case len(p.segs) == 0 && p.any:
		return literalAny
	case len(p.segs) == 0:
		return literal
	case len(p.segs) == 1 && len(p.head.b) == 0 && p.segs[0].eat && len(p.segs[0].lit.b) == 0:
		return skipTo
	}
	return general
}

// advance matches the pattern p was compiled from, which must not end
// with '*', against window from pos on, without requiring the window to
// end there, and returns where the pattern ends in the window, or -1.
// Matching is deterministic (a star skips to the first occurrence of the
// byte after it), so two patterns that begin with the same bytes reach the
// same place.
func (p *prog) advance(window []byte, pos int) int {
	switch p.shape {
	case skipTo:
		j := bytes.IndexByte(window[pos:], p.segs[0].c)
		if j < 0 {
			return -1
		}
		return pos + j + 1
	case literal, literalAny:
		if !p.head.at(window, pos) {
			return -1
		}
		return pos + len(p.head.b)
	}
	return p.advanceAll(window, pos)
}

// advanceAll is advance for any prog.
func (p *prog) advanceAll(window []byte, pos int) int {
	if p.never || !p.head.at(window, pos) {
		return -1
	}
	pos += len(p.head.b)
	for i := range p.segs {
		s := &p.segs[i]
		j := bytes.IndexByte(window[pos:], s.c)
		if j < 0 {
			return -1
		}
		pos += j
		if s.eat {
			pos++
			if !s.lit.at(window, pos) {
				return -1
			}
			pos += len(s.lit.b)
		}
	}
	return pos
}

// match is Match for the pattern p was compiled from.
func (p *prog) match(window []byte) bool {
	switch p.shape {
	case literal:
		return len(window) == len(p.head.b) && p.head.at(window, 0)
	case literalAny:
		return p.head.at(window, 0)
	}
	pos := p.advanceAll(window, 0)
	return pos >= 0 && (p.any || pos == len(window))
}
