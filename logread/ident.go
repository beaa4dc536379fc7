package logread

import (
	"errors"
	"io"
	"math"
	"os"
)

// Identity checks are made on an open descriptor, never on a name: a name
// looked at and then opened may hold another file by then ("current" is
// renamed and a new one created between any two system calls of a
// follower), and a file opened at a cursor's offset must be the cursor's.

// errOtherFile says that a name held another file than the one wanted.
var errOtherFile = errors.New("another file than the one looked for")

// errMoved says that a name no longer held the file a snapshot saw there:
// the writer moved on, look again.
var errMoved = errors.New("moved since the directory was looked at")

// wantFile is what openSource must find under a name before it reads.
type wantFile struct {
	// id, when set, is the inode the name held when the directory was
	// looked at: anything else there means the file moved meanwhile.
	id    fileID
	hasID bool
	// prefix, when set, must describe the (decompressed) leading bytes.
	prefix    readFile
	hasPrefix bool
}

// check applies w to f, freshly opened with identity id and compression comp.
func (r *Reader) check(f *os.File, id fileID, comp compKind, w *wantFile) error {
	if w.hasID && id != w.id {
		return errMoved
	}
	if w.hasPrefix && !r.prefixMatchesFile(f, comp, w.prefix) {
		return errOtherFile
	}
	return nil
}

// compOf tells how a file opened under a name of the given kind is read:
// archives and "processed" may be a processor's compressed output,
// "previous" and "current" are always the writer's own bytes.
func compOf(f *os.File, kind srcKind) compKind {
	if kind == kindArchive || kind == kindProcessed {
		return sniff(f)
	}
	return compPlain
}

// decompressedFrom returns a reader of f's decompressed content from its
// start that leaves f's own offset alone, and a function to release it.
func decompressedFrom(f *os.File, comp compKind) (io.Reader, func(), error) {
	if comp == compZstd {
		if err := checkZstdWindow(f); err != nil {
			return nil, nil, err
		}
	}
	sr := io.NewSectionReader(f, 0, math.MaxInt64)
	return newDecompressor(sr, comp)
}

// scratch returns the Reader's buffer for identity checks.
func (r *Reader) scratch() []byte {
	if r.copyBuf == nil {
		r.copyBuf = make([]byte, 64<<10)
	}
	return r.copyBuf
}

// prefixMatchesFile reports whether f begins (decompressed, as comp says)
// with the bytes rf's prefix hash describes.
func (r *Reader) prefixMatchesFile(f *os.File, comp compKind, rf readFile) bool {
	if rf.prefixN == 0 {
		return false
	}
	rd, done, err := decompressedFrom(f, comp)
	if err != nil {
		return false
	}
	defer done()
	buf := r.scratch()[:rf.prefixN]
	if _, err := io.ReadFull(rd, buf); err != nil {
		return false
	}
	s := source{prefixH: fnvOffset}
	s.hashPrefix(buf, 0)
	return s.prefixH == rf.prefixH
}

// prefixMatches is prefixMatchesFile for the file named name, of the kind
// its name says.
func (r *Reader) prefixMatches(name string, kind srcKind, rf readFile) bool {
	f, _, err := openEntry(r.path(name))
	if err != nil {
		return false
	}
	defer f.Close()
	return r.prefixMatchesFile(f, compOf(f, kind), rf)
}

// contentMatchesFile reports whether f holds (decompressed) exactly the
// data that rf describes: the same first bytes and size. It recognises the
// compressed copy of a file already read.
func (r *Reader) contentMatchesFile(f *os.File, comp compKind, rf readFile) bool {
	if rf.size == 0 {
		return false // nothing to tell by: only the inode can say
	}
	if comp == compPlain {
		if st, err := f.Stat(); err != nil || st.Size() != rf.size {
			return false
		}
	}
	rd, done, err := decompressedFrom(f, comp)
	if err != nil {
		return false
	}
	defer done()
	buf := r.scratch()
	s := source{prefixH: fnvOffset}
	var total int64
	for {
		n, err := rd.Read(buf)
		s.hashPrefix(buf[:n], total)
		total += int64(n)
		if total > rf.size {
			return false
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return false
		}
	}
	return total == rf.size && s.prefixN == rf.prefixN && s.prefixH == rf.prefixH
}

// openContentMatch opens the file named name (an archive or "processed")
// and reports its identity if it is the copy of a file rf describes.
func (r *Reader) openContentMatch(name string, kind srcKind, rf readFile) (fileID, bool) {
	f, st, err := openEntry(r.path(name))
	if err != nil {
		return fileID{}, false
	}
	defer f.Close()
	return idOf(st), r.contentMatchesFile(f, compOf(f, kind), rf)
}
