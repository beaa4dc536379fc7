package chain

import (
	"errors"
	"syscall"

	"github.com/taikit/taikit/errtext"
)

// fghackDups is how many extra copies of the pipe's writing end fghack
// gives the child, as in daemontools: enough that a daemon closing its
// first few descriptors before forking still holds one.
const fghackDups = 30

// CrashedError says that the child fghack waited for was killed by a
// signal.
type CrashedError struct{ Signal syscall.Signal }

func (e *CrashedError) Error() string { return "child crashed" }

// Foreground runs argv as daemontools' fghack does, so that a program
// which puts itself in the background can be supervised: the child gets
// the writing end of a pipe on 31 descriptors (the numbers daemontools'
// child would have: the lowest free ones after this process's inherited
// descriptors), and Foreground waits until every process holding one of
// them has closed it or exited, then for the child itself. A daemon that
// forks and lets its parent exit keeps the pipe open, and with it fghack.
//
// It returns the child's exit code, a *CrashedError if a signal killed
// it, or an *errtext.Error ("unable to run argv[0]", "unable to create pipe",
// "wait failed") with argv[0] searched in $PATH as Exec does.
func Foreground(argv, env []string) (int, error) {
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC); err != nil {
		return 0, &errtext.Error{Op: "unable to create pipe", Err: err, NoPath: true}
	}
	readEnd, writeEnd := p[0], p[1]
	attr := &syscall.ProcAttr{Env: env, Files: fghackFiles(uintptr(writeEnd), inheritedFD)}
	var pid int
	path, set := syscall.Getenv("PATH")
	err := search(argv[0], path, set, func(path string) error {
		var err error
		pid, err = syscall.ForkExec(path, argv, attr)
		return err
	})
	syscall.Close(writeEnd)
	if err != nil {
		syscall.Close(readEnd)
		return 0, &errtext.Error{Op: "unable to run", Path: argv[0], Err: err}
	}
	drain(readEnd)
	syscall.Close(readEnd)

	var ws syscall.WaitStatus
	for {
		_, err = syscall.Wait4(pid, &ws, 0, nil)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		return 0, &errtext.Error{Op: "wait failed", Err: err, NoPath: true}
	}
	if ws.Signaled() {
		return 0, &CrashedError{Signal: ws.Signal()}
	}
	return ws.ExitStatus(), nil
}

// drain reads fd until every writer has gone (or reading fails, which
// daemontools takes as the same).
func drain(fd int) {
	var buf [4096]byte
	for {
		n, err := syscall.Read(fd, buf[:])
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if n <= 0 {
			return
		}
	}
}

// fghackFiles lays out the child's descriptors as daemontools' fghack
// leaves them: it makes a pipe (taking the two lowest free descriptors),
// closes the reading end in the child and duplicates the writing end 30
// times, each copy taking the lowest free descriptor. inherited says
// whether a descriptor is open in this process and passed on at exec; the
// result maps each child descriptor to a descriptor of this process
// (itself for inherited ones, writeEnd for the pipe) or to -1 (closed),
// as syscall.ProcAttr.Files wants.
func fghackFiles(writeEnd uintptr, inherited func(fd int) bool) []uintptr {
	used := map[int]bool{}
	isFree := func(fd int) bool { return !used[fd] && !inherited(fd) }
	lowestFree := func() int {
		fd := 0
		for !isFree(fd) {
			fd++
		}
		return fd
	}
	pipeRead := lowestFree()
	used[pipeRead] = true
	pipeWrite := lowestFree()
	used[pipeWrite] = true
	delete(used, pipeRead) // the child closes the reading end
	for i := 0; i < fghackDups; i++ {
		used[lowestFree()] = true
	}
	top := 0
	for fd := range used {
		top = max(top, fd)
	}
	files := make([]uintptr, top+1)
	for fd := range files {
		switch {
		case used[fd]:
			files[fd] = writeEnd
		case inherited(fd):
			files[fd] = uintptr(fd)
		default:
			files[fd] = ^uintptr(0) // -1: closed in the child
		}
	}
	return files
}

// inheritedFD reports whether fd is open in this process without
// close-on-exec, so that a program started from here inherits it. The Go
// runtime's own descriptors are all close-on-exec.
func inheritedFD(fd int) bool {
	flags, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFD, 0)
	return errno == 0 && flags&syscall.FD_CLOEXEC == 0
}
