package multilog

import (
	"errors"
	"io"
	"sync"

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
//
// While the writer writes one batch (stage), the next is taken: the bytes
// held (returned by next and not yet consumed) are still at the head of
// the pipe, so next tees them again with what follows and throws its copy
// of them away. The lock keeps a consume, in the writer, from moving the
// head between that tee and the count of held bytes.
type pipeInput struct {
	in         int    // standard input, never made non-blocking (svscan shares it)
	ownR, ownW int    // the private pipe tee fills; empty between calls of next
	null       int    // /dev/null, where splice throws consumed bytes
	dev, ino   uint64 // the pipe's identity, for the unconsumed record
	scratch    []byte

	// batchSize is the most next should be asked for: a quarter of the
	// input pipe, so that the batch being written, the next, and room for
	// the writer of the pipe to go on all fit in it together (measured: a
	// half left the writer blocked and multilog waiting for it, 15% slower).
	batchSize int

	mu   sync.Mutex
	held int // bytes at the head of the input that next returned and consume has not removed
	// stale: a peek could not empty the private pipe, so no later tee into
	// it could be trusted; next then ends the input, as after its own
	// failure to read the private pipe.
	stale bool
}

// errNothingNew is next's error when the input holds nothing but held
// bytes: wait for them to be consumed.
var errNothingNew = errors.New("nothing beyond the batch being written")

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
	p.batchSize = readSize / 4
	if n, err := unix.FcntlInt(uintptr(in), unix.F_GETPIPE_SZ, 0); err == nil && n >= 2*4096 {
		p.batchSize = min(readSize, n/4)
	}
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

// next copies into buf the bytes of the input that follow the held ones,
// up to len(buf), leaving them in the input. It returns 0 and no error at
// the end of the input, EAGAIN when the pipe is empty, and errNothingNew
// when it holds only held bytes. Bytes the caller takes it says with hold.
func (p *pipeInput) next(buf []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stale {
		return 0, errStalePipe
	}
	n, err := tee(p.in, p.ownW, p.held+len(buf), unix.SPLICE_F_NONBLOCK)
	if err != nil || n == 0 {
		return 0, err
	}
	skip := min(n, p.held)
	if err := p.discard(skip); err != nil {
		return 0, err
	}
	if n == skip {
		return 0, errNothingNew
	}
	n -= skip
	for got := 0; got < n; {
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

// peekAfter returns up to len(buf) bytes of what follows, in the input,
// the held bytes and n more, read into buf and left in the input; none
// when nothing does yet.
func (p *pipeInput) peekAfter(n int, buf []byte) []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	skip := p.held + n
	got, err := tee(p.in, p.ownW, skip+len(buf), unix.SPLICE_F_NONBLOCK)
	if err != nil || got == 0 {
		return nil
	}
	if err := p.discard(min(got, skip)); err != nil {
		p.stale = true
		return nil
	}
	if got <= skip {
		return nil
	}
	m := 0
	for m < got-skip {
		r, err := unix.Read(p.ownR, buf[m:got-skip])
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil || r == 0 {
			p.stale = true
			return nil
		}
		m += r
	}
	return buf[:m]
}

// errStalePipe is next's error after a peek left bytes in the private
// pipe: the end of the input, as multilog takes a read error.
var errStalePipe = errors.Join(errors.New("multilog's own pipe holds bytes it could not read back"), io.ErrUnexpectedEOF)

// tee is tee(2). golang.org/x/sys's Tee returns an int64 made of two
// registers, and on a 32-bit processor the high one is not the result
// (on 386 it is the third argument): a tee of nothing at the end of the
// input came back as a multiple of 4 GiB, which int made 0 again, and
// multilog went round forever (found running the tests with GOARCH=386).
func tee(rfd, wfd, n, flags int) (int, error) {
	r, _, errno := unix.Syscall6(unix.SYS_TEE, uintptr(rfd), uintptr(wfd), uintptr(n), uintptr(flags), 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(r), nil
}

// hold counts n more bytes returned by next as taken: until consumed they
// stay at the head of the input, and next skips them.
func (p *pipeInput) hold(n int) {
	p.mu.Lock()
	p.held += n
	p.mu.Unlock()
}

// discard throws away the first n bytes of the private pipe: next's copy
// of bytes it returned before.
func (p *pipeInput) discard(n int) error {
	for n > 0 {
		m, err := unix.Splice(p.ownR, nil, p.null, nil, n, 0)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EINVAL):
			sb := p.scratchBuf()
			r, rerr := unix.Read(p.ownR, sb[:min(n, len(sb))])
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
			return io.ErrUnexpectedEOF
		}
		n -= int(m)
	}
	return nil
}

func (p *pipeInput) scratchBuf() []byte {
	if p.scratch == nil {
		p.scratch = make([]byte, 64<<10)
	}
	return p.scratch
}

// consume removes n bytes, all of them returned by next, from the head of
// the input.
func (p *pipeInput) consume(n int) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for n > 0 {
		m, err := unix.Splice(p.in, nil, p.null, nil, n, unix.SPLICE_F_NONBLOCK)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EINVAL):
			// A kernel whose /dev/null cannot take a splice: read.
			sb := p.scratchBuf()
			r, rerr := unix.Read(p.in, sb[:min(n, len(sb))])
			if errors.Is(rerr, unix.EINTR) {
				continue
			}
			if rerr != nil || r == 0 {
				return errors.Join(rerr, io.ErrUnexpectedEOF)
			}
			n -= r
			p.held = max(0, p.held-r)
			continue
		case err != nil:
			return err
		case m == 0:
			return io.ErrUnexpectedEOF // the bytes next saw are gone: another reader?
		}
		n -= int(m)
		p.held = max(0, p.held-int(m))
	}
	return nil
}
