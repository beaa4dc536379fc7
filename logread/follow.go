package logread

import (
	"encoding/binary"
	"os"
	"slices"
	"syscall"
	"time"
)

// watcher waits for a change in a log directory, for a following Reader.
// It uses inotify on the directory, which reports writes to the files in
// it as well as renames, links and removals, so an idle follower sleeps in
// the kernel; where inotify is unavailable it looks every poll interval.
// Even with inotify it looks at least that often, a guard against a lost
// event costing more than a delay.
//
// It also keeps the history that tells a follower which files came after
// the one it reads (see Reader.historyGap): the archives whose creation
// inotify reported, in order, since the Reader last marked it.
type watcher struct {
	f    *os.File // the inotify descriptor; nil when polling
	fd   int      // f's number, for the watches (f.Fd would make f blocking)
	wd   int      // the watch of the directory; -1 when none (it went away)
	poll time.Duration
	buf  []byte
	stop chan struct{}

	// created holds the archives created since the mark, by name, one per
	// stamp, oldest first; lost says that events were lost meanwhile (the
	// kernel's queue overflowed, or created grew past maxHistory), so the
	// history may lack some.
	created []string
	lost    bool
}

// maxHistory bounds the archives a history holds: a follower that stays in
// one file while its writer rotates this often is told it cannot say.
const maxHistory = 4096

const inotifyMask = syscall.IN_MODIFY | syscall.IN_CREATE | syscall.IN_DELETE | syscall.IN_MOVED_FROM |
	syscall.IN_MOVED_TO | syscall.IN_ATTRIB | syscall.IN_CLOSE_WRITE | syscall.IN_DELETE_SELF | syscall.IN_MOVE_SELF

func newWatcher(dir string, poll time.Duration, stop chan struct{}) *watcher {
	w := &watcher{poll: poll, stop: stop, wd: -1}
	fd, err := syscall.InotifyInit1(syscall.IN_NONBLOCK | syscall.IN_CLOEXEC)
	if err != nil {
		return w
	}
	// A non-blocking descriptor joins Go's poller: Read waits without a
	// thread, and a deadline (SetReadDeadline) can end the wait from any
	// goroutine.
	w.f, w.fd = os.NewFile(uintptr(fd), "inotify"), fd
	w.buf = make([]byte, 64<<10)
	w.watch(dir)
	return w
}

// watch makes dir the directory watched, in place of the one before (a
// follower of a name whose directory was replaced). Adding the watch
// again, the kernel gives the same watch for the same directory.
func (w *watcher) watch(dir string) {
	if w.f == nil {
		return
	}
	w.unwatch()
	if wd, err := syscall.InotifyAddWatch(w.fd, dir, inotifyMask); err == nil {
		w.wd = wd
	}
}

// unwatch stops watching the directory (gone, or replaced); waits then
// last the poll interval.
func (w *watcher) unwatch() {
	if w.f == nil || w.wd < 0 {
		return
	}
	syscall.InotifyRmWatch(w.fd, uint32(w.wd)) // fails when the kernel removed it with the directory
	w.wd = -1
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
	n, err := w.f.Read(w.buf)
	if err != nil {
		return
	}
	w.note(w.buf[:n])
	// Take whatever else is queued now: one look serves them all.
	w.drain()
}

// drain takes the events queued now, without waiting. (A read with a
// deadline already past would not even try: it reads on the descriptor
// itself, non-blocking.)
func (w *watcher) drain() {
	if w.f == nil {
		return
	}
	rc, err := w.f.SyscallConn()
	if err != nil {
		w.lost = true
		return
	}
	w.f.SetReadDeadline(time.Time{}) // a wake's deadline would refuse the read: stop is closed then, and wait sees it
	for {
		var n int
		var rerr error
		err := rc.Read(func(fd uintptr) bool {
			n, rerr = syscall.Read(int(fd), w.buf)
			return true // never wait
		})
		if err != nil || rerr != nil || n <= 0 {
			return
		}
		w.note(w.buf[:n])
	}
}

// note adds to the history the archives that events in b (whole inotify
// events, as read) say were created: linked, created or renamed to an
// archive name.
func (w *watcher) note(b []byte) {
	for len(b) >= syscall.SizeofInotifyEvent {
		wd := int32(binary.NativeEndian.Uint32(b[0:4]))
		mask := binary.NativeEndian.Uint32(b[4:8])
		n := int(binary.NativeEndian.Uint32(b[12:16]))
		if syscall.SizeofInotifyEvent+n > len(b) {
			w.lost = true // cannot happen: the kernel gives whole events
			return
		}
		name := b[syscall.SizeofInotifyEvent : syscall.SizeofInotifyEvent+n]
		b = b[syscall.SizeofInotifyEvent+n:]
		if mask&syscall.IN_Q_OVERFLOW != 0 {
			w.lost = true
			continue
		}
		if mask&(syscall.IN_CREATE|syscall.IN_MOVED_TO) == 0 || int(wd) != w.wd {
			continue // or from the watch of a directory left
		}
		if i := slices.Index(name, 0); i >= 0 {
			name = name[:i]
		}
		stamp, _, ok := parseArchiveName(string(name))
		if !ok || slices.ContainsFunc(w.created, func(c string) bool { return c[:stampLen] == stamp }) {
			continue
		}
		if len(w.created) >= maxHistory {
			w.lost = true
			continue
		}
		w.created = append(w.created, stamp+string(name[stampLen:]))
	}
}

// mark begins a new history: the events taken so far are forgotten.
func (w *watcher) mark() {
	w.created = w.created[:0]
	w.lost = w.f == nil || w.wd < 0 // polling: no history
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
