package logcat

import (
	"io"
	"os"
)

// A signal stops logcat cleanly between two blocks, but a read of a pipe
// or a terminal whose writer says nothing, or the open of a FIFO nobody
// writes, never returns to the loop that would see it: `idle | logcat -f -`
// ignored SIGTERM. Such inputs are read through a stoppable, whose reads
// run in a goroutine of their own; a stop asked ends the stream at once
// (io.EOF), and the read still in the kernel is abandoned to the exit.

// stoppable reads r until stop is closed.
type stoppable struct {
	r    io.Reader
	stop <-chan struct{}
	req  chan []byte
	res  chan readResult
}

type readResult struct {
	n   int
	err error
}

func newStoppable(r io.Reader, stop <-chan struct{}) *stoppable {
	s := &stoppable{r: r, stop: stop, req: make(chan []byte), res: make(chan readResult, 1)}
	go func() {
		for p := range s.req {
			n, err := s.r.Read(p)
			s.res <- readResult{n, err}
		}
	}()
	return s
}

// Read reads into p in the goroutine. Stopped, it returns io.EOF: what was
// read is all there is. The goroutine may then still be filling p; its
// owner (a logread.Reader's buffer beyond the bytes it holds) reads no
// more of it.
func (s *stoppable) Read(p []byte) (int, error) {
	select {
	case <-s.stop:
		return 0, io.EOF
	case s.req <- p:
	}
	select {
	case r := <-s.res:
		return r.n, r.err
	case <-s.stop:
		return 0, io.EOF
	}
}

// openStoppable opens the file at name (a FIFO, a device: what open(2)
// may wait on) in a goroutine; stopped first, it reports false.
func openStoppable(name string, stop <-chan struct{}) (*os.File, bool, error) {
	type opened struct {
		f   *os.File
		err error
	}
	c := make(chan opened, 1)
	go func() {
		f, err := os.Open(name)
		c <- opened{f, err}
	}()
	select {
	case o := <-c:
		return o.f, true, o.err
	case <-stop:
		go func() { // the open may still succeed: close what it gives
			if o := <-c; o.f != nil {
				o.f.Close()
			}
		}()
		return nil, false, nil
	}
}
