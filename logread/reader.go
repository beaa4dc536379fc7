package logread

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/taikit/taikit/errtext"
	"github.com/taikit/taikit/tai64n"
)

// Options configure a Reader. The zero value reads the whole directory
// once, from its oldest archive to the end of "current".
type Options struct {
	// Since, when HasSince is set, skips lines stamped before it. Archives
	// whose name (the time they were closed) is before Since are skipped
	// unopened, and the start inside an uncompressed file is found by
	// binary search on the line stamps. Labels compare as written, so give
	// them in the directory's convention (s6-log's stamps are 27 s ahead of
	// daemontools' today; see package tai64n).
	Since    tai64n.Label
	HasSince bool

	// Until, when HasUntil is set, ends the stream at the first line
	// stamped after it (inclusive bound), even when following.
	Until    tai64n.Label
	HasUntil bool

	// Follow keeps reading after the end of "current": Next waits for new
	// lines and continues across rotations instead of returning io.EOF.
	// The directory is followed by its name: when the name leads to
	// another directory (a redeploy), that one is read from its start
	// (see DirChange).
	Follow bool

	// WaitForDir, with Follow, lets OpenDir open a directory that is not
	// there yet (a service being set up, a redeploy in progress): the
	// Reader starts as one whose directory went away, says so (a
	// *DirChange to OnError), and reads the directory from its start once
	// it is there, as tail -F waits for a file.
	WaitForDir bool

	// Cursor, when not nil, starts the stream right after the position it
	// holds (see Reader.Cursor) instead of at the oldest archive. Since is
	// still applied to the lines after it.
	Cursor *Cursor

	// OnError receives errors that concern one file (an unreadable or
	// corrupt archive, a file refused: ErrNotRegular), gaps (a *GapError:
	// files pruned before they were read) and, following, the directory
	// going away or coming back (a *DirChange), just before the first line
	// after them; reading goes on with the next file. By default they are
	// collected for Errors.
	OnError func(err error)

	// Name is the directory (or file, or stream) as the user named it, for
	// messages; by default the path given to OpenDir or OpenFile.
	Name string

	// Map lets the Reader give the lines of an uncompressed archive of
	// 256 KiB or more straight from a memory mapping of the file, without
	// a copy: the cheapest way to read a large directory. A caller that
	// sets it must touch the bytes that Next and NextLines give, and call
	// them, only inside Guard, and close the Reader when Guard returns a
	// *FaultError (the archive was truncated while mapped: a fault that
	// would otherwise kill the program). Only archives are mapped;
	// "current" and compressed archives are read as without it.
	Map bool

	// ReadAhead decompresses the next two compressed archives, each
	// whole, on other cores while the lines of this one are given, so
	// that reading a directory of compressed archives takes the time of
	// decompressing them on every core rather than on one. It costs up
	// to three archives' decompressed size of memory (an archive of more
	// than 32 MiB is read as without it). The stream, its cursors and its
	// errors are the same. It applies to the archives of a directory, not
	// to a stream (NewStream, OpenFile).
	ReadAhead bool

	// Scan, with ReadAhead, is run on the whole content of each archive
	// read ahead (decompressed, or with Map an uncompressed one mapped),
	// on the goroutine that read it ahead, while the cores would
	// otherwise wait: a search there finds its lines while they are in
	// that core's cache. What it returns comes with the lines of that
	// archive (Lines.Scan). It must only read its argument, and may run
	// on several goroutines at once. An archive whose mapping faults
	// while Scan reads it (truncated meanwhile) is read without it.
	Scan func(content []byte) any

	// PollInterval is how often a follower looks at the directory when
	// inotify is unavailable, and the longest it trusts inotify to have
	// said everything; 1 s by default.
	PollInterval time.Duration
}

// Line is one line of the stream. Bytes is valid until the next call of
// Next.
type Line struct {
	// Bytes is the line with its newline. It lacks the newline only where
	// a file ended without one (a line split at the size cap continues in
	// the next file; a writer killed mid-line: see Cut) or where a line longer than
	// the read buffer is given in pieces; concatenating Bytes gives back
	// the files' contents exactly.
	Bytes []byte
	// Stamp is the line's own TAI64N stamp when Stamped, otherwise that of
	// the nearest stamped line before it (lines without a stamp belong to
	// the stamp before them); zero when there is none.
	Stamp   tai64n.Label
	Stamped bool
	// Cut says that Bytes, without a newline, still ends its line: its
	// file ended there and the next file does not continue it, but begins
	// a line of its own. That is the end of a ".u" archive, which crash
	// recovery keeps from a writer killed mid-line (a line split at the
	// size cap ends a ".s" archive, "previous" or "processed", and does
	// continue in the next file).
	Cut bool
}

