package logread

import (
	"bytes"
	"io"
	"os"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// This is the one place of taikit that tells compressed data by its
// content: archives (whoever compressed them: a writer's built-in
// compression, multilog's "!gzip"), single files and streams are all
// recognised by their first bytes here.

// compression of a file, told by its first bytes.
type compKind uint8

const (
	compPlain compKind = iota
	compGzip
	compZstd
)

var (
	magicGzip = []byte{0x1f, 0x8b}
	magicZstd = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// sniffBytes tells the compression of data that begins with b, and
// whether b is enough to tell: a b that is the start of a magic number
// may be either.
func sniffBytes(b []byte) (compKind, bool) {
	switch {
	case bytes.HasPrefix(b, magicZstd):
		return compZstd, true
	case bytes.HasPrefix(b, magicGzip):
		return compGzip, true
	case bytes.HasPrefix(magicZstd, b), bytes.HasPrefix(magicGzip, b):
		return compPlain, false
	}
	return compPlain, true
}

// sniff tells the compression of f by its first bytes, leaving its offset
// alone; a file shorter than a magic number is plain.
func sniff(f *os.File) compKind {
	var b [4]byte
	n, _ := f.ReadAt(b[:], 0)
	c, _ := sniffBytes(b[:n])
	return c
}

// sniffRead reads the first bytes of rd, as few as tell its compression
// (so that a stream whose first line is short is not held up), and
// returns them with what they tell and the error that ended the reading,
// if any.
func sniffRead(rd io.Reader) ([]byte, compKind, error) {
	var b [4]byte
	n, empty := 0, 0
	for {
		c, sure := sniffBytes(b[:n])
		if sure {
			return bytes.Clone(b[:n]), c, nil
		}
		m, err := rd.Read(b[n:])
		n += m
		if err != nil {
			c, _ := sniffBytes(b[:n])
			return bytes.Clone(b[:n]), c, err
		}
		if m == 0 {
			if empty++; empty >= 100 {
				return bytes.Clone(b[:n]), compPlain, io.ErrNoProgress
			}
		}
	}
}

// zstdOptions are the Reader's decoder's: one goroutine, as the Reader
// reads one file at a time, and buffers kept between files. The window is
// not capped below the library's default of 512 MiB (issue 13).
var zstdOptions = []zstd.DOption{zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(false)}

// decompressError marks a failure of the decompressor rather than of the
// file system.
type decompressError struct{ err error }

func (e *decompressError) Error() string { return e.err.Error() }
func (e *decompressError) Unwrap() error { return e.err }

// decompress sets s.r to read s's content from rd, decompressed as s.comp
// says, with the Reader's decoders (made once, reset for each file).
func (r *Reader) decompress(s *source, rd io.Reader) error {
	var err error
	switch s.comp {
	case compGzip:
		if r.gz == nil {
			r.gz, err = gzip.NewReader(rd)
		} else {
			err = r.gz.Reset(rd)
		}
		if err != nil {
			return &decompressError{err}
		}
		r.gz.Multistream(true)
		s.r = r.gz
	case compZstd:
		if r.zd == nil {
			r.zd, err = zstd.NewReader(rd, zstdOptions...)
		} else {
			err = r.zd.Reset(rd)
		}
		if err != nil {
			return &decompressError{err}
		}
		s.r = r.zd
	default:
		s.r = rd
	}
	return nil
}

// newDecompressor returns a new reader of rd's content, decompressed as
// comp says, and a function to release it: for identity checks, which
// must leave the Reader's decoders to the file being read.
func newDecompressor(rd io.Reader, comp compKind) (io.Reader, func(), error) {
	switch comp {
	case compGzip:
		gz, err := gzip.NewReader(rd)
		if err != nil {
			return nil, nil, err
		}
		return gz, func() {}, nil
	case compZstd:
		zd, err := zstd.NewReader(rd, zstd.WithDecoderConcurrency(1)) // made for one file: low memory
		if err != nil {
			return nil, nil, err
		}
		return zd, zd.Close, nil
	}
	return rd, func() {}, nil
}
