package supervise

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/taikit/taikit/errtext"
)

// Defaults of a Supervisor's tunables.
const (
	// DefaultRestartDelay is daemontools' throttle: run is started at most
	// once a second, so a run that exits at once does not spin.
	DefaultRestartDelay = time.Second
	// DefaultCheckTimeout is how long check may take to first exit 0 after
	// a start before the service is marked "check failed".
	DefaultCheckTimeout = 60 * time.Second
	// DefaultFinishTimeout is how long finish may run before it is killed
	// (s6's default); run is not restarted while finish runs.
	DefaultFinishTimeout = 5 * time.Second
)

// checkRetryMin and checkRetryMax bound the pause between two runs of a
// check that did not succeed: short at first, so that a fast daemon is
// seen ready quickly, then at most a second, so that a slow one does not
// cost a process every few milliseconds.
const (
	checkRetryMin = 20 * time.Millisecond
	checkRetryMax = time.Second
)

// A Supervisor runs the service in one directory, as daemontools'
// supervise does; see the package documentation for the files it keeps.
type Supervisor struct {
	// Dir is the service directory; run, check and finish are started with
	// it as their working directory. The supervise command changes to the
	// directory first and uses ".", as daemontools does, so that renaming
	// the directory does not disturb it.
	Dir string
	// Name is the directory as the user named it, for messages.
	Name string
	// Files are the standard input, output and error given to run, check
	// and finish; nil means the null device, as with exec.Cmd (the
	// supervise command gives its own).
	Files []*os.File
	// Warnings receives "supervise: warning: ..." lines; nil drops them.
	Warnings io.Writer
	// Clock stamps the status record; nil means time.Now.
	Clock func() time.Time

	RestartDelay  time.Duration // 0 means DefaultRestartDelay
	CheckTimeout  time.Duration // 0 means DefaultCheckTimeout
	FinishTimeout time.Duration // 0 means DefaultFinishTimeout
	// BackoffUnit is how long one second of the backoff file lasts; 0
	// means a second. Tests shorten it.
	BackoffUnit time.Duration
	// ScanDir is the directory in which the services named in needs/ are
	// looked for: the scan directory. Empty means Dir's parent. The
	// supervise command sets it to the directory of its argument as it
	// was started (svscan starts it in the scan directory), so that a
	// service directory linked into the scan directory from elsewhere
	// finds its siblings there, not beside its real location.
	ScanDir string
}

type childExit struct {
	proc  *os.Process
	state *os.ProcessState
}

// state is what one Run owns; only its goroutine touches it.
type state struct {
	s       *Supervisor
	files   []*os.File
	warn    io.Writer
	now     func() time.Time
	exits   chan childExit
	waiters sync.WaitGroup

	status Status
	extra  Extra
	// What supervise/extra holds (nil before the first write), and a
	// buffer for the next record.
	extraWritten, extraBuf []byte
	want                   Want
	paused                 bool
	exit                   bool // 'x': return once run (and finish) are down

	run         *os.Process
	lastStart   time.Time
	startWanted bool // a start is due once the throttle allows
	autoStart   bool // ... and it is a restart after run exited
	startTimer  *time.Timer
	backoff     backoffState
	needs       needsState

	check         *os.Process
	checkDeadline time.Time
	checkRetry    time.Duration
	checkTimer    *time.Timer // next attempt, or the deadline of the current one
	finish        *os.Process
	finishTimer   *time.Timer
}

