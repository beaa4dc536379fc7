package multilog

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/taikit/taikit/errtext"
	"github.com/taikit/taikit/rotate"
	"github.com/taikit/taikit/tai64n"
	"github.com/taikit/taikit/tzlocal"
)

// readSize is how much is taken from the input at a time: large, so that a
// busy pipe or a file costs few system calls; one clock reading stamps it.
// From a pipe it is taken without being consumed (pipeInput), so its size
// costs nothing on a kill.
const readSize = 1 << 20

// Config is what Run needs from the process around it.
type Config struct {
	Args   []string
	Stdin  *os.File // read with read(2), never made non-blocking (it is shared with svscan)
	Stdout io.Writer
	Stderr io.Writer
	// Signals delivers SIGTERM and SIGALRM (the caller calls signal.Notify).
	Signals <-chan os.Signal
	Clock   func() time.Time // time.Now by default
	Zone    tai64n.Zone      // for T stamps: tzlocal.Local() by default
	Pause   time.Duration    // before retrying a failed write; 5 s by default
}

// ErrNotLogged is Run's error when some input could not be logged, or a
// status file not brought up to date; a warning has said why.
var ErrNotLogged = errors.New("multilog: input not logged")

// Run runs multilog: it opens the script's status files and directories,
// reads standard input to its end (or to a SIGTERM) through the script, and
// closes everything as a clean stop, returning nil.
//
// A d<fd> descriptor that was not given to the process open for writing
// stops Run before anything is opened. A status file or directory that
// cannot be opened (or, in a directory, is not a regular file where one
// is expected) stops Run before any input is read, with an error worded
// as multilog's fatal messages (an *errtext.Error: "unable to lock
// directory ./main: temporary failure").
// Input that could not be logged gives ErrNotLogged once the input is
// read. The multilog command prints the first as "multilog: fatal: ..."
// and exits 111 after either.
func Run(c Config) error {
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.Pause == 0 {
		c.Pause = rotate.DefaultPause
	}
	r := &runner{c: c, term: make(chan struct{})}
	return r.run()
}

type runner struct {
	c        Config
	plan     *Plan
	dirs     []*rotate.Dir
	outs     []*skipWriter // the engine's directories
	trackers []*tracker    // each directory's record, when the input is a pipe
	// scriptSum is planSum of the plan, which every record is made with
	// and a saved one must match: computed once.
	scriptSum uint32
	saved     []record // what each record held at start
	savedOK   []bool
	peek      [64]byte // what follows a batch, when its read ended with it
	engine    *Engine
	stage     *stage        // writes the directories while the engine takes the next batch
	warnMu    sync.Mutex    // rotate's jobs warn from their goroutines too
	term      chan struct{} // closed on SIGTERM: ends every pause
	termOnce  sync.Once
	lost      bool // some input could not be logged
}

func (r *runner) warn(text string) {
	r.warnMu.Lock()
	defer r.warnMu.Unlock()
	fmt.Fprintf(r.c.Stderr, "multilog: warning: %s\n", text)
}

// fatal closes what start-up opened and returns its failure.
func (r *runner) fatal(err error) error {
	r.closeDirs()
	return err
}

// retry runs op until it succeeds, warning and pausing after each failure;
// SIGTERM ends the pauses.
func (r *runner) retry(what string, op func() error) error {
	for {
		err := op()
		if err == nil {
			return nil
		}
		select {
		case <-r.term:
			r.warn(what + ": " + errtext.Of(err))
			return err
		default:
		}
		r.warn(what + ", pausing: " + errtext.Of(err))
		t := time.NewTimer(r.c.Pause)
		select {
		case <-t.C:
		case <-r.term:
			t.Stop()
		}
	}
}

