package logcat

import (
	"io"

	"github.com/taikit/taikit/logread"
)

// stream gives the lines of one or more log directories in order: one
// directory as it is, several merged by their stamps as sort -m merges
// sorted files (a line without a stamp goes with the stamp before it, and
// lines with equal stamps come in the order the directories were named).
type stream struct {
	readers []*logread.Reader
	heads   []logread.Line
	live    []bool // the reader has a line in heads
	started bool
	pending int // the reader whose head was given last, to read again; -1 none
	inLine  int // the reader in the middle of a line given in pieces, or -1
}

func newStream(readers []*logread.Reader) *stream {
	return &stream{readers: readers, heads: make([]logread.Line, len(readers)),
		live: make([]bool, len(readers)), pending: -1, inLine: -1}
}

// next returns the next line, or io.EOF after the last. A reader's error
// ends the stream. The line is valid until the next call.
func (s *stream) next() (logread.Line, error) {
	if len(s.readers) == 1 {
		return s.readers[0].Next()
	}
	if !s.started {
		s.started = true
		for i := range s.readers {
			if err := s.fill(i); err != nil {
				return logread.Line{}, err
			}
		}
	}
	if s.pending >= 0 {
		// Only now is the line given last no longer needed.
		if err := s.fill(s.pending); err != nil {
			return logread.Line{}, err
		}
		s.pending = -1
	}
	pick := -1
	if s.inLine >= 0 && s.live[s.inLine] {
		pick = s.inLine // the rest of a line comes from the same reader
	} else {
		for i := range s.heads {
			if s.live[i] && (pick < 0 || s.heads[i].Stamp.Before(s.heads[pick].Stamp)) {
				pick = i
			}
		}
		if pick < 0 {
			return logread.Line{}, io.EOF
		}
	}
	l := s.heads[pick]
	s.live[pick] = false
	s.pending = pick
	s.inLine = -1
	if b := l.Bytes; len(b) > 0 && b[len(b)-1] != '\n' {
		s.inLine = pick
	}
	return l, nil
}

func (s *stream) fill(i int) error {
	l, err := s.readers[i].Next()
	if err == io.EOF {
		s.live[i] = false
		return nil
	}
	if err != nil {
		return err
	}
	s.heads[i], s.live[i] = l, true
	return nil
}
