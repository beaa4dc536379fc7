// Package scan is the engine of svscan: it watches a directory of service
// directories and keeps one supervise process running for each of them, and
// a second one for its log/ subdirectory, joined by a pipe that the scanner
// holds open (both ends) for as long as it tracks the service, so that no
// line already written is lost when either side restarts.
//
// A Scanner does what daemontools 0.76's svscan does at each pass: reap the
// supervise processes that exited, read the directory, start a supervise
// for every subdirectory whose name does not begin with a dot and that has
// none running, and forget services whose directory is gone once their
// supervise processes have exited. Services are known by device and inode,
// not by name, so a renamed or doubly linked directory is supervised once.
package scan

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/taikit/taikit/errtext"
)

// DefaultPath is where supervise is looked for when $PATH is not set, as
// daemontools' pathexec does.
const DefaultPath = "/bin:/usr/bin"

// DefaultMaxServices is daemontools' SERVICES: how many services one
// scanner tracks at most.
const DefaultMaxServices = 1000

// DefaultInterval is the time between two passes, as in daemontools.
const DefaultInterval = 5 * time.Second

// Scanner supervises the services of one directory. Create it with New,
// change its fields if needed before the first Scan, and use it from one
// goroutine.
type Scanner struct {
	// Dir is the scan directory. Names of services are relative to it and
	// supervise processes start with their working directory in it (for a
	// log/ service: in the service directory), as svscan's do.
	Dir string
	// Program is the supervise program to run, looked up in Path unless it
	// contains a slash.
	Program string
	// Path is searched for Program as daemontools' pathexec searches
	// $PATH: in order, an empty element meaning the root directory, a
	// relative one being relative to the new process's working directory.
	Path string
	// Env is the supervise processes' environment.
	Env []string
	// Stdin, Stdout and Stderr are given to the supervise processes, except
	// that a service with a log/ directory writes to its log pipe and its
	// log service reads from it. Nil means the null device, as with
	// exec.Cmd (the svscan command gives its own).
	Stdin, Stdout, Stderr *os.File
	// MaxServices bounds how many services are tracked at once; a service
	// beyond it gets a warning at each pass instead of a supervise.
	MaxServices int
	// ReapAll makes Scan reap every exited child of this process, not only
	// its supervise processes: right for svscan, which may be process 1 of
	// a container and inherit orphans; wrong in a process that waits for
	// other children of its own.
	ReapAll bool
	// Warn receives the problems of a pass, each an *errtext.Error whose
	// text is what svscan prints after "svscan: warning: ": Op is "unable
	// to stat", "unable to start supervise", ...; Path the service (or
	// service/log) concerned, none (NoPath) for the directory. Nil drops
	// them.
	Warn func(error)

	services []*service
	fds      [3]uintptr
	fdsSet   bool
	null     *os.File // for nil Stdin, Stdout or Stderr, until Close
}

// service is one tracked service directory.
type service struct {
	dev, ino uint64
	name     string // the name under which it was last seen
	active   bool   // seen in the current pass
	hasLog   bool   // had a log/ directory when first seen
	pid      int    // its supervise, 0 if none
	logPid   int    // its log/ supervise, 0 if none
	pipe     [2]int // read and write ends, when hasLog
}

// New returns a Scanner of dir that runs "supervise" from $PATH with this
// process's environment, as svscan does; which standard descriptors the
// supervise processes get is the caller's choice (Stdin, Stdout, Stderr).
func New(dir string) *Scanner {
	path, ok := os.LookupEnv("PATH")
	if !ok {
		path = DefaultPath
	}
	return &Scanner{
		Dir:         dir,
		Program:     "supervise",
		Path:        path,
		Env:         os.Environ(),
		MaxServices: DefaultMaxServices,
	}
}

// ErrTooMany is the reason a service beyond MaxServices is not started.
var ErrTooMany = errors.New("running too many services")

// Service describes a tracked service, for callers that watch a Scanner.
type Service struct {
	Name      string
	HasLog    bool
	Pid       int // its supervise, 0 if none is running
	LogPid    int // its log/ supervise, 0 if none is running
	PipeRead  int // the log pipe's read end held by the scanner, -1 without log
	PipeWrite int // and its write end
}

// Services lists what the scanner tracks, in no particular order.
func (s *Scanner) Services() []Service {
	out := make([]Service, 0, len(s.services))
	for _, sv := range s.services {
		d := Service{Name: sv.name, HasLog: sv.hasLog, Pid: sv.pid, LogPid: sv.logPid, PipeRead: -1, PipeWrite: -1}
		if sv.hasLog {
			d.PipeRead, d.PipeWrite = sv.pipe[0], sv.pipe[1]
		}
		out = append(out, d)
	}
	return out
}