// Source is a stream of lines: a log directory (a Reader from OpenDir), a
// single file or stream (a Reader from OpenFile or NewStream), or several
// of them merged (Merged). A program reads it a line at a time (Next) or
// a block of whole lines at a time (NextLines), and may mix the two.
type Source interface {
	// Next returns the next line, or io.EOF at the end.
	Next() (Line, error)
	// NextLines returns the next lines, or io.EOF at the end.
	NextLines() (Lines, error)
	// Errors returns the per-file errors kept because Options.OnError
	// was not set.
	Errors() []error
	// Close releases the files.
	Close() error
}

// Reader reads a log directory as one ordered stream of lines: the
// archives ("@<stamp>.s" and "@<stamp>.u") in the order of their names,
// then a rotation in progress ("previous", or "processed" once "previous"
// is gone), then "current". Compressed archives (gzip or zstd, whether
// written by package rotate with Compression or by a processor such as multilog's
// "!gzip") are recognised by their magic number and decompressed.
//
// A Reader from OpenFile or NewStream reads one file or stream instead, in
// the same way (see OpenFile).
//
// A Reader is not safe for concurrent use, except Interrupt.
//
// # Which file holds which data
//
// Every writer moves data forward through the same names: multilog, s6-log
// and package rotate rename "current" to "previous" (same inode), then either link it
// to "@x.s" (same inode) or have it processed into "processed" (a new file:
// compressed or otherwise transformed), remove "previous" and link
// "processed" to "@x.s"; crash recovery keeps "previous" and "current" as
// ".u" archives by linking. svlogd renames "current" straight to "@x.s", or,
// with a processor, to "@x.u" whose output "@x.t" is renamed "@x.s". A
// Reader therefore takes the archives first, then "previous" (ignoring a
// "processed" beside it, which holds the same data), else "processed",
// then "current"; an archive name given to a file it has already read by
// another name is recognised by device and inode, so no line is read
// twice, and of "@x.s" and "@x.u" with the same stamp only one is read.
// A "previous" or "processed" that is the same inode as an archive already
// consumed (a writer links the archive name before it removes the old
// one) is that archive, even for a Reader started from a Cursor, which
// has not seen it read.
//
// A file that a processor replaced by a new one (compressed "processed",
// svlogd's "@x.s") is recognised as already read when its first 4096
// decompressed bytes and its decompressed size equal those of the file the
// Reader read before; so a follower never repeats a compressed archive.
// The output of a processor that changes the data (not just compresses
// it) is new data to the Reader and is read too.
//
// The directory listing that decides what comes after the archives is
// taken twice until both agree, so that a rotation in between cannot make
// the Reader skip a file.
//
// # Gaps
//
// A writer's retention may prune files before the Reader reads them: a
// follower stopped for a while, a Cursor kept too long, a reader slower
// than the writer. The Reader never skips data silently: it tells what it
// can of what was pruned (which files, how big, between which stamps) in
// a *GapError, given like any other error, and goes on with what is left.
type Reader struct {
	dir  string // path to the directory
	name string // as the user named it
	opts Options

	unmapper unmapper // releases the mappings of archives read (Options.Map)
	// Options.Scan's result for the block being taken, and where the
	// block begins in the text it was found in.
	scan    any
	scanOff int

	// What has been consumed: every archive whose stamp is <= after, and
	// the files in queue (read to their end, not yet seen under an archive
	// name).
	after [stampLen]byte
	queue []readFile
	// Identities of archives read recently, to recognise "previous" or
	// "processed" still linked beside the archive it became.
	recent [4]recentArchive
	nrec   int

	list      []archiveGroup // archives of the last listing not yet handled
	listSizes [][2]int64     // their sizes, when the listing looked (else nil)
	listPos   int

	// What is known for telling gaps (see GapError): the files after the
	// archives of the last look, not read yet; the queue's file that the
	// first archive of that look was found to hold; the name of the last
	// file read; and the gap being gathered, given to the caller once the
	// stream goes on.
	ahead    []aheadFile
	found    queueMatch
	lastFile string
	gap      *GapError
	hist     histMark // where the watcher's history began, following

	// refused holds, by kind ("previous", "processed", "current"), the
	// file last refused under that name (not a regular file, or not
	// readable): it is reported once and passed over while it stays.
	refused [kindCurrent + 1]heldEntry

	// The directory being read, a follower's by name: its identity, and
	// whether the name leads nowhere now (see followDir).
	dirID   fileID
	dirGone bool

	src     *source
	buf     []byte
	gz      *gzip.Reader
	zd      *zstd.Decoder
	pre     prefetcher // ReadAhead
	copyBuf []byte     // for discarding decompressed bytes

	stamp      tai64n.Label // the last stamp seen, inherited by unstamped lines
	lastLen    int          // bytes given by the last Next or NextLines, for CursorAfter
	midLine    bool         // what was given last ended without a newline
	sincePast  bool         // a line at or after Since was given
	ended      bool         // Until passed: io.EOF for ever
	started    bool
	resume     *Cursor // the cursor to start from, until it is used
	watch      *watcher
	errs       []error
	interruptC chan struct{}

	// A Reader of a single file or stream (OpenFile, NewStream) reads
	// stream instead of a directory; streamFile is the file OpenFile
	// opened, and streamDone says the stream has been opened as a source.
	stream     io.Reader
	streamFile *os.File
	streamDone bool
}

