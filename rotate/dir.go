package rotate

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"golang.org/x/sys/unix"

	"github.com/taikit/taikit/errtext"
)

// Names of the files in a log directory.
const (
	fileLock      = "lock"
	fileCurrent   = "current"
	filePrevious  = "previous"
	fileProcessed = "processed"
	fileState     = "state"
	fileNewState  = "newstate"
)

// ErrInterrupted is returned by an operation that Interrupt cut short.
var ErrInterrupted = errors.New("rotate: interrupted")

// Stats counts what a Dir did that a user may want to watch.
type Stats struct {
	Rotations    int64 // files closed and archived (or handed to processing)
	Pauses       int64 // failed operations retried after a pause
	DroppedBytes int64 // bytes dropped by the Lossy policy
	DroppedLines int64 // line ends among them
}

// Dir is an open log directory. Its methods are safe for concurrent use;
// Write is usually called by one goroutine, Rotate by a signal handler.
type Dir struct {
	opts Options
	abs  string // absolute path: the processor's working directory
	fs   FS
	lock File

	mu            sync.Mutex // serialises writing, rotation and Close
	cur           File
	size          int64     // bytes in current
	curIno        uint64    // current's inode number, kept only for Track
	writeback     int64     // current's bytes the disk was asked to start writing
	lineEnd       bool      // current is empty or its last byte is a newline
	started       time.Time // when current was begun, for Period
	job           *job      // processing of the last rotated file, if any
	dropped       dropRecord
	markerStarted bool // part of dropped.marker is in the file
	closed        bool
	nameMu        sync.Mutex
	lastLabel     [25]byte // newest archive name in the directory (its stamp)
	left          leftArchives

	stats struct{ rotations, pauses, droppedBytes, droppedLines atomic.Int64 }

	// Owned by the job goroutine (one at a time), kept for the next file.
	zstdEnc *zstd.Encoder
	gzipEnc *gzip.Writer
	copyBuf []byte

	stop     chan struct{} // closed by Interrupt: pauses end at once
	stopOnce sync.Once
	quit     chan struct{} // closed by Close: ends the period goroutine
	bg       sync.WaitGroup
}

// Open opens the log directory at path for writing, creating it (the last
// path component only, mode 0700) if it is missing. It takes the lock and
// recovers from a crash of the previous writer exactly as multilog does,
// then starts a fresh or continues a cleanly closed "current".
func Open(path string, opts Options) (*Dir, error) {
	opts, err := opts.withDefaults(path)
	if err != nil {
		return nil, err
	}
	d := &Dir{opts: opts, stop: make(chan struct{}), quit: make(chan struct{})}
	name := opts.Name
	// Only the last component, as multilog: a missing parent is an error.
	if err := os.Mkdir(path, 0o700); err == nil {
		os.Chmod(path, 0o700) // independent of the umask, as multilog's forced 022 gives
	}
	if d.abs, err = filepath.Abs(path); err != nil {
		return nil, &errtext.Error{Op: "unable to open directory", Path: name, Err: err}
	}
	openFS := opts.OpenFS
	if openFS == nil {
		openFS = OpenDirFS
	}
	if d.fs, err = openFS(path); err != nil {
		return nil, &errtext.Error{Op: "unable to open directory", Path: name, Err: errtext.WithoutPath(err)}
	}
	if err := d.takeLock(); err != nil {
		d.fs.Close()
		return nil, err
	}
	if err := d.recover(); err != nil {
		d.lock.Close()
		d.fs.Close()
		return nil, err
	}
	if opts.Period > 0 {
		d.bg.Add(1)
		go d.periodic()
	}
	return d, nil
}

