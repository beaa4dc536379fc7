package logread

import (
	"bytes"
	"io"
	"os"

	"github.com/taikit/taikit/errtext"
)

// OpenFile opens the file at path for reading as a Reader of one stream:
// the same lines, stamps, time bounds and errors as a directory gives, from
// one file (an archive copied elsewhere, a log kept by another program).
// A file compressed with gzip or zstd is recognised by its content and
// decompressed, as archives are; in an uncompressed file, the start of
// Since is found by binary search. Options.Follow and Options.Cursor do
// not apply: the stream ends at the file's end, and its Cursor is the zero
// Cursor. A file that cannot be opened is an error worded "unable to read
// <path>: <reason>".
func OpenFile(path string, opts Options) (*Reader, error) {
	if opts.Name == "" {
		opts.Name = path
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, &errtext.Error{Op: "unable to read", Path: opts.Name, Err: errtext.WithoutPath(err)}
	}
	r := NewStream(f, opts)
	r.streamFile = f
	return r, nil
}

// NewStream returns a Reader of the stream rd (standard input, a pipe, a
// socket) from where it stands, read to its end: what OpenFile gives for a
// file, except that rd is only read, never seeked. Its compression is told
// by as few of its first bytes as tell it, so that a stream whose first
// line is short is not held up. Options.Name names it in messages
// ("standard input" by default). Close does not close rd.
func NewStream(rd io.Reader, opts Options) *Reader {
	if opts.Name == "" {
		opts.Name = "standard input"
	}
	opts.Follow, opts.Cursor = false, nil
	opts.ReadAhead = false
	return &Reader{name: opts.Name, opts: opts, buf: make([]byte, readBufSize),
		interruptC: make(chan struct{}), stream: rd}
}

// nextStream makes the stream the source, once; it reports whether it did.
// A stream that cannot be read or decompressed from its start is reported
// (OnError) and gives no line.
func (r *Reader) nextStream() bool {
	if r.streamDone {
		return false
	}
	r.streamDone = true
	s := &source{name: r.name, kind: kindStream, prefixH: fnvOffset, atLineStart: true}
	rd := r.stream
	if f := r.streamFile; f != nil {
		// A file OpenFile opened: at its start, and seekable if regular.
		s.comp = sniff(f)
		if s.comp == compZstd {
			if err := checkZstdWindow(f); err != nil {
				r.report("decompress", r.name, err)
				return false
			}
		}
		if s.comp == compPlain && r.opts.HasSince {
			if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
				if off := searchSince(f, st.Size(), r.opts.Since); off > 0 {
					if _, err := f.Seek(off, io.SeekStart); err != nil {
						r.report("read", r.name, err)
						return false
					}
					s.readOff = off
				}
			}
		}
	} else {
		head, comp, err := sniffRead(rd)
		s.comp = comp
		switch {
		case err == io.EOF:
			rd = bytes.NewReader(head) // not read again after its end
		case err != nil:
			rd = io.MultiReader(bytes.NewReader(head), errReader{err})
		case len(head) > 0:
			rd = io.MultiReader(bytes.NewReader(head), rd)
		}
	}
	if err := r.decompress(s, rd); err != nil {
		r.report("decompress", r.name, err)
		return false
	}
	r.src = s
	return true
}

// errReader gives err: what ended sniffRead, after the bytes it read.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