// readBufSize is the read buffer of a Reader: large reads make the cost
// per line small, and a line longer than this is given in pieces.
const readBufSize = 1 << 20

// OpenDir opens the log directory at dir for reading. A missing
// directory is an error; in a directory being set up, a missing "current"
// is not.
func OpenDir(dir string, opts Options) (*Reader, error) {
	if opts.Name == "" {
		opts.Name = dir
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = time.Second
	}
	id, err := dirIdentity(dir)
	waiting := err != nil && opts.Follow && opts.WaitForDir && dirMissing(err)
	if err != nil && !waiting {
		return nil, &errtext.Error{Op: "unable to open directory", Path: opts.Name, Err: err}
	}
	r := &Reader{dir: dir, name: opts.Name, opts: opts, buf: make([]byte, readBufSize),
		interruptC: make(chan struct{}), dirID: id, dirGone: waiting}
	if opts.Cursor != nil {
		c := *opts.Cursor
		r.resume = &c
		r.after = c.after
		for i := 0; i < c.nq; i++ {
			r.queue = append(r.queue, c.q[i])
		}
	}
	if opts.Follow {
		r.watch = newWatcher(dir, opts.PollInterval, r.interruptC)
	}
	if waiting {
		r.notify(&DirChange{Dir: r.name, Gone: true, Err: err})
	}
	return r, nil
}

// Errors returns the per-file errors met so far, when Options.OnError
// is not set.
func (r *Reader) Errors() []error { return r.errs }

// File returns the name (within the directory) of the file the last line
// came from.
func (r *Reader) File() string {
	if r.src == nil {
		return ""
	}
	return r.src.name
}

// Interrupt makes a Next that waits for new lines return ErrInterrupted,
// now or when it next would wait or go on to another file. It is safe to call from any goroutine
// (a signal handler's), unlike the other methods.
func (r *Reader) Interrupt() {
	select {
	case <-r.interruptC:
	default:
		close(r.interruptC)
	}
	if r.watch != nil {
		r.watch.wake()
	}
}

func (r *Reader) interrupted() bool {
	select {
	case <-r.interruptC:
		return true
	default:
		return false
	}
}

// Close releases the open file and the watch.
func (r *Reader) Close() error {
	r.closeSource()
	r.stopPrefetch()
	r.unmapper.stop()
	for i := range r.refused {
		r.refused[i].close()
	}
	r.dropQueue(len(r.queue))
	r.dropAhead()
	for i := range r.recent {
		if r.recent[i].f != nil {
			r.recent[i].f.Close()
			r.recent[i].f = nil
		}
	}
	if r.watch != nil {
		r.watch.close()
	}
	if r.zd != nil {
		r.zd.Close()
	}
	if r.streamFile != nil {
		r.streamFile.Close()
	}
	return nil
}