// takeLock opens "lock" (0600 when created) and takes flock(LOCK_EX|LOCK_NB),
// the lock multilog and svlogd take.
func (d *Dir) takeLock() error {
	name := d.opts.Name
	f, err := d.create(fileLock, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return &errtext.Error{Op: "unable to lock directory", Path: name, Err: err}
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return &errtext.Error{Op: "unable to lock directory", Path: name, Err: err}
	}
	// s6-log locks with fcntl, which flock does not exclude on Linux: an
	// s6-log started on a live directory would take it over. An open file
	// description lock conflicts with fcntl locks, so take one too.
	lk := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: 0, Start: 0, Len: 0}
	if err := syscall.FcntlFlock(f.Fd(), fOFDSetLock, &lk); err != nil && !errors.Is(err, syscall.EINVAL) {
		f.Close()
		if errors.Is(err, syscall.EACCES) {
			err = syscall.EAGAIN // the same "temporary failure" as flock's
		}
		return &errtext.Error{Op: "unable to lock directory", Path: name, Err: err}
	}
	d.lock = f
	return nil
}

// fOFDSetLock is F_OFD_SETLK (Linux 3.15), which package syscall lacks.
// EINVAL from an older kernel just means the extra lock is not taken.
const fOFDSetLock = 37

// create opens name with flag, creating it with exactly mode if it does
// not exist. The process umask is left alone (a library must not change
// it); multilog forces 022, so its modes are set explicitly instead.
func (d *Dir) create(name string, flag int, mode fs.FileMode) (File, error) {
	f, err := d.openFile(name, flag|os.O_CREATE|os.O_EXCL, mode)
	if err == nil {
		if err := f.Chmod(mode); err != nil {
			f.Close()
			return nil, errtext.WithoutPath(err)
		}
		return f, nil
	}
	if !errors.Is(err, fs.ErrExist) {
		return nil, err
	}
	return d.openFile(name, flag, mode)
}