func (r *runner) run() error {
	r.plan = Parse(r.c.Args)
	for _, w := range r.plan.Warnings {
		r.warn(w)
	}
	// Before anything is opened: a descriptor that was not inherited would
	// be given to one of multilog's own files, or be the runtime's poller,
	// and the readiness newline and close would land there.
	if err := r.checkReadyFD(); err != nil {
		return err
	}
	// Status files first, then directories, each in script order, as
	// multilog does: a failure stops before any input is read.
	var status []StatusWriter
	for _, a := range r.plan.Actions {
		if a.Kind == Status {
			s, err := openStatus(a.Path)
			if err != nil {
				return r.fatal(err)
			}
			s.retry = r.retry
			status = append(status, s)
		}
	}
	var outs []io.Writer
	var staged []*stagedDir
	piped := isPipe(int(r.c.Stdin.Fd()))
	for _, a := range r.plan.Actions {
		if a.Kind != Dir {
			continue
		}
		o := a.Options
		o.Clock, o.Pause, o.Interrupt, o.Stderr = r.c.Clock, r.c.Pause, r.term, r.c.Stderr
		o.Warn = r.warn
		o.RawWrites = rawSyscalls()
		var t *tracker
		if piped {
			t = &tracker{dir: a.Path}
			o.Track = t.track
		}
		d, err := rotate.Open(a.Path, o)
		if err != nil {
			return r.fatal(err)
		}
		r.dirs = append(r.dirs, d)
		sd := &stagedDir{}
		r.outs = append(r.outs, &skipWriter{w: d})
		staged = append(staged, sd)
		outs = append(outs, sd)
		if t != nil {
			rec, ok, err := t.open()
			switch {
			case errors.Is(err, errForeignRecord):
				r.warn(fmt.Sprintf("%s/%s: %s", a.Path, fileUnconsumed, err))
			case err != nil:
				r.warn(fmt.Sprintf("unable to use %s/%s (a kill may then make the next multilog write some lines twice): %s",
					a.Path, fileUnconsumed, errtext.Of(err)))
			}
			r.trackers = append(r.trackers, t)
			r.saved, r.savedOK = append(r.saved, rec), append(r.savedOK, ok)
		}
	}
	if len(r.trackers) > 0 {
		r.scriptSum = planSum(r.plan)
	}
	defer func() { // after a failure of start-up
		for _, t := range r.trackers {
			t.close()
		}
	}()
	zone := r.c.Zone
	if zone == nil && r.plan.Stamp == StampLocal {
		zone = tzlocal.Local()
	}
	r.engine = NewEngine(r.plan, Sinks{Dirs: outs, Status: status, Stdout: r.c.Stdout, Stderr: r.c.Stderr,
		Clock: r.c.Clock, Zone: zone})
	// See stage.go for why a pipe on two processors has no writer goroutine.
	r.stage = r.startStage(staged, piped && runtime.GOMAXPROCS(0) < 3)
	r.ready()
	r.read()
	if err := r.engine.Finish(); err != nil {
		r.lose(err)
	}
	r.stage.flush()
	r.stage.stop()
	for _, s := range status {
		s.(*statusFile).Close()
	}
	// A clean stop: every batch taken from the pipe was consumed (or the
	// last could not be, and its record stays for the next multilog). The
	// records go, under the lock, so that the directories are as
	// daemontools leaves them.
	for _, t := range r.trackers {
		if t.rec.state != recWriting {
			t.remove()
		}
	}
	if r.closeDirs() != nil {
		r.lost = true
	}
	if r.lost {
		return ErrNotLogged
	}
	return nil
}

// errReadyFD is the cause of a d<fd> word naming a descriptor that
// multilog was not given open for writing.
var errReadyFD = errors.New("not open for writing: start multilog with it open for writing, or leave out the d word")

// errReadyFDKind is the cause of a d<fd> word naming a descriptor that is
// not something a readiness newline can go to: a directory, or an
// inherited poller or event descriptor.
var errReadyFDKind = errors.New("not a pipe, socket, terminal or file")

// errReadyFDStdin is the cause of a d<fd> word naming the input.
var errReadyFDStdin = errors.New("it is multilog's input")

// checkReadyFD makes sure the d<fd> descriptor is one multilog was given
// to write to, before it opens anything: since it is then open, none of
// multilog's own opens can be given its number either. The descriptors
// the Go runtime may hold by then are read-only files (the cgroup CPU
// limits) or anonymous inodes (the poller), which both checks refuse.
func (r *runner) checkReadyFD() error {
	fd := r.plan.ReadyFD
	if fd < 0 {
		return nil
	}
	fail := func(err error) error {
		return &errtext.Error{Op: "unable to notify readiness on descriptor", Path: strconv.Itoa(fd), Err: err}
	}
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil || fl&unix.O_ACCMODE == unix.O_RDONLY {
		return fail(errReadyFD)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fail(err)
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFIFO, unix.S_IFSOCK, unix.S_IFCHR, unix.S_IFREG:
	default:
		return fail(errReadyFDKind)
	}
	if r.c.Stdin != nil && int(r.c.Stdin.Fd()) == fd {
		return fail(errReadyFDStdin)
	}
	return nil
}

// ready tells a supervisor that the logger runs (s6-log's -d): a newline
// on the descriptor the script names, which is then closed. The write and
// close are plain system calls: an *os.File would hand a non-blocking
// descriptor to the runtime's poller.
func (r *runner) ready() {
	fd := r.plan.ReadyFD
	if fd < 0 {
		return
	}
	var err error
	for {
		if _, err = unix.Write(fd, []byte{'\n'}); err != unix.EINTR {
			break
		}
	}
	if err != nil {
		r.warn(fmt.Sprintf("unable to notify readiness on descriptor %d: %s", fd, errtext.Of(err)))
	}
	unix.Close(fd)
}

