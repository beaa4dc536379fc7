package logread

import (
	"errors"
	"io"

	"github.com/taikit/taikit/tai64n"
)

// Merged gives the lines of several sources (log directories, files,
// streams) as one stream ordered by their stamps, as sort -m merges sorted
// files: a line without a stamp goes with the stamp before it in its own
// source, and lines with equal stamps come in the order the sources were
// given. The order is decided line by line, so NextLines gives one line
// (or one piece of a long line) at a time.
//
// A source's error ends the merged stream. Following (Options.Follow) is
// not for a merge: a source waiting for lines would hold up the others.
// A Merged is not safe for concurrent use.
type Merged struct {
	srcs    []Source
	heads   []Line
	live    []bool         // the source has a line in heads
	carry   []tai64n.Label // each source's stamp before its head, for NextLines
	started bool
	pending int // the source whose head was given last, to read again; -1 none
	inLine  int // the source in the middle of a line given in pieces, or -1
	last    int // the source of the line given last (Source), or -1
}

// Merge merges srcs by their stamps. Close closes them.
func Merge(srcs ...Source) *Merged {
	return &Merged{srcs: srcs, heads: make([]Line, len(srcs)), live: make([]bool, len(srcs)),
		carry: make([]tai64n.Label, len(srcs)), pending: -1, inLine: -1, last: -1}
}

// Source returns the number, among the sources given to Merge (or the
// directories given to OpenMerged), of the source of the line or piece that
// Next or NextLines returned last; -1 before the first and after the end.
// It is what tells a labelled merge where a line came from: two sources
// may hold the same bytes.
func (m *Merged) Source() int { return m.last }

// OpenMerged opens the log directories dirs (each named as given; opts.Name
// is not used) with opts and merges them. When one cannot be opened, those
// opened are closed and its error is returned.
func OpenMerged(dirs []string, opts Options) (*Merged, error) {
	if opts.Follow {
		return nil, errors.New("logread: a merge cannot follow")
	}
	var srcs []Source
	for _, d := range dirs {
		o := opts
		o.Name = ""
		r, err := OpenDir(d, o)
		if err != nil {
			for _, s := range srcs {
				s.Close()
			}
			return nil, err
		}
		srcs = append(srcs, r)
	}
	return Merge(srcs...), nil
}

// Next returns the next line of the merged stream, or io.EOF after the
// last. The line is valid until the next call of Next or NextLines.
func (m *Merged) Next() (Line, error) {
	l, _, err := m.next()
	return l, err
}

// NextLines returns the next line as a block (see Reader.NextLines), with
// the stamp its own source carried into it.
func (m *Merged) NextLines() (Lines, error) {
	if len(m.srcs) == 1 {
		b, err := m.srcs[0].NextLines()
		m.last = 0
		if err != nil {
			m.last = -1
		}
		return b, err
	}
	l, carry, err := m.next()
	return Lines{Bytes: l.Bytes, Stamp: carry, Cut: l.Cut}, err
}

func (m *Merged) next() (Line, tai64n.Label, error) {
	m.last = -1
	if len(m.srcs) == 1 {
		l, err := m.srcs[0].Next()
		if err == nil {
			m.last = 0
		}
		return l, l.Stamp, err
	}
	if !m.started {
		m.started = true
		for i := range m.srcs {
			if err := m.fill(i); err != nil {
				return Line{}, tai64n.Label{}, err
			}
		}
	}
	if m.pending >= 0 {
		// Only now is the line given last no longer needed.
		if err := m.fill(m.pending); err != nil {
			return Line{}, tai64n.Label{}, err
		}
		m.pending = -1
	}
	pick := -1
	if m.inLine >= 0 && m.live[m.inLine] {
		pick = m.inLine // the rest of a line comes from the same source
	} else {
		for i := range m.heads {
			if m.live[i] && (pick < 0 || m.heads[i].Stamp.Before(m.heads[pick].Stamp)) {
				pick = i
			}
		}
		if pick < 0 {
			return Line{}, tai64n.Label{}, io.EOF
		}
	}
	l := m.heads[pick]
	m.last = pick
	carry := m.carry[pick]
	m.carry[pick] = l.Stamp
	m.live[pick] = false
	m.pending = pick
	m.inLine = -1
	if b := l.Bytes; len(b) > 0 && b[len(b)-1] != '\n' && !l.Cut {
		m.inLine = pick
	}
	return l, carry, nil
}

func (m *Merged) fill(i int) error {
	l, err := m.srcs[i].Next()
	if err == io.EOF {
		m.live[i] = false
		return nil
	}
	if err != nil {
		return err
	}
	m.heads[i], m.live[i] = l, true
	return nil
}

// Errors returns the per-file errors the sources kept (see Reader.Errors),
// in the order of the sources.
func (m *Merged) Errors() []error {
	var errs []error
	for _, s := range m.srcs {
		errs = append(errs, s.Errors()...)
	}
	return errs
}

// Close closes every source.
func (m *Merged) Close() error {
	var first error
	for _, s := range m.srcs {
		if err := s.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
