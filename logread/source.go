package logread

import (
	"bytes"
	"errors"
	"io"
	"os"
	"syscall"
)

// srcKind says under which name a source was opened, which decides what
// its end means.
type srcKind uint8

const (
	kindArchive   srcKind = iota // "@<stamp>.s" or ".u": complete
	kindPrevious                 // complete; becomes an archive later
	kindProcessed                // complete once "previous" is gone
	kindCurrent                  // may grow until it is renamed
	kindStream                   // a single file or stream (OpenFile, NewStream)
)

// fileID identifies a file across renames and links.
type fileID struct{ dev, ino uint64 }

func idOf(st *syscall.Stat_t) fileID { return fileID{uint64(st.Dev), st.Ino} }

func lstatID(path string) (fileID, error) {
	id, _, err := lstatIDSize(path)
	return id, err
}

// lstatIDSize is lstatID with the file's size: what a gap report says of a
// file that is pruned before it is read.
func lstatIDSize(path string) (fileID, int64, error) {
	var st syscall.Stat_t
	if err := syscall.Lstat(path, &st); err != nil {
		return fileID{}, 0, err
	}
	return idOf(&st), st.Size, nil
}

// prefixLen is how many leading (decompressed) bytes identify the content
// of a file whose archive may be a new, compressed file.
const prefixLen = 4096

// readFile is a file read to its end that has not yet been seen under an
// archive name: what it holds identifies its archive even when that is a
// compressed copy.
type readFile struct {
	id      fileID
	size    int64  // decompressed bytes
	prefixN int    // bytes in prefixH: min(size, prefixLen)
	prefixH uint64 // FNV-1a of the first prefixN bytes
	// f, when not nil, is the file held open: while it is, its inode
	// cannot be given to a new file (a compressor removes "previous" and
	// the next "current" often gets its number at once). A file known only
	// from a Cursor has none, and is recognised by inode and leading bytes.
	f *os.File
	// alt is the "processed" file seen beside this one while it was
	// "previous": its processor's output, which becomes its archive under
	// another inode. It lets a file be found again when that output is not
	// a mere compressed copy (a processor that changes the data). altF
	// holds it open, so that its inode number stays its own.
	alt  fileID
	altF *os.File
}

func (rf *readFile) close() {
	if rf.f != nil {
		rf.f.Close()
		rf.f = nil
	}
	rf.dropAlt()
}

func (rf *readFile) dropAlt() {
	if rf.altF != nil {
		rf.altF.Close()
		rf.altF = nil
	}
	rf.alt = fileID{}
}

// source is the file being read.
type source struct {
	name  string
	kind  srcKind
	stamp string // for archives: the 25-byte stamp of the name
	id    fileID
	f     *os.File
	comp  compKind
	r     io.Reader
	// m is the file mapped (an archive, with Options.Map), or its whole
	// decompressed content (decoded: decompressed ahead, with
	// Options.ReadAhead): then it is the buffer, start and end are
	// offsets in it, and nothing is copied.
	m       []byte
	decoded bool
	scan    any // Options.Scan's result on m, when it ran ahead

	start, end int   // unread bytes in the Reader's buffer (or m)
	readOff    int64 // decompressed bytes read into the buffer so far
	prefixN    int
	prefixH    uint64

	atLineStart bool // the next byte begins a line
	rotated     bool // current was renamed: its end is final
}

// offset is the decompressed offset just after the last line taken.
func (s *source) offset() int64 { return s.readOff - int64(s.end-s.start) }

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// hashPrefix adds the part of p (read at decompressed offset off) that
// lies within the first prefixLen bytes.
func (s *source) hashPrefix(p []byte, off int64) {
	if off >= prefixLen {
		return
	}
	p = p[:min(int64(len(p)), prefixLen-off)]
	h := s.prefixH
	for _, c := range p {
		h ^= uint64(c)
		h *= fnvPrime
	}
	s.prefixH = h
	s.prefixN += len(p)
}

// take returns the next line in the buffer, or with final the rest of the
// buffer, or a whole full buffer (a line longer than it).
func (s *source) take(buf []byte, final bool) ([]byte, bool) {
	return s.takeTo(buf, final, bytes.IndexByte)
}

// takeTo is take and takeBlock: what they return ends at the newline that
// find picks in the unread bytes (the first for a line, the last for a
// block).
func (s *source) takeTo(buf []byte, final bool, find func([]byte, byte) int) ([]byte, bool) {
	w := buf[s.start:s.end]
	if len(w) == 0 {
		return nil, false
	}
	if i := find(w, '\n'); i >= 0 {
		s.start += i + 1
		return w[:i+1], true
	}
	if final || len(w) >= readBufSize {
		// A piece of a line longer than the buffer: the buffer's worth,
		// also from a mapping's larger window (mapWindow).
		w = w[:min(len(w), readBufSize)]
		s.start += len(w)
		return w, true
	}
	return nil, false
}

// close closes the file, and releases its mapping.
func (s *source) close() {
	s.unmap()
	if s.f != nil {
		s.f.Close()
	}
}

