package chain

import "fmt"

// titleKept is how many bytes at the start of readproctitle's title stay
// dots, marking where the window of recent input begins.
const titleKept = 3

// Title is readproctitle's display: a fixed piece of memory (in the
// command, the bytes of its last argument, which ps shows) holding three
// dots and then the most recent bytes written to it, scrolling left as
// more arrive. Title is an io.Writer, to be fed a stream such as svscan's
// error output.
type Title struct {
	buf []byte
}

// NewTitle makes buf a title: it needs at least five bytes, and starts
// filled with dots.
func NewTitle(buf []byte) (*Title, error) {
	if len(buf) < 5 {
		return nil, fmt.Errorf("the title is %d bytes long; readproctitle needs at least 5", len(buf))
	}
	for i := range buf {
		buf[i] = '.'
	}
	return &Title{buf: buf}, nil
}

// Write scrolls p into the title. It never fails. Writing a chunk leaves
// the title as writing it a byte at a time (as daemontools reads) would.
func (t *Title) Write(p []byte) (int, error) {
	window := t.buf[titleKept:]
	if len(p) >= len(window) {
		copy(window, p[len(p)-len(window):])
		return len(p), nil
	}
	copy(window, window[len(p):])
	copy(window[len(window)-len(p):], p)
	return len(p), nil
}

// String returns the title as it reads now.
func (t *Title) String() string { return string(t.buf) }
