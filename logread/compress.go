package logread

import (
	"bytes"
	"errors"
	"fmt"
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

// maxZstdWindow is the largest window a zstd frame may ask for. The
// decoder allocates the window that a frame's header declares before it
// decodes a byte, so without a bound the archive chooses the Reader's
// memory (a 16-byte file declaring 512 MiB took 531 MB). 32 MiB is four
// times the window of package rotate's compression and of zstd's levels up
// to 19 (8 MiB), and twice multilog's largest file: only zstd --long or
// --ultra on a large input asks for more.
const maxZstdWindow = 32 << 20

// zstdLimits bound every zstd decoder of the package; for streaming, the
// library's MaxMemory is a bound on the window too (a single-segment
// frame's window is its declared content size).
var zstdLimits = []zstd.DOption{zstd.WithDecoderMaxWindow(maxZstdWindow), zstd.WithDecoderMaxMemory(maxZstdWindow)}

// zstdOptions are the Reader's decoder's: one goroutine, as the Reader
// reads one file at a time, and buffers kept between files.
var zstdOptions = append([]zstd.DOption{zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(false)}, zstdLimits...)

// windowError refuses zstd data whose window is larger than maxZstdWindow.
// size is the window the first frame's header declares, 0 when it was not
// looked at (a stream, or a later frame).
type windowError struct {
	size uint64
	err  error
}

func (e *windowError) Error() string {
	if e.size > 0 {
		return fmt.Sprintf("zstd window of %d MiB is more than the %d MiB allowed: decompress it first (zstd -d --memory=2GB)",
			(e.size+1<<20-1)>>20, maxZstdWindow>>20)
	}
	return fmt.Sprintf("%s (a zstd window over %d MiB is refused)", e.err, maxZstdWindow>>20)
}

func (e *windowError) Unwrap() error { return e.err }

// checkZstdWindow refuses zstd data (at the start of ra) whose first frame
// declares a window larger than maxZstdWindow, before a decoder is given
// it: the refusal then says how large. Later frames are bounded by the
// decoders' options (zstdLimits).
func checkZstdWindow(ra io.ReaderAt) error {
	var b [zstd.HeaderMaxSize]byte
	n, _ := ra.ReadAt(b[:], 0)
	var h zstd.Header
	if h.Decode(b[:n]) != nil {
		return nil // the decoder says what is wrong with it
	}
	size := h.WindowSize
	if h.SingleSegment {
		size = h.FrameContentSize
	}
	if size > maxZstdWindow {
		return &windowError{size, zstd.ErrWindowSizeExceeded}
	}
	return nil
}

// zstdReader words the decoder's refusal of a window over the bound.
type zstdReader struct{ zd *zstd.Decoder }

func (z zstdReader) Read(p []byte) (int, error) {
	n, err := z.zd.Read(p)
	if err != nil && (errors.Is(err, zstd.ErrWindowSizeExceeded) || errors.Is(err, zstd.ErrDecoderSizeExceeded)) {
		err = &windowError{0, err}
	}
	return n, err
}

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
		s.r = zstdReader{r.zd}
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
		// Made for one file: low memory.
		zd, err := zstd.NewReader(rd, append([]zstd.DOption{zstd.WithDecoderConcurrency(1)}, zstdLimits...)...)
		if err != nil {
			return nil, nil, err
		}
		return zstdReader{zd}, zd.Close, nil
	}
	return rd, func() {}, nil
}
