package statusweb

import (
	"context"
	"errors"
	"os"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// watcher tells when something in a set of directories changed, with
// inotify: a waiting page costs nothing until a supervisor writes its
// status. Its descriptor is non-blocking and joins Go's poller, so that
// Close ends a wait from another goroutine.
type watcher struct {
	f     *os.File
	fd    int
	wds   map[string]int // path → watch descriptor
	buf   []byte
	limit bool // a watch could not be added (the kernel's limit)
}

// The changes that matter: supervise renames status and extra into place
// (daemontools', runit's and taikit's alike), down files come and go,
// services and supervise/ directories appear. Not IN_CLOSE_WRITE: reading
// the tree opens supervise/ok for writing (svok's test), and would wake
// the watcher that made it read, for ever.
const watchMask = unix.IN_MOVED_TO | unix.IN_MOVED_FROM | unix.IN_CREATE | unix.IN_DELETE |
	unix.IN_DELETE_SELF | unix.IN_MOVE_SELF | unix.IN_ONLYDIR

func newWatcher() (*watcher, error) {
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("inotify_init1", err)
	}
	return &watcher{f: os.NewFile(uintptr(fd), "inotify"), fd: fd, wds: map[string]int{}, buf: make([]byte, 64<<10)}, nil
}

// set makes paths the directories watched: new ones are added, those no
// longer named removed. A directory that does not exist yet is not
// watched; its parent's watch tells when it appears.
func (w *watcher) set(paths []string) {
	want := make(map[string]bool, len(paths))
	for _, p := range paths {
		want[p] = true
		if _, ok := w.wds[p]; ok {
			continue
		}
		wd, err := unix.InotifyAddWatch(w.fd, p, watchMask)
		if err == nil {
			w.wds[p] = wd
		} else if errors.Is(err, unix.ENOSPC) {
			w.limit = true
		}
	}
	for p, wd := range w.wds {
		if !want[p] {
			unix.InotifyRmWatch(w.fd, uint32(wd))
			delete(w.wds, p)
		}
	}
}

// wait blocks until at least one event came, then reads those that follow
// within settle (supervise writes status, then extra: one change, two
// renames), at most for 10 settles. It returns ctx's error once ctx is
// done (see interrupt).
func (w *watcher) wait(ctx context.Context, settle time.Duration) error {
	w.f.SetReadDeadline(time.Time{})
	// After the deadline is cleared: an interrupt from now on is seen by
	// the Read.
	if err := ctx.Err(); err != nil {
		return err
	}
	n, err := w.f.Read(w.buf)
	if err != nil {
		return err
	}
	w.forget(w.buf[:n])
	deadline := time.Now().Add(10 * settle)
	for time.Now().Before(deadline) {
		w.f.SetReadDeadline(time.Now().Add(settle))
		n, err := w.f.Read(w.buf)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return nil
			}
			return err
		}
		w.forget(w.buf[:n])
	}
	return nil
}

// forget drops the watches that the kernel says it removed (IN_IGNORED:
// the directory went away), so that set adds them again if it comes back.
func (w *watcher) forget(events []byte) {
	for len(events) >= unix.SizeofInotifyEvent {
		ev := (*unix.InotifyEvent)(unsafe.Pointer(&events[0]))
		size := unix.SizeofInotifyEvent + int(ev.Len)
		if size > len(events) {
			return
		}
		if ev.Mask&unix.IN_IGNORED != 0 {
			for p, wd := range w.wds {
				if wd == int(ev.Wd) {
					delete(w.wds, p)
				}
			}
		}
		events = events[size:]
	}
}

// interrupt ends a wait under way, from any goroutine.
func (w *watcher) interrupt() { w.f.SetReadDeadline(time.Unix(1, 0)) }

// close releases the watches.
func (w *watcher) close() error { return w.f.Close() }