// openFile opens name in the directory, which must be a regular file, and
// returns its cause (a system error or a *notRegularError) on failure.
// The open never blocks: a FIFO planted at a name (or a device) would
// otherwise hold open(2) for ever, where no signal reaches it; anything
// but a regular file is refused, naming the file, as soon as it is open.
// O_NOCTTY keeps a terminal planted there from becoming the process's.
func (d *Dir) openFile(name string, flag int, perm fs.FileMode) (File, error) {
	// Truncated only once known to be ours (below), never at open.
	trunc := flag&os.O_TRUNC != 0
	flag &^= os.O_TRUNC
	f, err := d.fs.OpenFile(name, flag|syscall.O_NONBLOCK|syscall.O_NOCTTY, perm)
	if err != nil {
		err = errtext.WithoutPath(err)
		if errors.Is(err, syscall.ENXIO) {
			// A FIFO opened for writing without a reader, or a device
			// without its hardware: say what it is.
			if st, serr := d.fs.Stat(name); serr == nil && !st.Mode().IsRegular() {
				err = &notRegularError{name, st.Mode()}
			}
		}
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, errtext.WithoutPath(err)
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, &notRegularError{name, st.Mode()}
	}
	if flag&(os.O_WRONLY|os.O_RDWR) != 0 {
		if err := d.foreignLink(name, st); err != nil {
			f.Close()
			return nil, err
		}
	}
	if trunc {
		if err := syscall.Ftruncate(int(f.Fd()), 0); err != nil {
			f.Close()
			return nil, err
		}
	}
	// Processors inherit these files as their descriptors: give them
	// blocking ones, as they expect.
	if err := syscall.SetNonblock(int(f.Fd()), false); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// foreignLink refuses to write a file with more than one name that
// belongs to another account than the directory: a hard link planted by
// whoever may write the directory, to a file of root's on the same file
// system (a clean current with the owner-execute bit would be appended
// to), whatever account multilog runs as. A file the writer made has one
// name when it is opened for writing.
func (d *Dir) foreignLink(name string, st fs.FileInfo) error {
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok || sys.Nlink < 2 {
		return nil
	}
	dst, err := d.fs.Stat(".")
	if err != nil {
		return nil
	}
	if dsys, ok := dst.Sys().(*syscall.Stat_t); ok && dsys.Uid != sys.Uid {
		return &foreignLinkError{name, uint64(sys.Nlink), sys.Uid} // uint32 on some architectures
	}
	return nil
}

// recover makes multilog's start-up decision (daemontools' multilog.c,
// startprocessing): a "current" with the owner-execute bit was closed
// cleanly and is continued as it is; anything else means the last writer
// died, and everything it left is kept as archives.
func (d *Dir) recover() error {
	name := d.opts.Name
	st, err := d.fs.Stat(fileCurrent)
	if err == nil && st.Mode()&0o100 != 0 {
		f, err := d.openFile(fileCurrent, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			return &errtext.Error{Op: "unable to append to", Path: name + "/current", Err: err}
		}
		if err := f.Chmod(0o644); err != nil {
			f.Close()
			return &errtext.Error{Op: "unable to set mode of", Path: name + "/current", Err: errtext.WithoutPath(err)}
		}
		d.cur, d.size, d.started, d.curIno = f, st.Size(), d.opts.Clock(), 0
		d.writeback = d.size
		d.lineEnd = d.lastByteIsNewline()
		return d.scanNames()
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return &errtext.Error{Op: "unable to stat", Path: name + "/current", Err: errtext.WithoutPath(err)}
	}
	if err := d.scanNames(); err != nil {
		return err
	}
	d.removeQuietly(fileState)
	d.removeQuietly(fileNewState)
	pst, err := d.fs.Stat(fileProcessed)
	switch {
	case err == nil && pst.Mode()&0o100 != 0:
		// Processing had finished: its output is the archive.
		d.removeQuietly(filePrevious)
		if err := d.archive(fileProcessed, 's'); err != nil {
			return err
		}
	case err == nil || errors.Is(err, fs.ErrNotExist):
		d.removeQuietly(fileProcessed)
		if err := d.archive(filePrevious, 'u'); err != nil {
			return err
		}
	default:
		return &errtext.Error{Op: "unable to stat", Path: name + "/processed", Err: errtext.WithoutPath(err)}
	}
	// Even an empty crashed current becomes a .u, as in multilog.
	if err := d.archive(fileCurrent, 'u'); err != nil {
		return err
	}
	st2, err := d.openFile(fileState, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err == nil {
		err = st2.Chmod(0o644)
		st2.Close()
	}
	if err != nil {
		return &errtext.Error{Op: "unable to write to", Path: name + "/state", Err: errtext.WithoutPath(err)}
	}
	f, err := d.create(fileCurrent, os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return &errtext.Error{Op: "unable to write to", Path: name + "/current", Err: err}
	}
	d.cur, d.size, d.started, d.lineEnd, d.curIno = f, 0, d.opts.Clock(), true, 0
	d.writeback = 0
	return nil
}

func (d *Dir) removeQuietly(name string) {
	d.fs.Remove(name)
}

// Write appends p to "current", rotating where the size rules say: after
// the first line end at or after MaxSize−2000 bytes, or at exactly MaxSize
// bytes inside a longer line. p need not hold whole lines. Each piece
// between two rotations is written with one write(2). A failing write is
// reported, paused and retried; with the Lossy policy a full disk drops
// the data instead (see Stats).
func (d *Dir) Write(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return 0, fs.ErrClosed
	}
	n := 0
	for len(p) > 0 {
		if d.dropped.pending() {
			// Record what the Lossy policy dropped before anything else.
			if err := d.writeDropMarker(); err != nil {
				return n, err
			}
		}
		if d.size >= d.opts.MaxSize {
			if err := d.rotateLocked(); err != nil {
				return n, err
			}
		}
		chunk := p[:min(int64(len(p)), d.opts.MaxSize-d.size)]
		cut := false
		// The first line end that brings the file to MaxSize−2000 bytes.
		from := max(0, d.opts.MaxSize-cutMargin-d.size-1)
		if from < int64(len(chunk)) {
			if i := bytes.IndexByte(chunk[from:], '\n'); i >= 0 {
				chunk, cut = chunk[:from+int64(i)+1], true
			}
		}
		written, err := d.writeCurrent(chunk)
		if err != nil {
			return n, err
		}
		n += len(chunk)
		p = p[len(chunk):]
		// Rotate only at a line end that reached the file, or at MaxSize.
		if (cut && written == len(chunk)) || d.size >= d.opts.MaxSize {
			if err := d.rotateLocked(); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// Size returns the number of bytes in "current".
func (d *Dir) Size() int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.size
}

// Rotate closes a non-empty "current" and archives it now (what SIGALRM
// asks of multilog). An empty current is left alone.
func (d *Dir) Rotate() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return fs.ErrClosed
	}
	if d.size == 0 {
		return nil
	}
	return d.rotateLocked()
}

// Wait waits until the work the last rotation started beside the writer
// (fsync, processing or compression, archiving, pruning) is done, and
// returns its error, which the next Write or Rotate would otherwise
// return. After it, the directory holds the rotated file under its
// archive name: a program (or a test) can act on what the directory then
// shows, without watching it.
func (d *Dir) Wait() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.finishJob()
}

