package multilog

import (
	"errors"
	"io"

	"golang.org/x/sys/unix"
)

// pipeInput takes standard input that is a pipe without consuming it: it
// copies the bytes at the head of the pipe with tee(2) into a pipe of its
// own and reads them from there; only consume removes them from standard
// input, once they are in every directory. A multilog killed at any moment
// thus leaves everything it has not logged in the pipe, which svscan holds,
// for the next multilog. It costs two system calls per read (tee and
// splice to /dev/null) and no extra copy of the data: tee shares the
// pipe's pages.
type pipeInput struct {
	in         int    // standard input, never made non-blocking (svscan shares it)
	ownR, ownW int    // the private pipe tee fills; empty between calls of next
	null       int    // /dev/null, where splice throws consumed bytes
	dev, ino   uint64 // the pipe's identity, for the unconsumed record
	scratch    []byte
}

// pipeSize is what both pipes are grown to where the kernel lets an
// unprivileged process (pipe-max-size is 1 MiB by default): a bigger pipe
// lets a busy service run ahead of multilog, and lets one tee take as much
// as one read took before.
const pipeSize = readSize

// newPipeInput returns a pipeInput on in, or nil if in is not a pipe (or
// the kernel cannot tee from it): such input is read as before.
func newPipeInput(in int) *pipeInput {
	var st unix.Stat_t
	if unix.Fstat(in, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
		return nil
	}
	dev, ino := uint64(st.Dev), st.Ino
	var fds [2]int
	if unix.Pipe2(fds[:], unix.O_CLOEXEC) != nil {
		return nil
	}
	null, err := unix.Open("/dev/null", unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		unix.Close(fds[0])
		unix.Close(fds[1])
		return nil
	}
	p := &pipeInput{in: in, ownR: fds[0], ownW: fds[1], null: null, dev: dev, ino: ino}
	grow(in)
	grow(p.ownW)
	return p
}

// isPipe reports whether fd is a pipe, the input pipeInput takes.
func isPipe(fd int) bool {
	var st unix.Stat_t
	return unix.Fstat(fd, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFIFO
}

// grow enlarges a pipe to pipeSize if it is smaller; a refusal (a user
// over pipe-user-pages-soft) only costs throughput.
func grow(fd int) {
	if n, err := unix.FcntlInt(uintptr(fd), unix.F_GETPIPE_SZ, 0); err == nil && n < pipeSize {
		unix.FcntlInt(uintptr(fd), unix.F_SETPIPE_SZ, pipeSize)
	}
}

func (p *pipeInput) close() {
	unix.Close(p.ownR)
	unix.Close(p.ownW)
	unix.Close(p.null)
}

// next copies into buf the bytes at the head of the input, up to len(buf),
// leaving them in the input. It returns 0 and no error at the end of the
// input, and EAGAIN when the pipe is empty.
func (p *pipeInput) next(buf []byte) (int, error) {
	n64, err := unix.Tee(p.in, p.ownW, len(buf), unix.SPLICE_F_NONBLOCK)
	if err != nil || n64 == 0 {
		return 0, err
	}
	n, got := int(n64), 0
	for got < n {
		m, err := unix.Read(p.ownR, buf[got:n])
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil || m == 0 {
			// The private pipe now holds stale bytes: no further tee
			// could be trusted, so this is the end of the input.
			return 0, errors.Join(err, io.ErrUnexpectedEOF)
		}
		got += m
	}
	return n, nil
}

// consume removes n bytes, all of them returned by next, from the head of
// the input.
func (p *pipeInput) consume(n int) error {
	for n > 0 {
		m, err := unix.Splice(p.in, nil, p.null, nil, n, unix.SPLICE_F_NONBLOCK)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EINVAL):
			// A kernel whose /dev/null cannot take a splice: read.
			if p.scratch == nil {
				p.scratch = make([]byte, 64<<10)
			}
			r, rerr := unix.Read(p.in, p.scratch[:min(n, len(p.scratch))])
			if errors.Is(rerr, unix.EINTR) {
				continue
			}
			if rerr != nil || r == 0 {
				return errors.Join(rerr, io.ErrUnexpectedEOF)
			}
			n -= r
			continue
		case err != nil:
			return err
		case m == 0:
			return io.ErrUnexpectedEOF // the bytes next saw are gone: another reader?
		}
		n -= int(m)
	}
	return nil
}
