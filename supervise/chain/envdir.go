package chain

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"syscall"

	"github.com/taikit/taikit/errtext"
)

// ReadEnvDir turns the directory dir into environment changes, as
// daemontools' envdir does. Each file whose name does not start with '.'
// names a variable:
//
//   - an empty file (zero bytes) removes the variable;
//   - otherwise the variable is set to the file's first line, without
//     its newline and without spaces and tabs at its end, with each NUL
//     byte turned into a newline (the way to put a newline in a value).
//
// A first line longer than MaxEnvLine bytes is an error (ErrLineTooLong),
// read no further.
//
// A file holding just a newline sets the variable to the empty string. A
// name containing '=' is passed on as pathexec merges it (see
// EnvChanges.Apply). Changes come in the directory's own order, which
// decides the order of the child's environment.
//
// Errors are *errtext.Error worded as envdir's messages. dir is read in place:
// unlike daemontools this does not change the process's working
// directory, but it fails where daemontools would (a working directory
// that cannot be opened, a dir that cannot be entered or read).
func ReadEnvDir(dir string) (*EnvChanges, error) {
	// daemontools opens "." to come back to it after reading dir; a
	// process that cannot do that fails there, before anything else.
	cwd, err := syscall.Open(".", syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, &errtext.Error{Op: "unable to switch to current directory", Err: err, NoPath: true}
	}
	syscall.Close(cwd)

	d, err := syscall.Open(dir, oPath|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, &errtext.Error{Op: "unable to switch to directory", Path: dir, Err: err}
	}
	defer syscall.Close(d)
	// Resolving "." inside dir needs the search permission chdir needs.
	probe, err := syscall.Openat(d, ".", oPath|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, &errtext.Error{Op: "unable to switch to directory", Path: dir, Err: err}
	}
	syscall.Close(probe)

	names, err := dirNames(d)
	if err != nil {
		return nil, &errtext.Error{Op: "unable to read directory", Path: dir, Err: err}
	}
	changes := new(EnvChanges)
	for _, name := range names {
		if strings.HasPrefix(name, ".") {
			continue
		}
		line, n, err := readFirstLine(d, name)
		if err != nil {
			return nil, &errtext.Error{Op: "unable to read", Path: dir + "/" + name, Err: err}
		}
		if n == 0 {
			changes.Unset(name)
			continue
		}
		changes.Set(name, EnvValue(line))
	}
	return changes, nil
}

// EnvValue turns the first line of an envdir file (without its newline)
// into the variable's value: spaces and tabs at the end removed, NUL bytes
// made newlines.
func EnvValue(line []byte) string {
	line = bytes.TrimRight(line, " \t")
	return strings.ReplaceAll(string(line), "\x00", "\n")
}

// dirNames lists the directory open as d, in the directory's order.
func dirNames(d int) ([]string, error) {
	fd, err := syscall.Openat(d, ".", syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), ".")
	defer f.Close()
	names, err := f.Readdirnames(-1)
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return names, err
}

// MaxEnvLine bounds the first line of an envdir file (without its
// newline): Linux's MAX_ARG_STRLEN, beyond which no "NAME=value" can be
// passed to a program anyway (execve fails with E2BIG, which is how
// daemontools' envdir fails on such a line, after reading it whole).
const MaxEnvLine = 131072

// ErrLineTooLong is the error of a file whose first line is longer than
// MaxEnvLine bytes (a file linked to /dev/zero, say): it is read no
// further.
var ErrLineTooLong = errors.New("first line longer than 131072 bytes")

// readFirstLine reads the file name in the directory d up to its first
// newline, and says how many bytes the file held as far as it was read:
// zero means an empty file. A file that has gone since the directory was
// listed (or a dangling symbolic link) counts as empty. At most
// MaxEnvLine+1 bytes are read: a longer line is ErrLineTooLong.
func readFirstLine(d int, name string) (line []byte, n int, err error) {
	// Non-blocking, as daemontools opens it: a FIFO without a writer
	// reads as empty instead of hanging the start of a service.
	fd, err := syscall.Openat(d, name, syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if errors.Is(err, syscall.ENOENT) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	defer syscall.Close(fd)
	buf := make([]byte, 0, 256)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		room := buf[len(buf):min(cap(buf), MaxEnvLine+1)]
		r, err := syscall.Read(fd, room)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, 0, err
		}
		if r == 0 {
			return buf, len(buf), nil
		}
		start := len(buf)
		buf = buf[:start+r]
		if i := bytes.IndexByte(buf[start:], '\n'); i >= 0 {
			return buf[:start+i], len(buf), nil
		}
		if len(buf) > MaxEnvLine {
			return nil, 0, ErrLineTooLong
		}
	}
}