// report hands a failure concerning one file to OnError, or keeps it for
// Errors: an *errtext.Error "unable to <op> <dir>/<file>: <reason>", op
// being "read", "open", "decompress" or "find".
func (r *Reader) report(op, file string, err error) {
	path := r.name + "/" + file
	if r.stream != nil {
		path = file // the stream's name
	}
	r.notify(&errtext.Error{Op: "unable to " + op, Path: path, Err: errtext.WithoutPath(err)})
}

// notify hands err, which does not end the stream, to OnError, or keeps
// it for Errors.
func (r *Reader) notify(err error) {
	if r.opts.OnError != nil {
		r.opts.OnError(err)
		return
	}
	r.errs = append(r.errs, err)
}

// Next returns the next line of the stream. At the end it returns io.EOF,
// unless following: then it waits for more. Lines stamped before Since
// are skipped; the first line after Until ends the stream.
func (r *Reader) Next() (Line, error) {
	l, err := r.read(false)
	r.lastLen = len(l.Bytes)
	return l, err
}

// read gives the next line, or with bulk the next run of lines of one
// file (see NextLines), whose Stamp is then the one carried in.
func (r *Reader) read(bulk bool) (Line, error) {
	if r.ended {
		return r.eof()
	}
	for {
		if r.src == nil {
			ok, err := r.nextFile()
			if err != nil {
				return Line{}, err
			}
			if !ok {
				if !r.opts.Follow {
					return r.eof()
				}
				if err := r.wait(); err != nil {
					return Line{}, err
				}
				continue
			}
		}
		s := r.src
		if l, took, ok := r.take(false, bulk); took {
			if ok {
				return r.give(l), nil
			}
			if r.ended {
				return r.eof()
			}
			continue
		}
		n, err := r.fill()
		if n > 0 {
			continue
		}
		if err != nil && err != io.EOF {
			op := "read"
			if s.comp != compPlain {
				op = "decompress"
			}
			r.report(op, s.name, err)
			// What was read stays read: the file counts as done.
			s.take(r.window(), true) // drop an unfinished piece
			r.finishSource()
			continue
		}
		// At the end of what the file holds now.
		if s.kind == kindCurrent && !s.rotated {
			if r.currentMoved() {
				s.rotated = true // read to its end once more: the writer is done with it
				continue
			}
			if r.opts.Follow {
				if err := r.wait(); err != nil {
					return Line{}, err
				}
				continue
			}
		}
		if l, took, ok := r.take(true, bulk); took {
			if ok {
				return r.give(l), nil
			}
			if r.ended {
				return r.eof()
			}
			continue
		}
		if s.kind == kindCurrent && !s.rotated {
			// The end, without following: current stays open so that a
			// Cursor taken now says where it ends.
			return r.eof()
		}
		r.finishSource()
	}
}

// give returns l, reporting first a gap that l is the first line after.
func (r *Reader) give(l Line) Line {
	if r.gap != nil {
		r.reportGap(l.Bytes)
	}
	return l
}

// eof ends the stream, reporting first a gap nothing came after.
func (r *Reader) eof() (Line, error) {
	r.ended = true
	if r.gap != nil {
		r.reportGap(nil)
	}
	return Line{}, io.EOF
}

// take takes the next line (or with bulk, the next block) from the
// buffer and applies the stamps and the time bounds to it. took says
// whether the buffer gave anything; ok whether it is given to the caller.
func (r *Reader) take(final, bulk bool) (l Line, took, ok bool) {
	s := r.src
	r.scan = nil // set below for a block of a scanned archive
	// Whole blocks are taken only at a line start (not where a file
	// continues a line the one before it ended without a newline) and once
	// Since is past: before that, lines are skipped one by one.
	if bulk && s.atLineStart && !r.midLine && (!r.opts.HasSince || r.sincePast) {
		b, took := s.takeBlock(r.window(), final)
		if !took {
			return Line{}, false, false
		}
		// Where b begins in s.m, the whole content (the window), before
		// acceptBlock cuts its end at Until.
		r.scan, r.scanOff = s.scan, s.start-len(b)
		l, ok = r.acceptBlock(b)
	} else {
		b, took := s.take(r.window(), final)
		if !took {
			return Line{}, false, false
		}
		before := r.stamp
		l, ok = r.accept(b)
		if bulk {
			l = Line{Bytes: l.Bytes, Stamp: before}
		}
	}
	if ok {
		r.midLine = l.Bytes[len(l.Bytes)-1] != '\n'
		if r.midLine && final && s.start == s.end && s.cutAtEnd() {
			l.Cut, r.midLine = true, false
		}
	}
	return l, true, ok
}

