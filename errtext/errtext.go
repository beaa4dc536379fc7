// Package errtext words system errors the way daemontools does, so that
// taikit's messages read exactly like the programs it replaces
// ("unable to lock directory ./d: temporary failure").
//
// Every failure a taikit library reports with a system cause is an *Error:
// what could not be done, the file concerned and the cause, which
// errors.Is and errors.As reach:
//
//	var e *errtext.Error
//	if errors.As(err, &e) && errors.Is(err, fs.ErrNotExist) { ... }
package errtext

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
)

// words is the part of daemontools' error_str table that Linux can produce
// and that users of these programs meet.
var words = map[syscall.Errno]string{
	0:                    "no error",
	syscall.EINTR:        "interrupted system call",
	syscall.ENOMEM:       "out of memory",
	syscall.ENOENT:       "file does not exist",
	syscall.EAGAIN:       "temporary failure",
	syscall.EACCES:       "access denied",
	syscall.EPERM:        "permission denied",
	syscall.ENOSPC:       "out of disk space",
	syscall.EISDIR:       "is a directory",
	syscall.EEXIST:       "file already exists",
	syscall.ENOTDIR:      "not a directory",
	syscall.EROFS:        "read-only file system",
	syscall.EIO:          "input/output error",
	syscall.EDQUOT:       "disk quota exceeded",
	syscall.ELOOP:        "symbolic link loop",
	syscall.ENAMETOOLONG: "file name too long",
	syscall.EMFILE:       "process cannot open more files",
	syscall.ENFILE:       "system cannot open more files",
	syscall.EXDEV:        "cross-device link",
	syscall.EBUSY:        "device busy",
	syscall.EINVAL:       "invalid argument",
	syscall.EFBIG:        "file too big",
	syscall.ESPIPE:       "unseekable descriptor",
	syscall.EPIPE:        "broken pipe",
	syscall.EBADF:        "file descriptor not open",
	syscall.ECHILD:       "no child processes",
	syscall.ESRCH:        "no such process",
	syscall.ENXIO:        "device not configured",
	syscall.E2BIG:        "argument list too long",
	syscall.ENOEXEC:      "exec format error",
	syscall.ETXTBSY:      "text busy",
	syscall.ENOTEMPTY:    "directory not empty",
	syscall.ENODEV:       "device not supported",
	syscall.EFAULT:       "bad address",
	syscall.ENOTTY:       "not a tty",
	syscall.EMLINK:       "too many links",
	syscall.ESTALE:       "stale NFS file handle",
	syscall.ETIMEDOUT:    "timed out",
	syscall.ENOSYS:       "operation not supported",
}

// Error is a failure with a system cause, shaped like fs.PathError but
// worded as daemontools words it: Error gives "Op Path: reason", the reason
// being Of(Err) ("unable to lock directory ./d: temporary failure"). As
// with fs.PathError, and as daemontools prints a name given as "", the path
// is printed even when empty ("unable to open : file does not exist");
// a failure that concerns no file sets NoPath and gives "Op: reason"
// ("unable to setgid: permission denied").
type Error struct {
	Op     string // what could not be done, in daemontools' words: "unable to lock directory"
	Path   string // the file or directory concerned, as the user named it
	Err    error  // the cause, usually a syscall.Errno
	NoPath bool   // the failure concerns no file: Path is not printed
}

func (e *Error) Error() string {
	if e.NoPath {
		return e.Op + ": " + Of(e.Err)
	}
	return e.Op + " " + e.Path + ": " + Of(e.Err)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Of returns daemontools' words for the system error inside err, or err's
// own text when it carries no errno daemontools names.
func Of(err error) string {
	if err == nil {
		return "no error"
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		if w, ok := words[errno]; ok {
			return w
		}
		return errno.Error()
	}
	return err.Error()
}

// WithoutPath returns the cause inside a *fs.PathError or *os.LinkError,
// for an *Error that names the file itself (or a message where their
// path, a temporary name, would only confuse); any other err as it is.
func WithoutPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}