// Run scans now, then again every interval and whenever a value arrives on
// wake, until ctx is done. It returns ctx's error; the supervise processes
// keep running and the pipes stay open (see Close).
func (s *Scanner) Run(ctx context.Context, interval time.Duration, wake <-chan os.Signal) error {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
		case <-wake:
			// A signal while a pass is due anyway makes one pass, not two.
			if !timer.Stop() {
				<-timer.C
			}
		}
		s.Scan()
		timer.Reset(interval)
	}
}

// Close closes the log pipes of every tracked service and forgets them. It
// does not stop the supervise processes: as with svscan, they outlive it.
func (s *Scanner) Close() error {
	for _, sv := range s.services {
		sv.closePipe()
	}
	s.services = nil
	if s.null != nil {
		s.null.Close()
		s.null, s.fdsSet = nil, false
	}
	return nil
}

// Scan makes one pass, as svscan does every five seconds.
func (s *Scanner) Scan() {
	s.reap()
	for _, sv := range s.services {
		sv.active = false
	}
	s.readDir()
	// Forget services whose directory is gone, but only once neither of
	// their supervise processes runs: until then the pipe must stay, so
	// that what one side wrote reaches the other.
	kept := s.services[:0]
	for _, sv := range s.services {
		if !sv.active && sv.pid == 0 && sv.logPid == 0 {
			sv.closePipe()
			continue
		}
		kept = append(kept, sv)
	}
	clear(s.services[len(kept):])
	s.services = kept
}

func (s *Scanner) readDir() {
	dir := s.Dir
	if dir == "" {
		dir = "."
	}
	f, err := os.Open(dir)
	if err != nil {
		s.warn("unable to read directory", "", err)
		return
	}
	defer f.Close()
	// Directory order, not sorted: when two names lead to one directory,
	// the one svscan would meet first is the one supervised.
	for {
		names, err := f.Readdirnames(256)
		for _, name := range names {
			s.start(name)
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				s.warn("unable to read directory", "", err)
			}
			return
		}
	}
}

// start makes sure the service called name has its supervise processes, if
// it is a service directory.
func (s *Scanner) start(name string) {
	if strings.HasPrefix(name, ".") {
		return
	}
	var st syscall.Stat_t
	if err := syscall.Stat(s.join(name), &st); err != nil {
		s.warn("unable to stat", name, err)
		return
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFDIR {
		return
	}
	sv := s.find(uint64(st.Dev), st.Ino)
	if sv == nil {
		if len(s.services) >= s.MaxServices {
			s.warn("unable to start", name, ErrTooMany)
			return
		}
		sv = &service{dev: uint64(st.Dev), ino: st.Ino, pipe: [2]int{-1, -1}}
		// Whether a service has a log is decided once, when it is first
		// seen: a log/ made later is used after the service is forgotten.
		// As in daemontools 0.76, anything called log counts, even a file
		// (its supervise then fails, loudly); older versions also wanted
		// the sticky bit on the service directory, 0.76 does not.
		if len(name) <= 255 {
			var lst syscall.Stat_t
			if err := syscall.Stat(s.join(name+"/log"), &lst); err == nil {
				sv.hasLog = true
			} else if !errors.Is(err, syscall.ENOENT) {
				s.warn("unable to stat", name+"/log", err)
				return
			}
		}
		if sv.hasLog {
			var p [2]int
			if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC); err != nil {
				s.warn("unable to create pipe for", name, err)
				return
			}
			sv.pipe = p
		}
		s.services = append(s.services, sv)
	}
	sv.name = name
	sv.active = true

	if sv.pid == 0 {
		out := s.fd(1)
		if sv.hasLog {
			out = uintptr(sv.pipe[1])
		}
		pid, err := s.spawn(s.Dir, name, out, s.fd(0))
		if err != nil {
			if isForkError(err) {
				s.warn("unable to fork for", name, err)
				return
			}
			// daemontools' child reports a failed exec and exits; the
			// log service is started all the same.
			s.warn("unable to start supervise", name, err)
		}
		sv.pid = pid
	}
	if sv.hasLog && sv.logPid == 0 {
		dir := s.join(name)
		pid, err := s.spawn(dir, "log", s.fd(1), uintptr(sv.pipe[0]))
		switch {
		case err == nil:
		case isForkError(err):
			s.warn("unable to fork for", name+"/log", err)
		case syscall.Access(dir, 1) != nil || !isDir(dir):
			s.warn("unable to switch to", name, err)
		default:
			s.warn("unable to start supervise", name+"/log", err)
		}
		sv.logPid = pid
	}
}

