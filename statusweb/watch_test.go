package statusweb

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/taikit/taikit/observe"
	"github.com/taikit/taikit/supervise"
)

// pending reports whether the watcher has events waiting.
func pending(t *testing.T, w *watcher) bool {
	t.Helper()
	n, err := unix.Read(w.fd, w.buf)
	if errors.Is(err, unix.EAGAIN) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	return n > 0
}

// TestOwnReadsAreNotChanges: reading the tree (which opens supervise/ok
// for writing, as svok does, and the status files) is no change to the
// watcher; otherwise an open page would make svstatd read the tree again
// and again. A status renamed into place, as supervise writes it, is.
func TestOwnReadsAreNotChanges(t *testing.T) {
	scan := t.TempDir()
	dir := filepath.Join(scan, "web")
	if err := os.MkdirAll(filepath.Join(dir, "supervise"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(supervise.OKPath(dir), 0o600); err != nil {
		t.Fatal(err)
	}
	fd, err := syscall.Open(supervise.OKPath(dir), syscall.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	write := func() {
		tmp := supervise.StatusPath(dir) + ".new"
		if err := os.WriteFile(tmp, supervise.Status{PID: 5, Want: 'u'}.Append(nil), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, supervise.StatusPath(dir)); err != nil {
			t.Fatal(err)
		}
	}
	write()
	h := newHub(&observe.Tree{ScanDirs: []string{scan}})
	w, err := newWatcher()
	if err != nil {
		t.Skip(err)
	}
	defer w.close()
	w.set(h.watchPaths())
	h.mu.Lock()
	h.refresh()
	h.mu.Unlock()
	if s, _ := h.tree.Service("web"); !s.Up {
		t.Fatalf("web: %+v", s)
	}
	if pending(t, w) {
		t.Errorf("reading the tree woke the watcher")
	}
	write()
	if !pending(t, w) {
		t.Errorf("a status renamed into place did not wake the watcher")
	}
}