// Run supervises the service until it is told to exit ('x') and run is
// down, or until ctx is done: then run is brought down as by 'd' (TERM,
// CONT), Run waits for it and for check and finish, and returns nil.
//
// Run fails with an *errtext.Error when it cannot take the directory
// ("unable to acquire DIR/supervise/lock: temporary failure": another
// supervisor holds the lock), or the FIFOs cannot be made or opened.
func (s *Supervisor) Run(ctx context.Context) error {
	st := &state{s: s, files: s.Files, warn: s.Warnings, now: s.Clock, exits: make(chan childExit)}
	if st.files == nil {
		null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
		if err != nil {
			return &errtext.Error{Op: "unable to open", Path: os.DevNull, Err: err}
		}
		defer null.Close()
		st.files = []*os.File{null, null, null}
	}
	if st.warn == nil {
		st.warn = io.Discard
	}
	if st.now == nil {
		st.now = time.Now
	}
	st.want = WantUp
	if _, err := os.Stat(s.path("down")); err == nil {
		st.want = WantDown
	} else if !errors.Is(err, syscall.ENOENT) {
		return &errtext.Error{Op: "unable to stat", Path: s.Name + "/down", Err: err}
	}

	files, err := s.takeDirectory(st.warnf)
	if err != nil {
		return err
	}
	defer files.close()

	st.pidChange(0)
	st.announce()
	ok, err := s.openFIFO("supervise/ok", syscall.O_RDONLY, st.warnf)
	if err != nil {
		return &errtext.Error{Op: "unable to read", Path: s.Name + "/supervise/ok", Err: causeOf(err)}
	}
	files.ok = ok

	commands := make(chan byte)
	readerDone := make(chan struct{})
	stop := make(chan struct{})
	go readCommands(files.control, commands, stop, readerDone)
	defer func() {
		close(stop)
		files.control.Close() // ends the reader's Read
		<-readerDone
	}()

	if st.want == WantUp {
		st.tryStart(false)
	}
	st.loop(ctx, commands)
	st.announce()
	// A check killed on the way out still reports its exit: take those
	// reports until every waiter is done.
	waited := make(chan struct{})
	go func() { st.waiters.Wait(); close(waited) }()
	for {
		select {
		case <-st.exits:
		case <-waited:
			return nil
		}
	}
}

func (s *Supervisor) path(name string) string { return filepath.Join(s.Dir, name) }

// dirFiles are the descriptors a running supervisor holds.
type dirFiles struct {
	lock, control, controlWrite, ok *os.File
}

func (f *dirFiles) close() {
	for _, x := range []*os.File{f.ok, f.controlWrite, f.control, f.lock} {
		if x != nil {
			x.Close()
		}
	}
}

// takeDirectory makes supervise/, locks it and opens the control FIFO, in
// daemontools' order and with its messages.
func (s *Supervisor) takeDirectory(warnf func(string, ...any)) (*dirFiles, error) {
	sup := s.path("supervise")
	// Debian's supervise: supervise/ may be a symbolic link to a directory
	// elsewhere (on a tmpfs, say) that does not exist yet; make it.
	if target, err := os.Readlink(sup); err == nil {
		if !filepath.IsAbs(target) {
			target = filepath.Join(s.Dir, target)
		}
		if _, err := os.Stat(target); errors.Is(err, os.ErrNotExist) {
			os.Mkdir(target, 0o700)
		}
	}
	os.Mkdir(sup, 0o700)
	f := &dirFiles{}
	// Not through a link (which could make supervise create a file
	// wherever it leads), and only a regular file: a FIFO would hold
	// open(2) for ever.
	lock, err := openChecked(s.path("supervise/lock"), syscall.O_WRONLY|syscall.O_APPEND|syscall.O_CREAT|syscall.O_NOFOLLOW, 0o600, syscall.S_IFREG)
	if err == nil {
		f.lock = lock
		err = syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	}
	if err != nil {
		f.close()
		return nil, &errtext.Error{Op: "unable to acquire", Path: s.Name + "/supervise/lock", Err: causeOf(err)}
	}
	if f.control, err = s.openFIFO("supervise/control", syscall.O_RDONLY, warnf); err != nil {
		f.close()
		return nil, &errtext.Error{Op: "unable to read", Path: s.Name + "/supervise/control", Err: causeOf(err)}
	}
	// Holding a writer keeps reads from ever seeing end of file when svc
	// closes its end.
	if f.controlWrite, err = s.openFIFO("supervise/control", syscall.O_WRONLY, warnf); err != nil {
		f.close()
		return nil, &errtext.Error{Op: "unable to write", Path: s.Name + "/supervise/control", Err: causeOf(err)}
	}
	return f, nil
}

