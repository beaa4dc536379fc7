package logread

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/taikit/taikit/errtext"
)

// Every file of a log directory is opened here. Whoever may write the
// directory (the writer's account) may plant anything under its names,
// and the Reader is often root's: a symbolic link would have it read a
// file of root's and hand it on (/etc/shadow as "current"), a FIFO or a
// device would block it in open(2) or feed it for ever. multilog refuses
// such names; so does a Reader. Only what is inside the directory is
// checked: the directory itself may be reached through links.

// notRegularError refuses a file of the directory that is not a regular
// file; id is the object's own identity (a link's, not its target's), by
// which the Reader knows it again without reporting it twice.
type notRegularError struct {
	what string
	id   fileID
	// foreign is set for a regular file refused as another account's
	// hard link: then what is the whole reason.
	foreign bool
}

func (e *notRegularError) Error() string {
	if e.foreign {
		return e.what
	}
	return "not a regular file: " + e.what
}

func (e *notRegularError) Is(target error) bool { return target == ErrNotRegular }

// openEntry opens the file at path, a name inside a log directory, for
// reading, and returns it with its status. The last name is not followed
// (O_NOFOLLOW), a FIFO or device is not waited for (O_NONBLOCK), and what
// was opened must be a regular file; otherwise the error is a
// *notRegularError, or the open's own (fs.ErrNotExist for a name that is
// gone).
func openEntry(path string) (*os.File, *syscall.Stat_t, error) {
	var fd int
	var err error
	for {
		fd, err = syscall.Open(path, syscall.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|
			syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		if err == syscall.ELOOP {
			// O_NOFOLLOW's answer for a link, dangling or not.
			var st syscall.Stat_t
			if syscall.Lstat(path, &st) == nil && st.Mode&syscall.S_IFMT == syscall.S_IFLNK {
				return nil, nil, &notRegularError{what: errtext.FileType(errtext.StatType(st.Mode)), id: idOf(&st)}
			}
		}
		return nil, nil, err
	}
	st := new(syscall.Stat_t)
	if err := syscall.Fstat(fd, st); err != nil {
		syscall.Close(fd)
		return nil, nil, err
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		syscall.Close(fd)
		return nil, nil, &notRegularError{what: errtext.FileType(errtext.StatType(st.Mode)), id: idOf(st)}
	}
	// A hard link planted by whoever may write the directory, to a file
	// of another account's (root's /etc/shadow, on the same file system),
	// is a regular file too. The writer's own files may have two names
	// for a moment (daemontools links current to an archive name), but
	// they belong to the directory's owner.
	if st.Nlink > 1 {
		var dir syscall.Stat_t
		if err := syscall.Stat(filepath.Dir(path), &dir); err == nil && dir.Uid != st.Uid {
			syscall.Close(fd)
			return nil, nil, &notRegularError{
				what: fmt.Sprintf("a hard link (%d names) to a file of uid %d, in a directory of uid %d: not read", st.Nlink, st.Uid, dir.Uid),
				id:   idOf(st), foreign: true,
			}
		}
	}
	// A regular file reads the same either way; cleared, the descriptor
	// is an ordinary blocking one, which os.NewFile keeps out of the
	// poller.
	if fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0); err == nil {
		unix.FcntlInt(uintptr(fd), unix.F_SETFL, fl&^unix.O_NONBLOCK)
	}
	return os.NewFile(uintptr(fd), path), st, nil
}

// refusedID returns the identity of the object err refused, if err is a
// refusal.
func refusedID(err error) (fileID, bool) {
	var nr *notRegularError
	if errors.As(err, &nr) {
		return nr.id, true
	}
	return fileID{}, false
}

// heldEntry is a file of the directory known by its identity, held by an
// O_PATH descriptor (which neither reads it nor follows it, and opens even
// a FIFO at once) so that its inode number stays its own: a new file under
// the name cannot be taken for it.
type heldEntry struct {
	id fileID
	fd int // -1 or 0 when none: 0 is never ours (standard input)
}

func (h *heldEntry) close() {
	if h.fd > 0 {
		syscall.Close(h.fd)
	}
	*h = heldEntry{}
}

// refuse records that the file of identity id under name (of the given
// kind) was refused, to be passed over while it stays. It is recorded only
// if it is still there to hold.
func (r *Reader) refuse(kind srcKind, name string, id fileID) {
	h := &r.refused[kind]
	h.close()
	fd, err := syscall.Open(r.path(name), unix.O_PATH|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	var st syscall.Stat_t
	if syscall.Fstat(fd, &st) != nil || idOf(&st) != id {
		syscall.Close(fd) // replaced meanwhile: the next look decides
		return
	}
	*h = heldEntry{id: id, fd: fd}
}
