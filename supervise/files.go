package supervise

import (
	"errors"
	"os"
	"syscall"

	"github.com/taikit/taikit/errtext"
)

// ErrFileType is the cause of a refusal of a file of the service
// directory that is not of the type expected: a FIFO or a device where a
// regular file should be, a regular file where a FIFO should be, a
// symbolic link where supervise creates a file. errors.Is finds it; the
// message says what the file is ("is a FIFO, not a regular file").
var ErrFileType = errors.New("unexpected file type")

// fileTypeError says what a file is and what it should be.
type fileTypeError struct {
	mode uint32 // st_mode's S_IFMT bits
	want string // "a regular file", "a FIFO"
}

func (e *fileTypeError) Error() string {
	return "is " + errtext.FileType(errtext.StatType(e.mode)) + ", not " + e.want
}
func (e *fileTypeError) Is(t error) bool { return t == ErrFileType }

const (
	aRegularFile = "a regular file"
	aFIFO        = "a FIFO"
)

// openChecked opens path with flag, never blocking in open(2) (a FIFO
// without a writer or reader would hold it for ever, where no signal ends
// it), and refuses a file whose type is not typ (S_IFREG, S_IFIFO), with a
// *fileTypeError as the cause. A regular file's descriptor is made
// blocking again; a FIFO's stays non-blocking, for the runtime's poller.
func openChecked(path string, flag int, perm uint32, typ uint32) (*os.File, error) {
	fd, err := syscall.Open(path, flag|syscall.O_NONBLOCK|syscall.O_NOCTTY|syscall.O_CLOEXEC, perm)
	if err != nil {
		// ELOOP: a link, with O_NOFOLLOW; ENXIO: a FIFO without a reader
		// (or a device without its hardware). Say what the file is.
		var st syscall.Stat_t
		var serr error = syscall.ENOENT
		switch err {
		case syscall.ELOOP:
			serr = syscall.Lstat(path, &st)
		case syscall.ENXIO:
			serr = syscall.Stat(path, &st)
		}
		if serr == nil && st.Mode&syscall.S_IFMT != typ {
			return nil, &os.PathError{Op: "open", Path: path, Err: &fileTypeError{st.Mode, wantOf(typ)}}
		}
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		syscall.Close(fd)
		return nil, &os.PathError{Op: "fstat", Path: path, Err: err}
	}
	if st.Mode&syscall.S_IFMT != typ {
		syscall.Close(fd)
		var cause error = &fileTypeError{st.Mode, wantOf(typ)}
		if st.Mode&syscall.S_IFMT == syscall.S_IFDIR && typ == syscall.S_IFREG {
			cause = syscall.EISDIR // what a read would have said
		}
		return nil, &os.PathError{Op: "open", Path: path, Err: cause}
	}
	if typ == syscall.S_IFREG {
		syscall.SetNonblock(fd, false)
	}
	return os.NewFile(uintptr(fd), path), nil
}

func wantOf(typ uint32) string {
	if typ == syscall.S_IFIFO {
		return aFIFO
	}
	return aRegularFile
}

// openRegular opens a file a reader expects to be regular (status,
// extra) without blocking, refusing anything else.
func openRegular(path string) (*os.File, error) {
	return openChecked(path, syscall.O_RDONLY, 0, syscall.S_IFREG)
}

// causeOf drops the *os.PathError around a cause, for messages that name
// the file themselves.
func causeOf(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
