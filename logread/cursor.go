package logread

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/taikit/taikit/internal/atomicfile"
)

// Cursor is a position in a log directory's stream: where a Reader stood
// after the last line Next gave. A follower that saves it (SaveCursor) and
// starts again from it (Options.Cursor) continues exactly there,
// without losing or repeating a line, across any rotations in between.
//
// # What identifies a position
//
// Names alone cannot: "current" becomes "previous" and then "@x.s", and a
// processor replaces the file with a new, compressed one. Stamps alone
// cannot either: lines may share a stamp, or have none. A Cursor holds
//
//   - the stamp of the newest archive consumed: every archive at or before
//     it is done, whatever happens to the later ones;
//   - the files read to their end before they had an archive name (a
//     rotation in progress), each by device and inode, its size and a hash
//     of its first 4096 bytes, so that their archive is recognised whether
//     it is the same file or a compressed copy;
//   - the file being read, by archive stamp (when it was opened as an
//     archive) or by device, inode and leading-bytes hash, and the offset
//     after the last line in its decompressed bytes. Decompression gives
//     back the same bytes, so the offset holds in the compressed copy.
//
// A restarted Reader finds the file being read by its place first: every
// writer names archives in the order it rotates files, so the files after
// the newest archive consumed are, under whatever names they have now, the
// files read to their end and then the cursor's file. The directory is
// looked at until two looks agree, the file at that place is opened, and
// the open descriptor must be the inode the look saw and begin with the
// cursor's leading bytes (and be the cursor's inode unless a processor
// may have copied it). Only when that place holds another file (archives
// pruned meanwhile) is the file searched for by its leading bytes.
//
// A position whose file has since been pruned cannot be found again; the
// Reader then reports a *GapError naming that file and how much of it had
// been read, and continues with the oldest file left after the cursor's
// newest archive. Device and inode numbers make a cursor valid on the
// same file system only: a directory copied elsewhere needs a new one.
//
// The zero Cursor is the start of the directory. Cursors are values; the
// text form (MarshalText) is one short line per file.
type Cursor struct {
	after [stampLen]byte // zero: no archive read yet
	nq    int
	q     [maxQueue]readFile

	has   bool // a file is being read
	kind  srcKind
	stamp [stampLen]byte // for an archive
	file  readFile       // identity and leading bytes of the file being read
	off   int64
}

// Cursor returns the position after the last line Next returned. It does
// not allocate, so a follower may take one per line.
func (r *Reader) Cursor() Cursor {
	var c Cursor
	if r.resume != nil {
		return *r.resume // not started yet
	}
	if r.stream != nil {
		return c // a stream has no place in a directory
	}
	c.after = r.after
	for _, q := range r.queue {
		// The descriptors stay the Reader's; without its own, a processor's
		// output is not told by its inode number, which may be reused.
		q.f, q.alt, q.altF = nil, fileID{}, nil
		c.q[c.nq] = q
		c.nq++
	}
	if s := r.src; s != nil {
		c.has = true
		c.kind = s.kind
		if s.kind == kindArchive {
			copy(c.stamp[:], s.stamp)
		}
		c.file = readFile{id: s.id, size: s.readOff, prefixN: s.prefixN, prefixH: s.prefixH}
		c.off = s.offset()
	}
	return c
}

func (c *Cursor) kindName() string {
	switch c.kind {
	case kindArchive:
		return string(c.stamp[:])
	case kindPrevious:
		return filePrevious
	case kindProcessed:
		return fileProcessed
	}
	return fileCurrent
}

// cursorMagic begins a cursor's text. It names the package the reader was
// part of when the format was made; cursors saved then load unchanged.
const cursorMagic = "taikit-rotate-cursor 1"

