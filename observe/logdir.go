package observe

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/taikit/taikit/errtext"
	"github.com/taikit/taikit/logread"
	"github.com/taikit/taikit/tai64n"
)

// LogDir is the state of one log directory, as its writer (multilog,
// s6-log, svlogd, package rotate) leaves it.
type LogDir struct {
	// Name is the directory's path under its scan directory
	// ("qmail/log/main"), or the path as given for one named outside
	// every scan directory.
	Name string `json:"logdir"`
	Dir  string `json:"dir"`
	// Service is the service whose logger writes it ("qmail/log"), or ""
	// for a directory named on its own.
	Service string `json:"service,omitempty"`
	// Error says why the directory could not be read; the fields below
	// are then zero.
	Error string `json:"error,omitempty"`
	// Bytes is the size of the log files: the archives, a rotation in
	// progress (previous, processed) and current.
	Bytes int64 `json:"bytes"`
	// Archives counts the archives ("@<stamp>.s" and ".u").
	Archives int `json:"archives"`
	// LastWrite is when current was last written; zero without one.
	LastWrite time.Time `json:"last_write,omitzero"`
	// Oldest is the stamp of the oldest line kept; for lines without
	// stamps, when the oldest archive was closed (its name). Zero when
	// neither is known.
	Oldest time.Time `json:"oldest,omitzero"`

	// Cursor is the cursor file named for the directory (Tree.Cursors):
	// where its reader (logcat --cursor, a shipper) stands. The fields
	// below say how far behind it is.
	Cursor      string `json:"cursor,omitempty"`
	CursorError string `json:"cursor_error,omitempty"`
	// Behind is how many bytes of lines come after the cursor, at least
	// (BehindAtLeast) when more than MaxBehindRead.
	Behind        int64 `json:"behind_bytes,omitempty"`
	BehindAtLeast bool  `json:"behind_at_least,omitempty"`
	// BehindSince is the stamp of the first line after the cursor; zero
	// when there is none.
	BehindSince time.Time `json:"behind_since,omitzero"`
	// CursorGap says that files were pruned before the cursor's reader
	// read them: lines were lost to it.
	CursorGap bool `json:"cursor_gap,omitempty"`
}

// oldestKey identifies a file whose first stamp was read: archives never
// change, and current is read again when it changes.
type oldestKey struct {
	dev, ino   uint64
	size       int64
	mtimeNanos int64
}

// oldestCache keeps the first stamp of each directory's oldest file, so
// that a scrape opens (and maybe decompresses) a file only when the
// oldest one changed. The zero value is empty; a nil one keeps nothing.
type oldestCache struct {
	mu sync.Mutex
	m  map[string]oldestEntry
}

func (c *oldestCache) get(dir string) (oldestEntry, bool) {
	if c == nil {
		return oldestEntry{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[dir]
	return e, ok
}

func (c *oldestCache) put(dir string, e oldestEntry) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]oldestEntry{}
	}
	c.m[dir] = e
}

// keep forgets every directory but those in used.
func (c *oldestCache) keep(used map[string]bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for dir := range c.m {
		if !used[dir] {
			delete(c.m, dir)
		}
	}
}

type oldestEntry struct {
	key   oldestKey
	stamp tai64n.Label
	ok    bool
}