// openFIFO makes the FIFO name (mode 0600) if needed and opens it without
// blocking; the result is pollable, so reads wait in the runtime's poller
// rather than in a thread. Something else found at the name (a regular
// file, as "echo d > supervise/control" leaves before any supervisor ran,
// or a link to one) would give end of file at once and no command ever:
// it is replaced by a new FIFO, with a warning; the rename replaces a
// link, never its target. A link to a FIFO is used as it is. A directory
// cannot be replaced and is refused.
func (s *Supervisor) openFIFO(name string, mode int, warnf func(string, ...any)) (*os.File, error) {
	path := s.path(name)
	if err := syscall.Mkfifo(path, 0o600); err != nil && err != syscall.EEXIST {
		return nil, err
	}
	var st syscall.Stat_t
	err := syscall.Stat(path, &st)
	if err == syscall.ENOENT && syscall.Lstat(path, &st) == nil {
		err = nil // a dangling link
	}
	if err != nil {
		return nil, err
	}
	switch st.Mode & syscall.S_IFMT {
	case syscall.S_IFIFO:
	case syscall.S_IFDIR:
		return nil, &fileTypeError{st.Mode, aFIFO}
	default:
		if err := replaceWithFIFO(path); err != nil {
			return nil, err
		}
		warnf("%s/%s %s: replaced it with a new FIFO", s.Name, name, (&fileTypeError{st.Mode, aFIFO}).Error())
	}
	return openChecked(path, mode, 0, syscall.S_IFIFO)
}

// replaceWithFIFO puts a new FIFO at path in one step: made under a
// temporary name (whatever was there removed first: mkfifo never follows
// a link) and renamed over path.
func replaceWithFIFO(path string) error {
	tmp := path + ".new"
	if err := syscall.Unlink(tmp); err != nil && err != syscall.ENOENT {
		return err
	}
	if err := syscall.Mkfifo(tmp, 0o600); err != nil {
		return err
	}
	if err := syscall.Rename(tmp, path); err != nil {
		syscall.Unlink(tmp)
		return err
	}
	return nil
}

// readCommands passes each byte read from the control FIFO to out until
// the FIFO is closed or stop is closed.
func readCommands(control *os.File, out chan<- byte, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	buf := make([]byte, 64)
	for {
		n, err := control.Read(buf)
		for _, c := range buf[:n] {
			select {
			case out <- c:
			case <-stop:
				return
			}
		}
		if err != nil && n == 0 {
			return
		}
	}
}

func (st *state) warnf(format string, args ...any) {
	fmt.Fprintf(st.warn, "supervise: warning: "+format+"\n", args...)
}

// loop handles commands, exits and timers until it is time to return.
func (st *state) loop(ctx context.Context, commands <-chan byte) {
	done := ctx.Done()
	for {
		if st.exit && st.run == nil && st.finish == nil {
			st.stopCheck()
			return
		}
		select {
		case <-done:
			done = nil
			st.exit = true
			st.command(CmdDown)
		case c := <-commands:
			st.command(c)
		case e := <-st.exits:
			st.childExited(e)
		case <-timerC(st.startTimer):
			st.startTimer = nil
			if st.startWanted {
				st.tryStart(st.autoStart)
			}
		case <-timerC(st.checkTimer):
			st.checkTimer = nil
			st.checkTick()
		case <-timerC(st.finishTimer):
			st.finishTimer = nil
			if st.finish != nil {
				st.warnf("%s/finish did not exit within %v; killing it", st.s.Name, st.finishTimeout())
				st.finish.Signal(syscall.SIGKILL)
			}
		}
	}
}