// MarshalText writes the cursor as text:
//
//	taikit-rotate-cursor 1
//	after @4000000065a1b2c3d4e5f607
//	read <dev> <ino> <size> <n> <hash>
//	at current - <dev> <ino> <offset> <n> <hash>
//
// "after" is "-" before any archive; "read" lines (zero or more) are the
// files read before they became archives; "at" is absent at the start.
func (c Cursor) MarshalText() ([]byte, error) {
	b := []byte(cursorMagic + "\nafter ")
	if c.after[0] == 0 {
		b = append(b, '-')
	} else {
		b = append(b, c.after[:]...)
	}
	b = append(b, '\n')
	for i := 0; i < c.nq; i++ {
		q := c.q[i]
		b = fmt.Appendf(b, "read %d %d %d %d %016x\n", q.id.dev, q.id.ino, q.size, q.prefixN, q.prefixH)
	}
	if c.has {
		stamp := "-"
		if c.kind == kindArchive {
			stamp = string(c.stamp[:])
		}
		kind := [...]string{kindArchive: "archive", kindPrevious: filePrevious,
			kindProcessed: fileProcessed, kindCurrent: fileCurrent}[c.kind]
		b = fmt.Appendf(b, "at %s %s %d %d %d %d %016x\n", kind, stamp,
			c.file.id.dev, c.file.id.ino, c.off, c.file.prefixN, c.file.prefixH)
	}
	return b, nil
}

// ErrCursorSyntax is returned for text that is not a cursor.
var ErrCursorSyntax = errors.New("logread: malformed cursor")

// UnmarshalText reads a cursor written by MarshalText.
func (c *Cursor) UnmarshalText(text []byte) error {
	var n Cursor
	lines := bytes.Split(bytes.TrimRight(text, "\n"), []byte("\n"))
	if len(lines) < 2 || string(lines[0]) != cursorMagic {
		return ErrCursorSyntax
	}
	f := bytes.Fields(lines[1])
	if len(f) != 2 || string(f[0]) != "after" {
		return ErrCursorSyntax
	}
	if string(f[1]) != "-" {
		if _, _, ok := parseArchiveName(string(f[1]) + ".s"); !ok {
			return ErrCursorSyntax
		}
		copy(n.after[:], bytes.ToLower(f[1]))
	}
	num := func(b []byte, base int) (uint64, bool) {
		v, err := strconv.ParseUint(string(b), base, 64)
		return v, err == nil
	}
	parseFile := func(f [][]byte) (readFile, int64, bool) {
		// dev ino size-or-offset n hash
		var v [5]uint64
		for i := range v {
			base := 10
			if i == 4 {
				base = 16
			}
			x, ok := num(f[i], base)
			if !ok {
				return readFile{}, 0, false
			}
			v[i] = x
		}
		if v[3] > prefixLen || v[2] > 1<<62 {
			return readFile{}, 0, false
		}
		return readFile{id: fileID{v[0], v[1]}, size: int64(v[2]), prefixN: int(v[3]), prefixH: v[4]}, int64(v[2]), true
	}
	for _, l := range lines[2:] {
		f := bytes.Fields(l)
		switch {
		case len(f) == 6 && string(f[0]) == "read" && n.nq < maxQueue:
			rf, _, ok := parseFile(f[1:])
			if !ok {
				return ErrCursorSyntax
			}
			n.q[n.nq] = rf
			n.nq++
		case len(f) == 8 && string(f[0]) == "at" && !n.has:
			switch string(f[1]) {
			case "archive":
				n.kind = kindArchive
				if _, _, ok := parseArchiveName(string(f[2]) + ".s"); !ok {
					return ErrCursorSyntax
				}
				copy(n.stamp[:], bytes.ToLower(f[2]))
			case filePrevious:
				n.kind = kindPrevious
			case fileProcessed:
				n.kind = kindProcessed
			case fileCurrent:
				n.kind = kindCurrent
			default:
				return ErrCursorSyntax
			}
			rf, off, ok := parseFile(f[3:])
			if !ok {
				return ErrCursorSyntax
			}
			n.has, n.file, n.off = true, rf, off
			n.file.size = off
		default:
			return ErrCursorSyntax
		}
	}
	*c = n
	return nil
}

// SaveCursor writes c to the file at path atomically: to a temporary
// file beside it (not in $TMPDIR, where one left by a kill would stay),
// made durable (fsync), then renamed over path, so that a crash leaves
// either the old cursor or the new one. A new cursor file has mode 0600;
// an existing one keeps its mode.
func SaveCursor(path string, c Cursor) error {
	text, _ := c.MarshalText()
	return atomicfile.WriteFile(path, text, 0o600)
}

// LoadCursor reads a cursor saved by SaveCursor. A missing file gives the
// zero Cursor (the start of the directory) and an error satisfying
// errors.Is(err, fs.ErrNotExist), for the caller to decide.
func LoadCursor(path string) (Cursor, error) {
	var c Cursor
	text, err := os.ReadFile(path)
	if err != nil {
		return c, err
	}
	if err := c.UnmarshalText(text); err != nil {
		return Cursor{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}
