package multilog

import (
	"bytes"
	"errors"
	"runtime"
	"syscall"
	"unsafe"

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
// two) to read into; stop ends it. raw makes its reads raw system calls
// (see rawSyscalls).
func startReadAhead(in int, raw bool, bufs ...[]byte) *readAhead {
	read := syscall.Read
	if raw {
		read = rawRead
	}
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
			n, err := read(in, b)
			for errors.Is(err, syscall.EINTR) {
				n, err = read(in, b)
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

// rawSyscalls reports whether multilog's reads of a regular file and its
// writes into the directories are made as raw system calls, keeping the
// goroutine's processor (P) through the call: with more than one processor.
//
// Each such call is a copy between the page cache and multilog's buffers,
// processor work like the engine's; made as ordinary system calls, the
// scheduler's monitor thread takes the processor of every one lasting
// over 20 µs, and once it has taken one it keeps waking every 20 µs,
// which on two busy processors costs more than it saves (measured with the
// qmail-style script: runs with 1,600 context switches instead of 450,
// 20 % slower, in about half of the runs). A raw call that waits (a disk
// read of a file not in the cache, a throttled write) holds its processor
// meanwhile; with one processor that would hold up the engine, so there
// the calls stay ordinary.
func rawSyscalls() bool { return runtime.GOMAXPROCS(0) > 1 }

// rawRead is read(2) as a raw system call.
func rawRead(fd int, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	r, _, errno := unix.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	if errno != 0 {
		return -1, errno
	}
	return int(r), nil
}
