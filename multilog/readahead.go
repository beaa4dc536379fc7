package multilog

import (
	"bytes"
	"errors"
	"syscall"

	"golang.org/x/sys/unix"
)

// readAhead reads a regular file one chunk ahead of the engine, so that
// the copy out of the page cache (a sixth of the work on a large file)
// runs beside the engine instead of before it. Only a regular file gets
// it: from a file nothing is taken away from anyone by reading early,
// while from a socket or a terminal a chunk read ahead would be gone for
// the next reader after a SIGTERM.
type readAhead struct {
	full chan readChunk
	free chan []byte
	quit chan struct{}
	done chan struct{}
}

type readChunk struct {
	buf   []byte
	n     int
	lines int // newlines in buf[:n], counted here, beside the engine
	err   error
}

// isRegular reports whether fd is a regular file.
func isRegular(fd int) bool {
	var st unix.Stat_t
	return unix.Fstat(fd, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFREG
}

// startReadAhead starts the reading goroutine on in, with bufs (at least
// two) to read into; stop ends it.
func startReadAhead(in int, bufs ...[]byte) *readAhead {
	ra := &readAhead{
		full: make(chan readChunk, len(bufs)),
		free: make(chan []byte, len(bufs)),
		quit: make(chan struct{}),
		done: make(chan struct{}),
	}
	for _, b := range bufs {
		ra.free <- b
	}
	go func() { // owned by the readAhead: ends at the end of the input or on stop
		defer close(ra.done)
		for {
			var b []byte
			select {
			case b = <-ra.free:
			case <-ra.quit:
				return
			}
			n, err := syscall.Read(in, b)
			for errors.Is(err, syscall.EINTR) {
				n, err = syscall.Read(in, b)
			}
			lines := 0
			if n > 0 {
				lines = bytes.Count(b[:n], []byte{'\n'})
			}
			ra.full <- readChunk{buf: b, n: n, lines: lines, err: err} // room for every buffer: never blocks
			if n <= 0 {
				return
			}
		}
	}()
	return ra
}

// next returns the next chunk; give its buffer back with release once the
// engine is done with it. A chunk with n ≤ 0 is the end of the input (or
// a read error, which counts as one, as in multilog).
func (ra *readAhead) next() readChunk { return <-ra.full }

func (ra *readAhead) release(b []byte) { ra.free <- b }

// stop ends the reading and returns what was read and not yet taken.
func (ra *readAhead) stop() []readChunk {
	close(ra.quit)
	<-ra.done
	var left []readChunk
	for {
		select {
		case c := <-ra.full:
			left = append(left, c)
		default:
			return left
		}
	}
}
