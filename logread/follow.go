package logread

import (
	"os"
	"syscall"
	"time"
)

// watcher waits for a change in a log directory, for a following Reader.
// It uses inotify on the directory, which reports writes to the files in
// it as well as renames, links and removals, so an idle follower sleeps in
// the kernel; where inotify is unavailable it looks every poll interval.
// Even with inotify it looks at least that often, a guard against a lost
// event costing more than a delay.
type watcher struct {
	f    *os.File // the inotify descriptor; nil when polling
	poll time.Duration
	buf  []byte
	stop chan struct{}
}

const inotifyMask = syscall.IN_MODIFY | syscall.IN_CREATE | syscall.IN_DELETE | syscall.IN_MOVED_FROM |
	syscall.IN_MOVED_TO | syscall.IN_ATTRIB | syscall.IN_CLOSE_WRITE | syscall.IN_DELETE_SELF | syscall.IN_MOVE_SELF

func newWatcher(dir string, poll time.Duration, stop chan struct{}) *watcher {
	w := &watcher{poll: poll, stop: stop}
	fd, err := syscall.InotifyInit1(syscall.IN_NONBLOCK | syscall.IN_CLOEXEC)
	if err != nil {
		return w
	}
	if _, err := syscall.InotifyAddWatch(fd, dir, inotifyMask); err != nil {
		syscall.Close(fd)
		return w
	}
	// A non-blocking descriptor joins Go's poller: Read waits without a
	// thread, and a deadline (SetReadDeadline) can end the wait from any
	// goroutine.
	w.f = os.NewFile(uintptr(fd), "inotify")
	w.buf = make([]byte, 64<<10)
	return w
}

// wait returns after a change in the directory, after the poll interval,
// or at once when stop is closed.
func (w *watcher) wait() {
	if w.f == nil {
		t := time.NewTimer(w.poll)
		defer t.Stop()
		select {
		case <-t.C:
		case <-w.stop:
		}
		return
	}
	w.f.SetReadDeadline(time.Now().Add(w.poll))
	select {
	case <-w.stop:
		return // closed before the deadline was set: do not wait
	default:
	}
	if _, err := w.f.Read(w.buf); err != nil {
		return
	}
	// Take whatever else is queued now: one look serves them all.
	w.f.SetReadDeadline(time.Now())
	for {
		if _, err := w.f.Read(w.buf); err != nil {
			return
		}
	}
}

// wake ends a wait in progress; stop must be closed first.
func (w *watcher) wake() {
	if w.f != nil {
		w.f.SetReadDeadline(time.Unix(1, 0))
	}
}

func (w *watcher) close() {
	if w.f != nil {
		w.f.Close()
	}
}