// timerC is t's channel, or nil (never ready) when there is no timer.
func timerC(t *time.Timer) <-chan time.Time {
	if t == nil {
		return nil
	}
	return t.C
}

// command carries out one control byte exactly as daemontools 0.76 does;
// other bytes are ignored.
func (st *state) command(c byte) {
	switch c {
	case CmdDown:
		st.want = WantDown
		st.startWanted = false
		// A backoff wait or a give-up is about a service wanted up.
		st.stopTimer(&st.startTimer)
		st.backoff.restartAt, st.backoff.gaveUp = time.Time{}, false
		st.extra.Backoff, st.extra.GaveUp = 0, 0
		st.clearWaiting() // and so is a wait for what run needs
		if st.run != nil {
			st.run.Signal(syscall.SIGTERM)
			st.run.Signal(syscall.SIGCONT)
			st.paused = false
		}
		st.announce()
	case CmdUp:
		st.want = WantUp
		st.resetBackoff()
		st.announce()
		if st.run == nil {
			st.tryStart(false)
		}
	case CmdOnce:
		st.want = WantNone
		st.resetBackoff()
		st.announce()
		if st.run == nil {
			st.tryStart(false)
		}
	case CmdAlarm:
		st.signal(syscall.SIGALRM)
	case CmdHangup:
		st.signal(syscall.SIGHUP)
	case CmdKill:
		st.signal(syscall.SIGKILL)
		st.backoff.told = st.run != nil
	case CmdTerminate:
		st.signal(syscall.SIGTERM)
		st.backoff.told = st.run != nil
	case CmdInterrupt:
		st.signal(syscall.SIGINT)
		st.backoff.told = st.run != nil
	case CmdPause:
		st.paused = true
		st.announce()
		st.signal(syscall.SIGSTOP)
	case CmdContinue:
		st.paused = false
		st.announce()
		st.signal(syscall.SIGCONT)
	case CmdExit:
		st.exit = true
		st.startWanted = false
		st.stopTimer(&st.startTimer)
		st.clearWaiting()
		st.announce()
	}
}

func (st *state) signal(sig syscall.Signal) {
	if st.run != nil {
		st.run.Signal(sig)
	}
}

// tryStart starts run now, or when the throttle allows: at most once per
// RestartDelay. auto says the start is a restart after run exited.
func (st *state) tryStart(auto bool) {
	if st.exit || st.run != nil {
		return
	}
	st.startWanted = true
	st.autoStart = st.autoStart || auto
	if st.finish != nil {
		return // childExited starts run when finish is done
	}
	due := st.lastStart.Add(st.restartDelay())
	if st.backoff.restartAt.After(due) {
		due = st.backoff.restartAt
	}
	if wait := time.Until(due); wait > 0 {
		if st.startTimer == nil {
			st.startTimer = time.NewTimer(wait)
		}
		return
	}
	if st.removed() {
		st.warnf("%s has been removed; exiting", st.s.Name)
		st.exit = true
		st.startWanted = false
		return
	}
	// Last, once nothing else holds run back: what it needs must be up
	// and ready now, not when the throttle began.
	before := st.extra
	if met, wait := st.needsMet(); !met {
		if st.startTimer == nil {
			st.startTimer = time.NewTimer(wait)
		}
		if st.extra != before {
			st.announce()
		}
		return
	}
	st.startWanted = false
	st.lastStart = time.Now()
	st.backoff.restartAt, st.backoff.told = time.Time{}, false
	st.extra.Backoff = 0
	proc, err := st.start("./run")
	if err != nil {
		// daemontools' child says "fatal" as it dies; here supervise lives
		// on and tries again after the throttle.
		st.warnf("unable to start %s/run: %s", st.s.Name, errtext.Of(err))
		st.tryStart(auto)
		return
	}
	if st.autoStart {
		st.extra.Restarts++
	}
	st.autoStart = false
	st.run = proc
	st.paused = false
	st.extra.Readiness = NoCheck
	if st.executable("check") {
		st.extra.Readiness = Checking
		st.checkDeadline = time.Now().Add(st.checkTimeout())
		st.checkRetry = checkRetryMin
		st.checkTick()
	}
	st.pidChange(proc.Pid)
	st.announce()
}

