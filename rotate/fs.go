package rotate

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"

	"github.com/taikit/taikit/errtext"
)

// FS is the file system a Dir works in: one directory, names relative to
// it. Open uses the real directory through os.Root (which also keeps every
// name inside it); tests inject faults that real disks cannot produce on
// demand (EIO on fsync, a failing rename) by wrapping it.
type FS interface {
	OpenFile(name string, flag int, perm fs.FileMode) (File, error)
	Stat(name string) (fs.FileInfo, error)
	Lstat(name string) (fs.FileInfo, error)
	Remove(name string) error
	Rename(oldname, newname string) error
	Link(oldname, newname string) error
	Chmod(name string, mode fs.FileMode) error
	ReadDirNames() ([]string, error)
	Close() error
}

// File is an open file of an FS. Files given to a processor must unwrap to
// an *os.File (see OSFile), since they become its descriptors.
type File interface {
	io.Reader
	io.ReaderAt
	io.Writer
	io.Closer
	Sync() error
	Chmod(mode fs.FileMode) error
	Stat() (fs.FileInfo, error)
	Fd() uintptr
}

// OSFile is implemented by Files that wrap an *os.File.
type OSFile interface{ OSFile() *os.File }

// OpenDirFS opens the real directory at path as an FS.
func OpenDirFS(path string) (FS, error) {
	// os.OpenRoot opens path for reading without O_DIRECTORY: a FIFO there
	// would hold it for ever. Refuse what is not a directory first, as
	// multilog does ("not a directory").
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_NONBLOCK|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	syscall.Close(fd)
	r, err := os.OpenRoot(path)
	if err != nil {
		return nil, err
	}
	return rootFS{r}, nil
}

// ErrOutside is the cause of a failure on a name that a symbolic link
// leads out of the log directory ("unable to stat ./main/current: symbolic
// link leads outside the directory"): a Dir works only inside it.
var ErrOutside = errors.New("symbolic link leads outside the directory")

// ErrNotRegular is the cause of a refusal to use a name of the log
// directory that is not a regular file where one is expected (a FIFO, a
// device, a socket, a directory): "unable to lock directory ./main: lock
// is a FIFO, not a regular file". errors.Is finds it in such an error.
var ErrNotRegular = errors.New("not a regular file")

// notRegularError names the file and what it is.
type notRegularError struct {
	name string
	mode fs.FileMode
}

func (e *notRegularError) Error() string {
	return e.name + " is " + errtext.FileType(e.mode) + ", not a regular file"
}

func (e *notRegularError) Is(target error) bool { return target == ErrNotRegular }

// foreignLinkError refuses to write a hard link to another account's
// file; errors.Is matches ErrNotRegular, as for the other objects a
// directory must not hold where a file of the writer's is expected.
type foreignLinkError struct {
	name  string
	links uint64
	uid   uint32
}

func (e *foreignLinkError) Error() string {
	return fmt.Sprintf("%s is a hard link (%d names) to a file of another account (uid %d), not written", e.name, e.links, e.uid)
}

func (e *foreignLinkError) Is(target error) bool { return target == ErrNotRegular }

type rootFS struct{ r *os.Root }

func (f rootFS) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	file, err := f.r.OpenFile(name, flag, perm)
	if err != nil {
		return nil, outside(err)
	}
	return file, nil
}
func (f rootFS) Stat(name string) (fs.FileInfo, error) {
	fi, err := f.r.Stat(name)
	return fi, outside(err)
}
func (f rootFS) Lstat(name string) (fs.FileInfo, error) {
	fi, err := f.r.Lstat(name)
	return fi, outside(err)
}
func (f rootFS) Remove(name string) error               { return outside(f.r.Remove(name)) }
func (f rootFS) Rename(o, n string) error               { return outside(f.r.Rename(o, n)) }
func (f rootFS) Link(o, n string) error                 { return outside(f.r.Link(o, n)) }
func (f rootFS) Chmod(name string, m fs.FileMode) error { return outside(f.r.Chmod(name, m)) }
func (f rootFS) Close() error                           { return f.r.Close() }
func (f rootFS) ReadDirNames() ([]string, error) {
	d, err := f.r.Open(".")
	if err != nil {
		return nil, outside(err)
	}
	defer d.Close()
	return d.Readdirnames(-1)
}

// outside gives an error of os.Root that carries no errno ErrOutside as its
// cause. os.Root refuses a name that leads out of the root with an error of
// its own, which has neither an errno nor an exported value; its other
// errors without an errno (an unsupported file mode, an empty name) cannot
// come from the names and modes a Dir uses, and a closed Root gives
// fs.ErrClosed, which is kept.
func outside(err error) error {
	var errno syscall.Errno
	if err == nil || errors.As(err, &errno) || errors.Is(err, fs.ErrClosed) {
		return err
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return &fs.PathError{Op: pe.Op, Path: pe.Path, Err: ErrOutside}
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return &os.LinkError{Op: le.Op, Old: le.Old, New: le.New, Err: ErrOutside}
	}
	return err
}

// osFileOf unwraps f to the *os.File a child process can inherit.
func osFileOf(f File) (*os.File, bool) {
	switch v := f.(type) {
	case *os.File:
		return v, true
	case OSFile:
		return v.OSFile(), true
	}
	return nil, false
}
