package logcat

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sync"

	"github.com/taikit/taikit/logread"
)

// follow reads a log directory to its end, writes the last lines held back
// (-n), then prints lines as they are written until interrupted, across
// rotations, saving the cursor (--cursor) after each write of the output.
func (c *command) follow(kinds []inputKind) {
	if len(c.o.Inputs) > 1 {
		c.warn(errors.New("unable to follow several directories at once: follow them one by one (logcat -F ./a & logcat -F ./b)"))
		return
	}
	dir := c.o.Inputs[0]
	missing := kinds[0] == inputMissing
	var start *logread.Cursor
	if c.o.Cursor != "" {
		cur, err := logread.LoadCursor(c.o.Cursor)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			c.warn(fmt.Errorf("unable to read cursor %s: %s", c.o.Cursor, errText(err)))
			return
		}
		start = &cur
	}

	out := &liveOutput{p: c.p, path: c.o.Cursor, dirty: make(chan struct{}, 1),
		stop: make(chan struct{}), stopped: make(chan struct{}), warn: c.warn}
	// -n: the last lines of a directory not there yet are none; -F then
	// prints it whole once it is there, as tail -F does with a file.
	if c.q.Last >= 0 && !(missing && c.o.FollowRotate) {
		// -n: what is there now is read to its end first, to know which
		// lines are the last; following goes on from where that ended.
		rs, _ := c.openReaders([]string{dir}, start, false)
		if len(rs) == 0 {
			return
		}
		r := rs[0]
		handled := 0
		for !c.p.Done() && !c.interrupted() {
			b, err := r.NextLines()
			if err != nil {
				if err != io.EOF {
					c.warn(err)
				}
				break
			}
			handled = c.p.AddLines(b.Bytes, b.Stamp)
			if b.Cut {
				c.p.CutLine()
			}
		}
		end := r.CursorAfter(handled)
		r.Close()
		if c.p.Done() || c.stopped {
			// Interrupted before following began: the lines held back
			// are written at the end, and the cursor is saved after them.
			if c.o.Cursor != "" && !c.p.Pending() {
				c.cursorToSave = &end
			}
			c.p.DropPending()
			return
		}
		start = &end
		if !c.p.Pending() {
			out.cursor, out.fresh = end, true
		}
	}
	if err := c.p.StartLive(); err != nil {
		return
	}
	go out.run()
	defer out.close()

	// Following: every line as it comes.
	rs, _ := c.openReaders([]string{dir}, start, true)
	if len(rs) == 0 {
		return
	}
	r := rs[0]
	defer r.Close()
	if c.env.Interrupt != nil {
		quit := make(chan struct{})
		defer close(quit)
		go func() {
			select {
			case <-c.env.Interrupt:
				r.Interrupt()
			case <-quit:
			}
		}()
	}
	out.wake() // a cursor to save already
	defer func() {
		// Runs before out.close writes the rest: a line whose end has not
		// come is not written, so that it is not repeated by a restart
		// from the cursor, which stands at its start.
		if c.o.Cursor != "" {
			out.mu.Lock()
			c.p.DropPending()
			out.mu.Unlock()
		}
	}()
	for {
		b, err := r.NextLines()
		if err != nil {
			if errors.Is(err, logread.ErrInterrupted) {
				c.stopped = true
			} else if err != io.EOF {
				c.warn(err)
			}
			return
		}
		out.mu.Lock()
		n := c.p.AddLines(b.Bytes, b.Stamp)
		if b.Cut {
			c.p.CutLine()
		}
		if !c.p.Pending() {
			// Saved only at line ends: a restart must not begin in the
			// middle of a line whose start was never written.
			out.cursor, out.fresh = r.CursorAfter(n), true
		}
		done := c.p.Done()
		out.mu.Unlock()
		out.wake()
		if done {
			return
		}
	}
}

// liveOutput writes a follower's output as it comes: a goroutine writes
// whatever the pipeline has gathered whenever it is woken, so that lines
// arriving together go out in one write, and a line arriving alone goes
// out at once; after each write it saves the cursor of the last line
// written. Writing before saving means a kill between the two repeats that
// one write's lines at a restart, rather than losing them.
type liveOutput struct {
	mu     sync.Mutex // guards p, cursor and fresh
	p      *Pipeline
	cursor logread.Cursor
	fresh  bool // cursor changed since it was saved

	path    string // the cursor file, "" for none
	dirty   chan struct{}
	stop    chan struct{}
	stopped chan struct{}
	warn    func(error)
}

func (o *liveOutput) wake() {
	select {
	case o.dirty <- struct{}{}:
	default:
	}
}

func (o *liveOutput) run() {
	defer close(o.stopped)
	for {
		select {
		case <-o.dirty:
			o.write()
		case <-o.stop:
			o.write()
			return
		}
	}
}

// write writes the gathered output and then saves the cursor that goes
// with it.
func (o *liveOutput) write() {
	o.mu.Lock()
	o.p.flush()
	cur, save := o.cursor, o.fresh && o.p.err == nil
	o.fresh = false
	o.mu.Unlock()
	if save && o.path != "" {
		if err := logread.SaveCursor(o.path, cur); err != nil {
			o.warn(fmt.Errorf("unable to save cursor %s: %s", o.path, errText(err)))
		}
	}
}

// close writes what is left and stops the goroutine.
func (o *liveOutput) close() {
	close(o.stop)
	<-o.stopped
}