// removed reports whether the service directory has been deleted, as
// happens when an administrator removes a service with its supervisor
// still running. daemontools then tries to start run every second
// forever; taikit's supervisor exits instead.
func (st *state) removed() bool {
	fi, err := os.Stat(st.s.Dir)
	if err != nil {
		return errors.Is(err, os.ErrNotExist)
	}
	sys, ok := fi.Sys().(*syscall.Stat_t)
	return ok && sys.Nlink == 0
}

func (st *state) executable(name string) bool {
	fi, err := os.Stat(st.s.path(name))
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// start starts one of the service's programs in the service directory and
// a goroutine that reports its exit.
func (st *state) start(argv0 string, args ...string) (*os.Process, error) {
	return st.startEnv(nil, argv0, args...)
}

// startEnv is start with env as the environment; nil means supervise's.
func (st *state) startEnv(env []string, argv0 string, args ...string) (*os.Process, error) {
	proc, err := os.StartProcess(argv0, append([]string{argv0}, args...), &os.ProcAttr{
		Dir:   st.s.Dir,
		Env:   env,
		Files: st.files,
	})
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, err
	}
	st.waiters.Add(1)
	go func() {
		defer st.waiters.Done()
		ps, err := proc.Wait()
		if err != nil {
			ps = nil
		}
		st.exits <- childExit{proc, ps}
	}()
	return proc, nil
}

// childExited handles the end of run, check or finish.
func (st *state) childExited(e childExit) {
	switch e.proc {
	case st.run:
		st.run = nil
		st.paused = false
		st.stopCheck()
		code, sig := exitOf(e.state)
		st.extra.Exited, st.extra.ExitCode, st.extra.Signal = true, code, sig
		st.extra.Readiness = NoCheck
		var env []string // finish's: supervise's own unless a backoff applies
		if st.want == WantUp {
			if next, ok := st.afterExit(time.Now()); ok {
				env = withVar(os.Environ(), "SUPERVISE_BACKOFF", next)
			}
		}
		st.pidChange(0)
		st.announce()
		if st.executable("finish") {
			proc, err := st.startEnv(env, "./finish", strconv.Itoa(code), strconv.Itoa(sig))
			if err != nil {
				st.warnf("unable to start %s/finish: %s", st.s.Name, errtext.Of(err))
			} else {
				st.finish = proc
				st.finishTimer = time.NewTimer(st.finishTimeout())
			}
		}
		if st.want == WantUp && !st.backoff.gaveUp {
			st.tryStart(true)
		}
	case st.check:
		st.check = nil
		if st.run == nil || st.extra.Readiness != Checking {
			return
		}
		if e.state != nil && e.state.Success() {
			st.stopTimer(&st.checkTimer)
			st.extra.Readiness = Ready
			st.extra.ReadyWhen = readyLabel(st.now())
			st.announce()
			return
		}
		st.stopTimer(&st.checkTimer)
		if wait := time.Until(st.checkDeadline); wait > 0 {
			st.checkTimer = time.NewTimer(min(st.checkRetry, wait))
			st.checkRetry = min(2*st.checkRetry, checkRetryMax)
		} else {
			st.checkFailed()
		}
	case st.finish:
		st.finish = nil
		st.stopTimer(&st.finishTimer)
		if st.startWanted {
			st.tryStart(st.autoStart)
		}
	}
}

