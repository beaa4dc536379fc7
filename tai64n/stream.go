package tai64n

import (
	"bytes"
	"io"
	"time"
)

// Buffer sizes of the stream filters. Reads are large so that a file or a
// busy pipe costs few system calls; memory stays bounded by these sizes
// whatever the line lengths, because lines are never held whole.
const (
	readSize  = 128 << 10
	writeSize = 256 << 10
)

// maxHexRun bounds how many hex digits after a line's "@" are examined.
// daemontools reads any number (keeping the value modulo 2^64); only runs
// padded with hundreds of leading zeros would still convert, and bounding
// the run keeps memory bounded on a line of a billion hex digits.
const maxHexRun = 256

// StreamError says which side of a stream filter failed.
type StreamError struct {
	Op  string // "read" or "write"
	Err error
}

func (e *StreamError) Error() string { return e.Op + ": " + e.Err.Error() }

// Unwrap returns the underlying error.
func (e *StreamError) Unwrap() error { return e.Err }

// outBuf gathers a filter's output and writes it in large pieces. Its
// buffer never grows: callers ask for room before small appends, and long
// lines go through in buffer-sized pieces, so memory stays bounded.
type outBuf struct {
	w       io.Writer
	b       []byte
	written int64
}

// flush writes what is gathered.
func (o *outBuf) flush() error {
	if len(o.b) == 0 {
		return nil
	}
	n, err := o.w.Write(o.b)
	o.written += int64(n)
	o.b = o.b[:0]
	if err != nil {
		return &StreamError{Op: "write", Err: err}
	}
	return nil
}

// room makes sure n more bytes fit without growing the buffer.
func (o *outBuf) room(n int) error {
	if cap(o.b)-len(o.b) < n {
		return o.flush()
	}
	return nil
}

// copyIn appends p, flushing as often as the buffer fills.
func (o *outBuf) copyIn(p []byte) error {
	for len(p) > 0 {
		if len(o.b) == cap(o.b) {
			if err := o.flush(); err != nil {
				return err
			}
		}
		k := copy(o.b[len(o.b):cap(o.b)], p)
		o.b, p = o.b[:len(o.b)+k], p[k:]
	}
	return nil
}

// Stamper copies lines, putting before each one the TAI64N stamp of the
// moment its first byte was read and a space, as tai64n(8) does.
//
// The clock is read once per read from the input, so lines that arrive
// together share a stamp. Bytes are not interpreted; a partial last line is
// copied without an added newline. Output is written before every read, so a
// stamped partial line reaches the reader before its newline arrives.
type Stamper struct {
	clock func() time.Time
	conv  Convention
	in    []byte
	out   []byte
}

// NewStamper returns a Stamper reading clock for each input read and
// labelling in convention c. clock is usually time.Now.
func NewStamper(clock func() time.Time, c Convention) *Stamper {
	return &Stamper{
		clock: clock,
		conv:  c,
		in:    make([]byte, readSize),
		out:   make([]byte, 0, writeSize),
	}
}

// Copy reads r to its end and writes the stamped lines to w. It returns the
// number of bytes written and the first read or write error; io.EOF from r is
// the normal end and not an error.
func (s *Stamper) Copy(w io.Writer, r io.Reader) (written int64, err error) {
	out := outBuf{w: w, b: s.out[:0]}
	var stamp [StampLen + 1]byte
	atLineStart := true
	for {
		n, rerr := r.Read(s.in)
		if n > 0 {
			FromTime(s.clock(), s.conv).Append(stamp[:0])
			stamp[StampLen] = ' '
			chunk := s.in[:n]
			for len(chunk) > 0 {
				if atLineStart {
					if err := out.room(len(stamp)); err != nil {
						return out.written, err
					}
					out.b = append(out.b, stamp[:]...)
				}
				line := chunk
				atLineStart = false
				if i := bytes.IndexByte(chunk, '\n'); i >= 0 {
					line, atLineStart = chunk[:i+1], true
				}
				chunk = chunk[len(line):]
				if err := out.copyIn(line); err != nil {
					return out.written, err
				}
			}
			if err := out.flush(); err != nil {
				return out.written, err
			}
		}
		if rerr == io.EOF {
			return out.written, nil
		}
		if rerr != nil {
			return out.written, &StreamError{Op: "read", Err: rerr}
		}
	}
}

// Converter rewrites the TAI64N stamp at the start of each line as calendar
// time, as tai64nlocal(8) does, and copies everything else unchanged.
//
// A stamp is "@" followed by hex digits. As in daemontools, the last eight
// digits are the nanoseconds and all earlier ones the seconds label, and the
// first byte that is not a hex digit ends the stamp and is kept. Unlike
// daemontools, which reads lowercase digits only and crashes on anything it
// cannot convert, a Converter accepts uppercase digits and copies a stamp it
// cannot convert unchanged: one too far from the present for the C library's
// localtime (any run of digits much shorter or longer than 24 is), one the
// layout cannot write, or one of more than 256 digits. A last line that holds
// only a stamp is converted (daemontools drops it).
type Converter struct {
	f   *Formatter
	in  []byte
	out []byte
}

// NewConverter returns a Converter writing stamps with f.
func NewConverter(f *Formatter) *Converter {
	return &Converter{
		f:   f,
		in:  make([]byte, readSize),
		out: make([]byte, 0, writeSize),
	}
}

// Copy reads r to its end and writes the converted lines to w. It returns the
// number of bytes written and the first read or write error; io.EOF from r is
// the normal end and not an error.
func (c *Converter) Copy(w io.Writer, r io.Reader) (written int64, err error) {
	out := outBuf{w: w, b: c.out[:0]}
	buf := c.in
	lo, hi := 0, 0 // unprocessed input is buf[lo:hi]
	atLineStart := true
	var end error // io.EOF or the read error that ends the input
	for {
	process:
		for lo < hi {
			if atLineStart && buf[lo] == '@' {
				label, ok := scanStamp24(buf[lo+1 : hi])
				n := 24
				if !ok {
					label, n = scanHex(buf[lo+1:hi], maxHexRun+1)
				}
				if lo+1+n == hi && n <= maxHexRun && end == nil {
					break process // the stamp may go on in the next read
				}
				if n <= maxHexRun {
					// Room for the longest text a layout writes.
					if err := out.room(64); err != nil {
						return out.written, err
					}
					if conv, ok := c.f.Append(out.b, label); ok {
						out.b = conv
						lo += 1 + n
					}
				}
			}
			line := buf[lo:hi]
			atLineStart = false
			if i := bytes.IndexByte(line, '\n'); i >= 0 {
				line, atLineStart = line[:i+1], true
			}
			lo += len(line)
			if err := out.copyIn(line); err != nil {
				return out.written, err
			}
		}
		if err := out.flush(); err != nil {
			return out.written, err
		}
		if end == io.EOF {
			return out.written, nil
		}
		if end != nil {
			// What arrived before the error has been converted and written.
			return out.written, &StreamError{Op: "read", Err: end}
		}
		// Keep the start of a stamp that the read split; it is short.
		hi = copy(buf, buf[lo:hi])
		lo = 0
		n, rerr := r.Read(buf[hi:])
		hi += n
		end = rerr
	}
}