// lose records that input could not be logged (or a status file not
// brought up to date), saying so once.
func (r *runner) lose(err error) {
	if r.lost {
		return
	}
	r.lost = true
	var se *statusError
	switch {
	case errors.As(err, &se):
		r.warn("stopping on SIGTERM with " + se.path + " not up to date (every line is in the directories): " + errtext.Of(se.err))
	case errors.Is(err, rotate.ErrInterrupted):
		r.warn("stopping on SIGTERM while a directory still refused data: the rest of this input is not logged")
	default:
		r.warn("input not logged: " + errtext.Of(err))
	}
}

func (r *runner) closeDirs() error {
	var first error
	for _, d := range r.dirs {
		if err := d.Close(); err != nil && first == nil {
			first = err
		}
	}
	r.dirs = nil
	return first
}

// read is the input loop. Signals are acted on between reads, and a
// signal also ends the wait for input at once (the wait is a select on
// stdin and a pipe the signal goroutine writes to), so neither TERM nor
// ALRM waits for the next line — multilog's §11.4 latency bug.
//
// Standard input that is a pipe is peeked, logged, then consumed
// (pipeInput): a kill at any moment leaves what is not in every directory
// in the pipe. Other input (a file, a terminal, a socket) is read as
// daemontools reads it.
func (r *runner) read() {
	wake, wakeW, err := os.Pipe()
	if err != nil {
		r.lose(err)
		return
	}
	defer wake.Close()
	defer wakeW.Close()
	var mu sync.Mutex
	var alrm, term bool
	done := make(chan struct{})
	defer close(done)
	go func() { // owned by read: ends when read returns
		for {
			select {
			case <-done:
				return
			case s := <-r.c.Signals:
				mu.Lock()
				switch s {
				case syscall.SIGTERM:
					term = true
					// Pauses (a full disk, a failing processor) end now.
					r.termOnce.Do(func() { close(r.term) })
				case syscall.SIGALRM:
					alrm = true
				}
				mu.Unlock()
				wakeW.Write([]byte{0})
			}
		}
	}()

	buf := make([]byte, readSize)
	// Fd once: it is a fcntl each time.
	in, wakeFD := int(r.c.Stdin.Fd()), int(wake.Fd())
	pipe := newPipeInput(in)
	if pipe != nil {
		defer pipe.close()
		if !r.resume(pipe, buf) {
			return
		}
	}
	var ahead *readAhead
	if pipe == nil && isRegular(in) {
		ahead = startReadAhead(in, rawSyscalls(), buf, make([]byte, readSize))
		defer func() {
			if ahead != nil {
				ahead.stop()
			}
		}()
	}
	for {
		mu.Lock()
		doAlrm, doTerm := alrm, term
		alrm = false
		mu.Unlock()
		if doAlrm {
			r.stage.wait() // the writer owns the directories while it writes
			for _, d := range r.dirs {
				if err := d.Rotate(); err != nil {
					r.lose(err)
				}
			}
		}
		if doTerm {
			if !r.stage.wait() {
				return
			}
			if ahead != nil {
				left := ahead.stop()
				ahead = nil
				if !r.finishLineFrom(left) {
					return
				}
			}
			if !r.engine.AtLineStart() {
				if pipe != nil {
					r.finishLinePiped(pipe, buf)
				} else {
					r.finishLine(in)
				}
			}
			return
		}
		if ahead != nil {
			c := ahead.next()
			if c.n > 0 {
				r.process(c.buf[:c.n], c.lines)
			}
			ahead.release(c.buf) // the engine has copied what it needs
			if c.n <= 0 {
				r.stage.wait()
				return
			}
			continue
		}
		if !waitReadable(in, wakeFD) {
			drain(wake)
			continue
		}
		var n int
		var err error
		if pipe != nil {
			n, err = pipe.next(buf[:pipe.batchSize])
			took := n // before n is cut back to a line end
			if errors.Is(err, errNothingNew) {
				// Everything in the pipe is in the batch being written.
				if !r.stage.wait() {
					return
				}
				continue
			}
			if n > 0 {
				// A batch ends at a line end where it can, so that the
				// next one starts a line: only such a batch can be
				// repeated after a kill with the same output.
				if nl := bytes.LastIndexByte(buf[:n], '\n'); nl >= 0 {
					n = nl + 1
				}
				// Cut where the output would outgrow a job: each piece is
				// a batch of its own, with its record and its consume.
				now := r.c.Clock()
				for at := 0; at < n; {
					k := r.engine.cut(buf[at:n], -1)
					// What follows the piece in the pipe, as far as this
					// read saw: the next piece, or the part of a line the
					// read ended in.
					if !r.pipeBatch(pipe, buf[at:at+k], buf[at+k:took], now, nil) {
						return
					}
					at += k
				}
			}
		} else {
			n, err = syscall.Read(in, buf)
			if n > 0 {
				r.process(buf[:n], -1)
			}
		}
		if errors.Is(err, syscall.EINTR) || errors.Is(err, syscall.EAGAIN) {
			continue
		}
		if n <= 0 {
			r.stage.wait()
			if pipe != nil && err != nil {
				// Nothing it has not logged has left the pipe: say why
				// multilog stops before its end.
				r.warn("unable to read standard input: " + errtext.Of(err) + "; stopping, and leaving the rest in the pipe for the next multilog")
			}
			return // end of input; a read error counts as one, as in multilog
		}
	}
}