// checkTick starts the next run of check, or, when its time is up, kills
// a check that still runs and marks the service "check failed".
func (st *state) checkTick() {
	if st.run == nil || st.extra.Readiness != Checking {
		return
	}
	if !time.Now().Before(st.checkDeadline) {
		if st.check != nil {
			st.check.Signal(syscall.SIGKILL)
			st.check = nil
		}
		st.checkFailed()
		return
	}
	if st.check != nil {
		return
	}
	proc, err := st.start("./check")
	if err != nil {
		st.warnf("unable to start %s/check: %s", st.s.Name, errtext.Of(err))
		st.checkTimer = time.NewTimer(min(checkRetryMax, time.Until(st.checkDeadline)))
		return
	}
	st.check = proc
	// Wake at the deadline to kill a check that hangs.
	st.checkTimer = time.NewTimer(time.Until(st.checkDeadline))
}

func (st *state) checkFailed() {
	st.extra.Readiness = CheckFailed
	st.warnf("%s/check did not succeed within %v", st.s.Name, st.checkTimeout())
	st.announce()
}

// stopCheck kills a running check; its exit is then ignored.
func (st *state) stopCheck() {
	st.stopTimer(&st.checkTimer)
	if st.check != nil {
		st.check.Signal(syscall.SIGKILL)
		st.check = nil
	}
}

func (st *state) stopTimer(t **time.Timer) {
	if *t != nil {
		(*t).Stop()
		*t = nil
	}
}

// exitOf returns run's exit as runit's finish gets it: the exit code and
// 0, or -1 and the signal that ended it.
func exitOf(ps *os.ProcessState) (code, sig int) {
	if ps == nil {
		return -1, 0
	}
	ws, ok := ps.Sys().(syscall.WaitStatus)
	if ok && ws.Signaled() {
		return -1, int(ws.Signal())
	}
	return ps.ExitCode(), 0
}

// pidChange records that run started (pid) or stopped (0) now.
func (st *state) pidChange(pid int) {
	st.status.When = readyLabel(st.now())
	st.status.PID = pid
}

// announce publishes the state: supervise/extra, then supervise/status,
// each written to a new file and renamed over the old.
func (st *state) announce() {
	st.status.Paused = st.run != nil && st.paused
	st.status.Want = st.want
	st.extra.Status = st.status.When
	// svc -p, -c, -o and a want change leave extra as it was: rewriting it
	// anyway halved the rate at which a burst of commands is worked off.
	if e := st.extra.Append(st.extraBuf[:0]); !bytes.Equal(e, st.extraWritten) {
		if st.replace("supervise/extra", e) {
			st.extraBuf, st.extraWritten = st.extraWritten[:0], e
		}
	}
	st.replace("supervise/status", st.status.Append(nil))
}

// replace writes b to name.new and renames it to name, warning as
// daemontools does when it cannot, and reports whether it could. Nothing
// is written through a symbolic link or into a file supervise did not
// create: whatever is at name.new (a leftover, or a link planted there) is
// unlinked, which removes a link and not its target, and name.new is then
// created exclusively without following a link.
func (st *state) replace(name string, b []byte) bool {
	tmp := name + ".new"
	if err := os.Remove(st.s.path(tmp)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		st.warnf("unable to remove %s/%s: %s", st.s.Name, tmp, errtext.Of(err))
		return false
	}
	f, err := os.OpenFile(st.s.path(tmp), os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0o644)
	if err == nil {
		if fi, serr := f.Stat(); serr != nil || !fi.Mode().IsRegular() {
			f.Close()
			err = serr
			if err == nil {
				err = syscall.EEXIST
			}
		}
	}
	if err != nil {
		st.warnf("unable to open %s/%s: %s", st.s.Name, tmp, errtext.Of(err))
		return false
	}
	_, err = f.Write(b)
	f.Close()
	if err != nil {
		st.warnf("unable to write %s/%s: %s", st.s.Name, tmp, errtext.Of(err))
		return false
	}
	if err := os.Rename(st.s.path(tmp), st.s.path(name)); err != nil {
		st.warnf("unable to rename %s/%s to %s: %s", st.s.Name, tmp, filepath.Base(name), errtext.Of(err))
		return false
	}
	return true
}

