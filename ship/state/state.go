// Package state is logship's state file: for each directory shipped, the
// reader's position after the last record the server acknowledged, the
// record's number, and the gaps met. It is its own package so that a
// program that only reads the file (svstatd, to say how far a shipper is
// behind) need not link the sinks' clients.
package state

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"sync"

	"github.com/taikit/taikit/errtext"
	"github.com/taikit/taikit/internal/atomicfile"
	"github.com/taikit/taikit/logread"
)

// Position is how far a directory has been shipped: everything up to it
// was acknowledged by the server.
type Position struct {
	// Cursor is the reader's position after the last record acknowledged
	// (always at a line's end).
	Cursor logread.Cursor
	// Seq is the number of the last record acknowledged (0: none), MS its
	// time (see Record.MS).
	Seq uint64
	MS  uint64
	// Gaps counts the gaps met (archives pruned before they were shipped)
	// and LostBytes the bytes they were known to hold; LostUnknown counts
	// the gaps whose size could not be told whole.
	Gaps        uint64
	LostBytes   uint64
	LostUnknown uint64
}

// State is the file that keeps each directory's Position, for a shipper
// to resume from: the cursor file of logship -C. It is written whole,
// atomically (a temporary file made durable, then renamed), so a crash
// leaves the old state or the new one. It is safe for concurrent use by
// the shippers of several directories.
type State struct {
	path string
	mu   sync.Mutex
	dirs map[string]Position
}

const stateMagic = "taikit-logship 1"

// ErrStateSyntax is returned for a state file that logship did not write.
var ErrStateSyntax = errors.New("not a logship state file")

// Open reads the state file at path; a missing file is an empty
// state, written on the first Save. An empty path is a state kept in
// memory only.
func Open(path string) (*State, error) {
	s := &State{path: path, dirs: map[string]Position{}}
	if path == "" {
		return s, nil
	}
	text, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, &errtext.Error{Op: "unable to read state file", Path: path, Err: err}
	}
	if err := s.parse(text); err != nil {
		return nil, fmt.Errorf("unable to read state file %s: %w", path, err)
	}
	return s, nil
}

// Path is the file's path ("" for a state kept in memory only).
func (s *State) Path() string { return s.path }

// Dirs returns the directories the file has positions for, as they were
// named, sorted.
func (s *State) Dirs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.dirs))
	for d := range s.dirs {
		names = append(names, d)
	}
	slices.Sort(names)
	return names
}

// Get returns the position saved for the directory dir (as named), and
// whether there is one.
func (s *State) Get(dir string) (Position, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.dirs[dir]
	return p, ok
}

// Save records p for dir and writes the file.
func (s *State) Save(dir string, p Position) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dirs[dir] = p
	if s.path == "" {
		return nil
	}
	if err := atomicfile.WriteFile(s.path, s.text(), 0o600); err != nil {
		return &errtext.Error{Op: "unable to save state file", Path: s.path, Err: errtext.WithoutPath(err)}
	}
	return nil
}

// text is the file: the magic line, then for each directory a "dir" line
// and its cursor's lines (logread's text form), the directories sorted.
//
//	taikit-logship 1
//	dir "/var/log/sshd" seq 1200 ms 1733390000123 gaps 0 lost 0 unknown 0
//	taikit-rotate-cursor 1
//	after @4000000065a1b2c3d4e5f607
//	at current - 2049 1234 8192 4096 0123456789abcdef
func (s *State) text() []byte {
	b := []byte(stateMagic + "\n")
	names := make([]string, 0, len(s.dirs))
	for d := range s.dirs {
		names = append(names, d)
	}
	slices.Sort(names)
	for _, d := range names {
		p := s.dirs[d]
		b = fmt.Appendf(b, "dir %s seq %d ms %d gaps %d lost %d unknown %d\n",
			strconv.Quote(d), p.Seq, p.MS, p.Gaps, p.LostBytes, p.LostUnknown)
		c, _ := p.Cursor.MarshalText()
		b = append(b, c...)
	}
	return b
}

func (s *State) parse(text []byte) error {
	lines := bytes.SplitAfter(text, []byte("\n"))
	if len(lines) == 0 || string(bytes.TrimSuffix(lines[0], []byte("\n"))) != stateMagic {
		return ErrStateSyntax
	}
	lines = lines[1:]
	for len(lines) > 0 && len(lines[0]) > 0 {
		var p Position
		var quoted string
		if !bytes.HasPrefix(lines[0], []byte("dir ")) {
			return ErrStateSyntax
		}
		head := string(bytes.TrimSuffix(lines[0], []byte("\n")))
		q, err := strconv.QuotedPrefix(head[4:])
		if err != nil {
			return ErrStateSyntax
		}
		quoted = q
		dir, _ := strconv.Unquote(quoted)
		_, err = fmt.Sscanf(head[4+len(quoted):], " seq %d ms %d gaps %d lost %d unknown %d",
			&p.Seq, &p.MS, &p.Gaps, &p.LostBytes, &p.LostUnknown)
		if err != nil {
			return ErrStateSyntax
		}
		lines = lines[1:]
		n := 0
		for n < len(lines) && len(lines[n]) > 0 && !bytes.HasPrefix(lines[n], []byte("dir ")) {
			n++
		}
		if err := p.Cursor.UnmarshalText(bytes.Join(lines[:n], nil)); err != nil {
			return fmt.Errorf("directory %s: %w", dir, err)
		}
		lines = lines[n:]
		s.dirs[dir] = p
	}
	return nil
}