// Stats returns the counters.
func (d *Dir) Stats() Stats {
	return Stats{
		Rotations:    d.stats.rotations.Load(),
		Pauses:       d.stats.pauses.Load(),
		DroppedBytes: d.stats.droppedBytes.Load(),
		DroppedLines: d.stats.droppedLines.Load(),
	}
}

// Interrupt makes every pause end at once and every later failure return
// instead of being retried: what a program does on SIGTERM so that it can
// exit promptly even while the disk is full. It does not close the Dir.
func (d *Dir) Interrupt() {
	d.stopOnce.Do(func() { close(d.stop) })
}

// Close finishes the directory as multilog does at exit: it waits for
// processing of the last rotated file (or, after Interrupt, stops it and
// keeps that file as a ".u" archive, as a crash would), fsyncs "current",
// sets its mode to 0744 — the mark of a clean stop — and releases the lock.
func (d *Dir) Close() error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return fs.ErrClosed
	}
	d.closed = true
	close(d.quit)
	if d.dropped.pending() {
		d.writeDropMarker() // the last chance to say what was lost
	}
	err := d.finishJob()
	if e := d.retry(func() string { return "unable to write " + d.opts.Name + "/current to disk" }, d.cur.Sync); err == nil {
		err = e
	}
	if e := d.retry(func() string { return "unable to set mode of " + d.opts.Name + "/current" },
		func() error { return d.cur.Chmod(0o744) }); err == nil {
		err = e
	}
	d.cur.Close()
	d.mu.Unlock()
	d.bg.Wait()
	d.lock.Close() // releases the flock
	d.fs.Close()
	return err
}

// writeCurrent writes all of p to current, pausing and retrying on errors
// (partial writes count). Under the Lossy policy a full disk makes it
// delete old archives down to MinKeep and then drop what still does not
// fit; it returns how much of p reached the file.
func (d *Dir) writeCurrent(p []byte) (int, error) {
	total := 0
	for len(p) > 0 {
		if d.dropped.pending() {
			// Still dropping: the marker must come before any new data.
			d.drop(p)
			return total, nil
		}
		if d.opts.Track != nil {
			d.opts.Track(d.currentIno(), d.size)
		}
		n, err := d.write(p)
		if d.opts.Track != nil {
			d.opts.Track(d.curIno, d.size)
		}
		total += n
		p = p[n:]
		if err == nil {
			continue
		}
		if errors.Is(err, syscall.ENOSPC) && d.makeRoom() {
			continue // as svlogd: the oldest archive made room (MinKeep)
		}
		if d.opts.Policy == Lossy && errors.Is(err, syscall.ENOSPC) {
			d.drop(p)
			return total, nil
		}
		d.warnPause("unable to write to "+d.opts.Name+"/current", err)
		if !d.sleep() {
			return total, ErrInterrupted
		}
	}
	return total, nil
}