// unmap releases the mapping, if any; the file stays open.
func (s *source) unmap() {
	if s.decoded {
		s.m = nil // the Reader's buffer (see Reader.release)
		return
	}
	if s.m != nil {
		unmapFile(s.m)
		s.m = nil
	}
}

// mapWindow is the most a block from a mapping holds (the largest
// archive multilog writes): a caller that splits a block across cores
// pays for starting them once a file, not once a megabyte (from a
// mapping, a block costs no copy and no buffer).
var mapWindow = 16 << 20 // a variable for tests

// fillMapped is fill for a mapped file: what a read would bring into the
// buffer, up to mapWindow unread bytes, is only counted in.
func (s *source) fillMapped() (int, error) {
	end := min(s.start+mapWindow, len(s.m))
	if end <= s.end {
		return 0, io.EOF
	}
	n := end - s.end
	s.hashPrefix(s.m[s.end:end], s.readOff)
	s.end = end
	s.readOff += int64(n)
	return n, nil
}

// fill reads more of the file into the buffer, after the unread bytes.
func (s *source) fill(buf []byte) (int, error) {
	if s.m != nil {
		return s.fillMapped()
	}
	if s.start == s.end {
		s.start, s.end = 0, 0
	} else if len(buf)-s.end < len(buf)/4 && s.start > 0 {
		// Little room left after the unread bytes (a partial line left
		// by a block): move them to the front, so that reads stay large.
		n := copy(buf, buf[s.start:s.end])
		s.start, s.end = 0, n
	}
	n, err := s.r.Read(buf[s.end:])
	if n > 0 {
		s.hashPrefix(buf[s.end:s.end+n], s.readOff)
		s.end += n
		s.readOff += int64(n)
	}
	if n == 0 && err == nil {
		err = io.ErrNoProgress
	}
	return n, err
}

// openSource opens a file of the directory for reading from decompressed
// offset off. A missing file is reported as fs.ErrNotExist for the caller
// to look again; other failures are returned too. When want is not nil the
// opened file must be the one it describes (errMoved, errOtherFile).
func (r *Reader) openSource(name string, kind srcKind, stamp string, off int64, want *wantFile) (*source, error) {
	f, st, err := openEntry(r.path(name))
	if err != nil {
		return nil, err
	}
	s := &source{name: name, kind: kind, stamp: stamp, id: idOf(st), f: f, r: f,
		prefixH: fnvOffset, atLineStart: true, comp: compOf(f, kind)}
	if want != nil {
		if err := r.check(f, s.id, s.comp, want); err != nil {
			f.Close()
			return nil, err
		}
	}
	if s.comp == compZstd {
		if err := checkZstdWindow(f); err != nil {
			f.Close()
			return nil, &decompressError{err}
		}
	}
	if err := r.decompress(s, f); err != nil {
		f.Close()
		return nil, err
	}
	// What was read ahead for this archive (ReadAhead): every archive
	// takes its place in the queue, read ahead or not.
	var ahead []byte
	var scan any
	aheadOK := false
	if r.opts.ReadAhead && kind == kindArchive {
		ahead, scan, aheadOK = r.takePrefetch(name, s.id, st.Size, s.comp == compPlain)
	}
	if r.opts.Map && kind == kindArchive && s.comp == compPlain {
		if aheadOK {
			s.m, s.scan = ahead, scan // mapped (and scanned) ahead
		} else {
			s.m = mapFile(f, st.Size)
		}
	}
	if aheadOK && s.comp != compPlain {
		if off == 0 && want == nil {
			s.m, s.decoded, s.scan = ahead, true, scan
			return s, nil
		}
		r.pre.spare = append(r.pre.spare, ahead[:0])
	}
	if off == 0 && s.comp == compPlain && r.opts.HasSince && !r.sincePast {
		off = searchSince(f, st.Size, r.opts.Since)
		if off > 0 {
			// Lines before the start found belong to earlier stamps.
			s.atLineStart = true
		}
	}
	if off > 0 {
		if err := s.skipTo(r.buf, off); err != nil {
			s.close()
			return nil, err
		}
	}
	return s, nil
}

// skipTo moves the read position to decompressed offset off, keeping the
// prefix hash: plain files seek, compressed ones are decompressed up to it.
func (s *source) skipTo(buf []byte, off int64) error {
	if s.comp == compPlain {
		pre := buf[:min(off, prefixLen)]
		n, err := s.f.ReadAt(pre, 0)
		if n < len(pre) {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		s.hashPrefix(pre, 0)
		if _, err := s.f.Seek(off, io.SeekStart); err != nil {
			return err
		}
		s.readOff = off
		if s.m != nil {
			o := int(min(off, int64(len(s.m)))) // past a mapping's end, as a read there
			s.start, s.end, s.readOff = o, o, int64(o)
		}
		return nil
	}
	for s.readOff < off {
		s.start, s.end = 0, 0
		n, err := s.r.Read(buf[:min(int64(len(buf)), off-s.readOff)])
		if n > 0 {
			s.hashPrefix(buf[:n], s.readOff)
			s.readOff += int64(n)
		}
		if err != nil && s.readOff < off {
			if errors.Is(err, io.EOF) {
				return io.ErrUnexpectedEOF
			}
			return err
		}
	}
	s.start, s.end = 0, 0
	return nil
}