func (s *Supervisor) restartDelay() time.Duration {
	return orDefault(s.RestartDelay, DefaultRestartDelay)
}
func (st *state) restartDelay() time.Duration { return st.s.restartDelay() }
func (st *state) checkTimeout() time.Duration {
	return orDefault(st.s.CheckTimeout, DefaultCheckTimeout)
}
func (st *state) finishTimeout() time.Duration {
	return orDefault(st.s.FinishTimeout, DefaultFinishTimeout)
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// afterExit applies the backoff file, if there is one, to an exit of run
// at now while it is wanted up: it sets when run may start again, or that
// the supervisor gives up, and returns what finish is told in
// SUPERVISE_BACKOFF (the seconds of the wait, or "giveup"). ok is false
// without a usable backoff file: then daemontools' rule applies, and
// finish's environment is supervise's own.
func (st *state) afterExit(now time.Time) (next string, ok bool) {
	b := &st.backoff
	bo, ok := st.readBackoff()
	if !ok {
		b.reset()
		return "", false
	}
	if b.told {
		// svc -t, -k or -i: the administrator ended run (svctl restart
		// does so), which says nothing of how well it runs.
		return "0", true
	}
	unit := orDefault(st.s.BackoffUnit, time.Second)
	if now.Sub(st.lastStart) >= time.Duration(bo.Max)*unit {
		b.reset()
		return "0", true
	}
	b.fast++
	if bo.GiveUp > 0 && b.fast >= bo.GiveUp {
		b.gaveUp = true
		st.extra.GaveUp = b.fast
		st.warnf("%s/run exited %d times in a row sooner than %d seconds after it started; not starting it again until svc -u", st.s.Name, b.fast, bo.Max)
		return "giveup", true
	}
	// The file may have changed since the last wait: keep within it.
	wait := min(max(b.next, bo.Min), bo.Max)
	b.next = min(2*wait, bo.Max)
	b.restartAt = now.Add(time.Duration(wait) * unit)
	st.extra.Backoff = wait
	return strconv.Itoa(wait), true
}

// readBackoff reads the service's backoff file. A missing file is the
// daemontools rule, silently; one that cannot be read or parsed is the
// daemontools rule too, with a warning naming the file and what is wrong,
// said once until the trouble changes, so a crash loop does not repeat it.
func (st *state) readBackoff() (Backoff, bool) {
	f, err := openRegular(st.s.path("backoff"))
	if errors.Is(err, fs.ErrNotExist) {
		st.backoff.warned = ""
		return Backoff{}, false
	}
	var bo Backoff
	if err == nil {
		bo, err = readBackoff(f)
		f.Close()
	}
	if err != nil {
		var msg string
		if be := (*BackoffError)(nil); errors.As(err, &be) {
			msg = fmt.Sprintf("%s/backoff %s; restarting at most once a second", st.s.Name, be)
		} else {
			msg = fmt.Sprintf("unable to read %s/backoff: %s; restarting at most once a second", st.s.Name, errtext.Of(causeOf(err)))
		}
		if msg != st.backoff.warned {
			st.warnf("%s", msg)
			st.backoff.warned = msg
		}
		return Backoff{}, false
	}
	st.backoff.warned = ""
	return bo, true
}

// resetBackoff forgets fast exits, a wait and a give-up: svc -u and svc -o
// are the administrator saying "start it now".
func (st *state) resetBackoff() {
	if !st.backoff.restartAt.IsZero() {
		st.stopTimer(&st.startTimer)
	}
	st.backoff.reset()
	st.extra.Backoff, st.extra.GaveUp = 0, 0
}

// withVar returns env with name set to value, any inherited setting
// dropped: with two, the C library's getenv takes the first, the stale one.
func withVar(env []string, name, value string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k != name {
			out = append(out, kv)
		}
	}
	return append(out, name+"="+value)
}