// currentIno returns current's inode number, asking the file system once
// per file.
func (d *Dir) currentIno() uint64 {
	if d.curIno == 0 {
		if st, err := d.cur.Stat(); err == nil {
			if sys, ok := st.Sys().(*syscall.Stat_t); ok {
				d.curIno = sys.Ino
			}
		}
	}
	return d.curIno
}

// write writes to current once, keeping size and lineEnd.
func (d *Dir) write(p []byte) (int, error) {
	var n int
	var err error
	if f, ok := d.cur.(*os.File); ok && d.opts.RawWrites {
		n, err = rawWrite(f, p)
	} else {
		n, err = d.cur.Write(p)
	}
	if n > 0 {
		d.size += int64(n)
		d.lineEnd = p[n-1] == '\n'
		if d.size-d.writeback >= writebackEvery {
			// Have the disk start writing what is written, without
			// waiting for it: the fsync that makes the file an archive
			// then waits only for the last stretch, not for the whole
			// file, and the writer is not held up at the next rotation.
			// Advice only: a failure changes nothing.
			unix.SyncFileRange(int(d.cur.Fd()), d.writeback, d.size-d.writeback, unix.SYNC_FILE_RANGE_WRITE)
			d.writeback = d.size
		}
	}
	return n, err
}

// writebackEvery is how much of current is written before the disk is
// asked to start writing it (as RocksDB's bytes_per_sync): large enough
// that a service writing a line at a time never pays a system call for it.
const writebackEvery = 1 << 20

// lastByteIsNewline reads the last byte of current from disk.
func (d *Dir) lastByteIsNewline() bool {
	if d.size == 0 {
		return true
	}
	f, err := d.openFile(fileCurrent, os.O_RDONLY, 0)
	if err != nil {
		return true
	}
	defer f.Close()
	var b [1]byte
	n, _ := f.ReadAt(b[:], d.size-1)
	return n == 1 && b[0] == '\n'
}

// warnPause reports a failure that will be retried after a pause.
func (d *Dir) warnPause(text string, err error) {
	if d.interrupted() {
		d.opts.Warn(text + ": " + errtext.Of(err))
		return
	}
	d.stats.pauses.Add(1)
	d.opts.Warn(text + ", pausing: " + errtext.Of(err))
}

// interrupted reports whether Interrupt was called or Options.Interrupt
// closed.
func (d *Dir) interrupted() bool {
	select {
	case <-d.stop:
		return true
	case <-d.opts.Interrupt:
		return true
	default:
		return false
	}
}

// sleep waits the pause; false means Interrupt was called.
func (d *Dir) sleep() bool {
	if d.interrupted() {
		return false
	}
	t := time.NewTimer(d.opts.Pause)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-d.stop:
		return false
	case <-d.opts.Interrupt:
		return false
	}
}

// retry runs op until it succeeds, warning and pausing after each failure,
// as every run-time step of multilog does.
func (d *Dir) retry(what func() string, op func() error) error {
	for {
		err := op()
		if err == nil {
			return nil
		}
		d.warnPause(what(), errtext.WithoutPath(err))
		if !d.sleep() {
			return fmt.Errorf("%s: %w (%v)", what(), ErrInterrupted, err)
		}
	}
}

// periodic rotates a non-empty current that has been open for Period.
func (d *Dir) periodic() {
	defer d.bg.Done()
	// Checked twenty times a period (at most once a second, at least
	// every 10 ms): a rotation is at most 5% late.
	tick := time.NewTicker(min(max(d.opts.Period/20, 10*time.Millisecond), time.Second))
	defer tick.Stop()
	for {
		select {
		case <-d.quit:
			return
		case <-tick.C:
		}
		d.mu.Lock()
		if !d.closed && d.size > 0 && d.opts.Clock().Sub(d.started) >= d.opts.Period {
			d.rotateLocked()
		}
		d.mu.Unlock()
	}
}

// errTextOf words err as daemontools does.
func errTextOf(err error) string { return errtext.Of(errtext.WithoutPath(err)) }