// pipeBatch logs a batch taken from the pipe with stamp now, and has it
// consumed from the pipe once it is written: the engine runs here, the
// rest in the writer (stage), while the next batch is taken. Around the
// writing each directory's record says what the batch is and how much of
// its output the directory has (had gives what a directory has already: a
// repeated batch), so that a multilog killed in between is followed by one
// that writes each directory only what it lacks. next is what follows the
// batch in the pipe, as far as it is known. It reports whether the input
// can go on: false when the batch before could not be consumed.
func (r *runner) pipeBatch(p *pipeInput, batch, next []byte, now time.Time, had []int64) bool {
	// The output depends only on the batch and now, and, for a batch
	// continuing a line, on that line's selection, which a fresh engine
	// knows only when it does not depend on the line.
	var rec record
	if len(r.trackers) > 0 {
		state, flags := uint32(recWriting), uint32(0)
		if !r.engine.AtLineStart() {
			state, flags = recNone, startsMid
			if r.engine.Continuable() {
				state = recWriting
			}
		}
		if batch[len(batch)-1] != '\n' && r.engine.Continuable() {
			flags |= endsMid
		}
		if len(next) == 0 {
			// The read ended with the batch: whatever came since.
			next = p.peekAfter(len(batch), r.peek[:])
		}
		if beginsOtherwise(next, batch) {
			flags |= nextDiffers
		}
		rec = record{pipeDev: p.dev, pipeIno: p.ino, script: r.scriptSum, state: state, flags: flags,
			length: uint64(len(batch)), sum: crc32.Checksum(batch, castagnoli), stamp: now.UnixNano()}
	}
	if err := r.engine.ProcessAt(batch, now); err != nil {
		r.lose(err)
	}
	p.hold(len(batch))
	return r.stage.submit(p, len(batch), rec, had)
}

// beginsOtherwise reports whether next, the bytes known to follow batch in
// the pipe, rule out that the bytes after batch are the same as batch:
// there are some, and they do not begin as batch does.
func beginsOtherwise(next, batch []byte) bool {
	m := min(len(next), len(batch))
	return m > 0 && !bytes.Equal(next[:m], batch[:m])
}

// resume takes up where a killed multilog left the pipe, as its records
// say: it finishes the batch the killed one was writing, if the pipe still
// holds it — each directory gets only the output it lacks, and the batch
// is consumed — and continues the line it was in, if any. It reports
// whether the input can go on.
func (r *runner) resume(p *pipeInput, buf []byte) bool {
	var want *record
	for i := range r.saved {
		s := &r.saved[i]
		if r.savedOK[i] && s.state != recNone && s.pipeDev == p.dev && s.pipeIno == p.ino && s.script == r.scriptSum {
			want = s
			break
		}
	}
	if want == nil {
		return true
	}
	state := want.state
	for i := range r.saved {
		if s := &r.saved[i]; r.savedOK[i] && s.state == recWriting && s.sameBatch(want) {
			state = recWriting // a directory was still being written: nothing was consumed
		}
	}
	if (state == recWriting || state == recWritten) && want.length > 0 && want.length <= uint64(len(buf)) {
		// The batch, and as much again of what follows it where buf has room.
		n, err := p.next(buf[:min(uint64(len(buf)), 2*want.length)])
		if err != nil && !errors.Is(err, syscall.EAGAIN) {
			r.lose(err)
			return false
		}
		l := int(want.length)
		if n >= l && crc32.Checksum(buf[:l], castagnoli) == want.sum {
			// With every directory written, the batch may have been
			// consumed already and the head be the next one, with the same
			// bytes: only a record saying the next bytes began otherwise
			// rules that out. If not, the head is logged as new input
			// rather than consumed unwritten.
			if state != recWritten || want.flags&nextDiffers != 0 {
				return r.repeat(p, buf[:l], buf[l:n], want)
			}
			r.warn(fmt.Sprintf("the pipe begins with the %d bytes a killed multilog had written to every directory, and a pipe does not say "+
				"whether it had removed them (the bytes after them were not known to differ): they are logged as new input, and may now be in the log twice; none is lost", l))
		}
		// Otherwise the batch was consumed, and the record not marked so
		// in time: the head is new input.
	}
	if want.flags&endsMid != 0 {
		r.engine.ContinueLine()
	}
	return true
}