// spawn starts Program with argument arg in directory dir, its standard
// output and input being out and in. It returns 0 and the error when the
// program could not be run.
func (s *Scanner) spawn(dir, arg string, out, in uintptr) (int, error) {
	if dir == "" {
		dir = "."
	}
	prog, err := lookPath(s.Program, s.Path, dir)
	if err != nil {
		return 0, err
	}
	pid, err := syscall.ForkExec(prog, []string{filepath.Base(s.Program), arg}, &syscall.ProcAttr{
		Dir:   dir,
		Env:   s.Env,
		Files: []uintptr{in, out, s.fd(2)},
	})
	if err != nil {
		return 0, err
	}
	return pid, nil
}

// lookPath finds prog in path the way daemontools' pathexec_run does: the
// first candidate that can be run wins; a candidate that exists but cannot
// be run is remembered as the reason if nothing later can be.
func lookPath(prog, path, dir string) (string, error) {
	if strings.Contains(prog, "/") {
		return prog, nil
	}
	var saved error
	for elem := range strings.SplitSeq(path, ":") {
		cand := elem + "/" + prog
		check := cand
		if !filepath.IsAbs(check) {
			check = filepath.Join(dir, check)
		}
		var st syscall.Stat_t
		err := syscall.Stat(check, &st)
		if err == nil {
			switch {
			case st.Mode&syscall.S_IFMT == syscall.S_IFDIR:
				err = syscall.EACCES
			case syscall.Access(check, 1) != nil:
				err = syscall.EACCES
			default:
				if filepath.IsAbs(cand) {
					return cand, nil
				}
				return check, nil
			}
		}
		if !errors.Is(err, syscall.ENOENT) {
			saved = err
		}
	}
	if saved != nil {
		return "", saved
	}
	return "", syscall.ENOENT
}

// reap collects the supervise processes that exited, so that the pass
// restarts them.
func (s *Scanner) reap() {
	if s.ReapAll {
		for {
			var ws syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
			if errors.Is(err, syscall.EINTR) {
				continue
			}
			if err != nil || pid <= 0 {
				break
			}
			s.exited(pid)
		}
		return
	}
	for _, sv := range s.services {
		for _, p := range []*int{&sv.pid, &sv.logPid} {
			if *p == 0 {
				continue
			}
			var ws syscall.WaitStatus
			pid, err := syscall.Wait4(*p, &ws, syscall.WNOHANG, nil)
			if pid == *p || errors.Is(err, syscall.ECHILD) {
				*p = 0
			}
		}
	}
}

func (s *Scanner) exited(pid int) {
	for _, sv := range s.services {
		if sv.pid == pid {
			sv.pid = 0
			return
		}
		if sv.logPid == pid {
			sv.logPid = 0
			return
		}
	}
}

func (s *Scanner) find(dev, ino uint64) *service {
	for _, sv := range s.services {
		if sv.ino == ino && sv.dev == dev {
			return sv
		}
	}
	return nil
}

func (s *Scanner) join(name string) string {
	if s.Dir == "" || s.Dir == "." {
		return name
	}
	return filepath.Join(s.Dir, name)
}

// fd returns the descriptor given to supervise processes as standard
// input (0), output (1) or error (2). Should the null device fail to open,
// a missing one is given closed (-1).
func (s *Scanner) fd(i int) uintptr {
	if !s.fdsSet {
		for j, f := range []*os.File{s.Stdin, s.Stdout, s.Stderr} {
			if f == nil && s.null == nil {
				s.null, _ = os.OpenFile(os.DevNull, os.O_RDWR, 0)
			}
			switch {
			case f != nil:
				s.fds[j] = f.Fd()
			case s.null != nil:
				s.fds[j] = s.null.Fd()
			default:
				s.fds[j] = ^uintptr(0)
			}
		}
		s.fdsSet = true
	}
	return s.fds[i]
}

func (s *Scanner) warn(op, name string, err error) {
	if s.Warn != nil {
		s.Warn(&errtext.Error{Op: op, Path: name, Err: err, NoPath: name == ""})
	}
}

func (sv *service) closePipe() {
	if sv.pipe[0] >= 0 {
		syscall.Close(sv.pipe[0])
		syscall.Close(sv.pipe[1])
		sv.pipe = [2]int{-1, -1}
	}
}

func isForkError(err error) bool {
	return errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.ENOMEM)
}

func isDir(path string) bool {
	var st syscall.Stat_t
	return syscall.Stat(path, &st) == nil && st.Mode&syscall.S_IFMT == syscall.S_IFDIR
}