// ReadLogDir reads the state of the log directory dir. cache, when not
// nil, keeps the oldest line's stamp between calls (see Collector).
func readLogDir(dir string, cache *oldestCache) LogDir {
	d := LogDir{Dir: dir}
	f, err := os.Open(dir)
	if err != nil {
		d.Error = "unable to open " + dir + ": " + errtext.Of(err)
		return d
	}
	names, err := f.Readdirnames(-1)
	f.Close()
	if err != nil {
		d.Error = "unable to read " + dir + ": " + errtext.Of(err)
		return d
	}
	var oldestName string
	var oldestStamp tai64n.Label
	var oldestSt, currentSt syscall.Stat_t
	for _, n := range names {
		stamp, archive := archiveStamp(n)
		if !archive && n != "current" && n != "previous" && n != "processed" {
			continue
		}
		var st syscall.Stat_t
		if syscall.Lstat(dir+"/"+n, &st) != nil || st.Mode&syscall.S_IFMT != syscall.S_IFREG {
			continue // gone meanwhile, or not a log file (a link is never read)
		}
		d.Bytes += st.Size
		switch {
		case archive:
			d.Archives++
			if oldestName == "" || stamp.Before(oldestStamp) {
				oldestName, oldestStamp, oldestSt = n, stamp, st
			}
		case n == "current":
			d.LastWrite = time.Unix(st.Mtim.Unix()) // int32 fields on 386
			currentSt = st
		}
	}
	first, firstSt := oldestName, oldestSt
	if first == "" {
		first, firstSt = "current", currentSt
	}
	if l, ok := firstStamp(dir, first, &firstSt, cache); ok {
		d.Oldest = l.Time(tai64n.Daemontools)
	} else if oldestName != "" {
		d.Oldest = oldestStamp.Time(tai64n.Daemontools)
	}
	return d
}

// archiveStamp tells whether n is an archive of a log directory: "@", a
// TAI64N label in hex, then ".s" (complete) or ".u" (kept by crash
// recovery). Its label is when it was closed.
func archiveStamp(n string) (tai64n.Label, bool) {
	if len(n) != tai64n.StampLen+2 || n[0] != '@' || n[tai64n.StampLen] != '.' ||
		(n[tai64n.StampLen+1] != 's' && n[tai64n.StampLen+1] != 'u') {
		return tai64n.Label{}, false
	}
	return tai64n.ParsePrefix([]byte(n[:tai64n.StampLen]))
}

// firstStamp returns the stamp of the first stamped line among the first
// lines of dir/name, read through logread (which decompresses archives by
// content). Only a regular file is opened, without following a link or
// waiting on a FIFO.
//
// seen is what lstat said of the file as the directory was listed: the
// file is not opened at all when the cache holds its stamp.
func firstStamp(dir, name string, seen *syscall.Stat_t, cache *oldestCache) (tai64n.Label, bool) {
	if e, ok := cache.get(dir); ok && seen.Ino != 0 && e.key == keyOf(seen) {
		return e.stamp, e.ok
	}
	path := dir + "/" + name
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC|syscall.O_NOCTTY, 0)
	if err != nil {
		return tai64n.Label{}, false
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	var st syscall.Stat_t
	if syscall.Fstat(fd, &st) != nil || st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		return tai64n.Label{}, false
	}
	key := keyOf(&st)
	if e, ok := cache.get(dir); ok && e.key == key {
		return e.stamp, e.ok
	}
	syscall.SetNonblock(fd, false)
	r := logread.NewStream(f, logread.Options{Name: path, OnError: func(error) {}})
	defer r.Close()
	var stamp tai64n.Label
	found := false
	// Lines without a stamp (a script without t) would make this read the
	// whole file: a few lines tell.
	for range 16 {
		l, err := r.Next()
		if err != nil {
			break
		}
		if l.Stamped {
			stamp, found = l.Stamp, true
			break
		}
	}
	cache.put(dir, oldestEntry{key, stamp, found})
	return stamp, found
}

func keyOf(st *syscall.Stat_t) oldestKey {
	return oldestKey{uint64(st.Dev), st.Ino, st.Size, st.Mtim.Nano()}
}

var errNotInTree = errors.New("not under a scan directory")

// relName returns path's name under root ("qmail/log/main"), or
// errNotInTree; both are compared as written, without following links.
func relName(root, path string) (string, error) {
	rel, err := filepath.Rel(root, path)
	if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, "../") {
		return "", errNotInTree
	}
	return rel, nil
}