// repeat writes again the batch want describes, each directory less what
// it has, and consumes it; next is what follows it in the pipe, as far as
// it is known.
func (r *runner) repeat(p *pipeInput, batch, next []byte, want *record) bool {
	if want.flags&startsMid != 0 && !r.engine.ContinueLine() {
		return true
	}
	had := make([]int64, len(r.trackers))
	for i, t := range r.trackers {
		s := r.saved[i]
		if r.savedOK[i] && (s.state == recWriting || s.state == recWritten) && s.script == r.scriptSum && s.sameBatch(want) {
			had[i] = alreadyThere(t.dir, s)
		}
	}
	return r.pipeBatch(p, batch, next, time.Unix(0, want.stamp), had) && r.stage.wait()
}

// finishLinePiped is finishLine for a pipe: it takes what the pipe holds,
// logs it up to the first newline and consumes exactly that, leaving the
// rest unread for the next reader, and waits for more while no newline
// came.
func (r *runner) finishLinePiped(p *pipeInput, buf []byte) {
	for {
		n, err := p.next(buf)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if errors.Is(err, syscall.EAGAIN) {
			waitReadable(p.in, -1)
			continue
		}
		if n <= 0 {
			return
		}
		m := n
		nl := bytes.IndexByte(buf[:n], '\n')
		if nl >= 0 {
			m = nl + 1
		}
		if !r.processNow(buf[:m], r.c.Clock()) {
			return
		}
		if err := p.consume(m); err != nil {
			r.lose(err)
			return
		}
		if nl >= 0 {
			return
		}
	}
}

// finishLineFrom finishes the line in progress after a SIGTERM from
// chunks read ahead of the engine, up to its end and no further; it
// reports whether the input may still hold the rest of the line.
func (r *runner) finishLineFrom(chunks []readChunk) bool {
	for _, c := range chunks {
		if r.engine.AtLineStart() {
			return true
		}
		if c.n <= 0 {
			return false // the end of the input: Finish ends the line
		}
		m := c.n
		if nl := bytes.IndexByte(c.buf[:c.n], '\n'); nl >= 0 {
			m = nl + 1
		}
		r.processNow(c.buf[:m], r.c.Clock())
	}
	return true
}

// finishLine reads one byte at a time up to the end of the line in
// progress after a SIGTERM, and no further: the rest stays in the pipe for
// the next reader.
func (r *runner) finishLine(in int) {
	var b [1]byte
	line := make([]byte, 0, 4096)
	for {
		n, err := syscall.Read(in, b[:])
		if errors.Is(err, syscall.EINTR) || errors.Is(err, syscall.EAGAIN) {
			if errors.Is(err, syscall.EAGAIN) {
				waitReadable(in, -1)
			}
			continue
		}
		if n <= 0 {
			break
		}
		line = append(line, b[0])
		if b[0] == '\n' || len(line) == cap(line) {
			r.processNow(line, r.c.Clock())
			line = line[:0]
			if b[0] == '\n' {
				return
			}
		}
	}
	if len(line) > 0 {
		r.processNow(line, r.c.Clock())
	}
}

// waitReadable waits until fd can be read or wake (if ≥ 0) has something;
// it reports whether fd is the one that woke it.
func waitReadable(fd, wake int) bool {
	for {
		var set syscall.FdSet
		set.Bits[fd/64] |= 1 << (uint(fd) % 64)
		top := fd
		if wake >= 0 {
			set.Bits[wake/64] |= 1 << (uint(wake) % 64)
			top = max(top, wake)
		}
		_, err := syscall.Select(top+1, &set, nil, nil, nil)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			return true // let the read report it
		}
		return set.Bits[fd/64]&(1<<(uint(fd)%64)) != 0
	}
}

func drain(f *os.File) {
	var b [64]byte
	syscall.Read(int(f.Fd()), b[:])
}