// cutAtEnd reports whether a line the file leaves unfinished at its end
// ends there: in a ".u" archive, the writer was killed mid-line, and the
// file after it begins with a line of its own.
func (s *source) cutAtEnd() bool {
	return s.kind == kindArchive && strings.HasSuffix(s.name, ".u")
}

// accept applies stamps and the time bounds to a line piece.
func (r *Reader) accept(b []byte) (Line, bool) {
	s := r.src
	l := Line{Bytes: b}
	if s.atLineStart && len(b) >= stampLen {
		if st, ok := tai64n.ParsePrefix(b); ok {
			r.stamp, l.Stamped = st, true
		}
	}
	s.atLineStart = b[len(b)-1] == '\n'
	l.Stamp = r.stamp
	if r.opts.HasUntil && r.opts.Until.Before(l.Stamp) {
		r.ended = true
		return Line{}, false
	}
	if r.opts.HasSince && !r.sincePast {
		if l.Stamp.Before(r.opts.Since) {
			return Line{}, false
		}
		r.sincePast = true
	}
	return l, true
}

// wait waits for a change in the directory (following only).
func (r *Reader) wait() error {
	if r.gap != nil {
		r.reportGap(nil) // nothing after it yet: say so now, not when lines come
	}
	if r.interrupted() {
		return ErrInterrupted
	}
	r.watch.wait()
	if r.interrupted() {
		return ErrInterrupted
	}
	return nil
}

// currentMoved reports whether "current" is no longer the file being read:
// the writer renamed it, and will not write to it again.
func (r *Reader) currentMoved() bool {
	id, err := lstatID(filepath.Join(r.dir, fileCurrent))
	return err != nil || id != r.src.id
}

// fill reads more of the current source into the buffer.
func (r *Reader) fill() (int, error) {
	return r.src.fill(r.buf)
}

// window is what the current source's start and end index: the Reader's
// buffer, or the source's mapping.
func (r *Reader) window() []byte {
	if r.src.m != nil {
		return r.src.m
	}
	return r.buf
}

// finishSource records the current source as read and closes it.
func (r *Reader) finishSource() {
	s := r.src
	r.src = nil
	r.lastFile = s.name
	if s.kind == kindStream {
		return // its file, if any, is closed by Close
	}
	if s.kind == kindArchive {
		copy(r.after[:], s.stamp)
		r.release(s)
		r.rememberArchive(s.id, s.f)
		return
	}
	rf := readFile{id: s.id, size: s.readOff, prefixN: s.prefixN, prefixH: s.prefixH, f: s.f}
	r.queue = append(r.queue, rf)
	if len(r.queue) > maxQueue {
		r.dropQueue(len(r.queue) - maxQueue)
	}
}

// dropQueue forgets the first n files of the queue.
func (r *Reader) dropQueue(n int) {
	for i := range n {
		r.queue[i].close()
	}
	r.queue = r.queue[n:]
}

// maxQueue bounds the files read but not yet seen as archives: a
// rotation in progress and a renamed current are at most two; more means
// files were pruned before the Reader saw their archives.
const maxQueue = 4

// rememberArchive keeps f, an archive read or recognised, open for a
// while: "previous" or "processed" may still be linked beside it, and
// holding it keeps its inode from being reused once it is pruned.
func (r *Reader) rememberArchive(id fileID, f *os.File) {
	slot := &r.recent[r.nrec%len(r.recent)]
	if slot.f != nil {
		slot.f.Close()
	}
	*slot = recentArchive{id, f}
	r.nrec++
}

func (r *Reader) isRecentArchive(id fileID) bool {
	for i := 0; i < min(r.nrec, len(r.recent)); i++ {
		if r.recent[i].id == id {
			return true
		}
	}
	return false
}

type recentArchive struct {
	id fileID
	f  *os.File
}

func (r *Reader) closeSource() {
	if r.src != nil {
		r.release(r.src)
		r.src.close()
		r.src = nil
	}
}

// release ends s's use of its mapping or decompressed content; a
// decompressed buffer is kept for an archive decompressed ahead.
func (r *Reader) release(s *source) {
	switch {
	case s.m == nil:
	case s.decoded:
		r.pre.spare = append(r.pre.spare, s.m[:0])
		s.m = nil
	default:
		r.unmapper.release(s.m)
		s.m = nil
	}
}
