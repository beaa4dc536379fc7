package multilog

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/taikit/taikit/errtext"
)

// statusFile is an =file action's file. multilog rewrites it in place, so a
// reader can see half a record and bytes beyond 1001 survive for ever;
// here each record replaces the file at once, is exactly 1001 bytes, and
// keeps the file's mode. A symbolic link is followed and its target
// replaced if this account made it (see ownLink); a file that is not a regular file (a device, a FIFO) is written
// in place, as multilog does, and never replaced.
//
// A record is written into a spare file, ".<name>.new", whose name is then
// exchanged with the status file's in one step (renameat2 with
// RENAME_EXCHANGE); the file that held the previous record becomes the
// spare for the next. A reader that opened the file before the exchange
// before last and reads only now thus sees a newer record (a whole one,
// unless it reads while that record is being written). Creating a file and
// renaming it over the old one at every read costs a file system about 25
// times as much (allocating and freeing blocks; ext4 also flushes the new
// file at such a rename): a fifth of multilog's time on a busy log. Where
// names cannot be exchanged, each record goes to a new file renamed over
// the old one.
type statusFile struct {
	path    string // as written in the script, for messages
	real    string // what is replaced: path with its links resolved
	tmp     string
	inPlace bool
	mode    fs.FileMode
	retry   func(what string, op func() error) error // warn, pause, retry

	noExchange     bool     // the file system cannot exchange names
	spare, current *os.File // the files named tmp and real, when known
}

// openStatus checks at start-up that the status file can be written,
// creating it empty (mode 0600, as multilog's forced umask gives) if it is
// missing, with multilog's two opens and fatal texts: create-or-append
// ("unable to create"), then write ("unable to write"). Both are
// non-blocking so that a FIFO cannot hang start-up.
func openStatus(path string) (*statusFile, error) {
	const flags = os.O_WRONLY | syscall.O_NONBLOCK
	if err := ownLink(path); err != nil {
		return nil, &errtext.Error{Op: "unable to write", Path: path, Err: err}
	}
	f, err := os.OpenFile(path, flags|os.O_APPEND|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		err = f.Chmod(0o600) // independent of the umask
	} else if errors.Is(err, fs.ErrExist) {
		f, err = os.OpenFile(path, flags|os.O_APPEND, 0)
	}
	if err != nil {
		return nil, &errtext.Error{Op: "unable to create", Path: path, Err: errtext.WithoutPath(err)}
	}
	f.Close()
	if f, err = os.OpenFile(path, flags, 0); err != nil {
		return nil, &errtext.Error{Op: "unable to write", Path: path, Err: errtext.WithoutPath(err)}
	}
	st, err := f.Stat()
	f.Close()
	if err != nil {
		return nil, &errtext.Error{Op: "unable to write", Path: path, Err: errtext.WithoutPath(err)}
	}
	s := &statusFile{path: path, real: path, mode: st.Mode().Perm(), inPlace: !st.Mode().IsRegular()}
	if r, err := filepath.EvalSymlinks(path); err == nil {
		s.real = r
	}
	dir, base := filepath.Split(s.real)
	s.tmp = filepath.Join(dir, "."+base+".new")
	return s, nil
}

// ownLink refuses a status file that is a symbolic link made by another
// account. A link the script's user made is followed, as daemontools'
// multilog follows it (status files are linked into /run and the like);
// one planted by whoever else can write the status file's directory would
// have multilog, often root, replace the file it points to. This is the
// kernel's protected_symlinks rule for sticky directories, applied to
// every directory.
func ownLink(path string) error {
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		return nil // the opens that follow say what is wrong, if anything
	}
	owner := fi.Sys().(*syscall.Stat_t).Uid
	if euid := uint32(os.Geteuid()); owner != euid {
		return fmt.Errorf("a symbolic link owned by another account (uid %d), not followed: remove it, or make it with the account multilog runs as (uid %d)", owner, euid)
	}
	return nil
}

// WriteStatus replaces the file with record, pausing and retrying on
// errors as multilog does ("unable to write st, pausing: …").
func (s *statusFile) WriteStatus(record []byte) error {
	if err := s.retry("unable to write "+s.path, func() error { return s.replace(record) }); err != nil {
		return &statusError{path: s.path, err: err}
	}
	return nil
}

// statusError is a status file that could not be brought up to date
// before multilog had to stop: the directories still have every line.
type statusError struct {
	path string
	err  error
}

func (e *statusError) Error() string { return "unable to write " + e.path + ": " + e.err.Error() }
func (e *statusError) Unwrap() error { return e.err }

func (s *statusFile) replace(record []byte) error {
	if s.inPlace {
		f, err := os.OpenFile(s.real, os.O_WRONLY|syscall.O_NONBLOCK, 0)
		if err != nil {
			return err
		}
		_, err = f.Write(record)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	}
	if !s.noExchange {
		err := s.exchange(record)
		if err != errRenameInstead {
			return err
		}
	}
	f, err := s.createSpare()
	if errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS) {
		// The directory is not ours to write (a status file given to the
		// log user in root's directory): do as multilog does, in place.
		s.inPlace = true
		return s.replace(record)
	}
	if err != nil {
		return err
	}
	_, err = f.Write(record)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(s.tmp, s.real)
	}
	if err != nil {
		os.Remove(s.tmp)
	}
	return err
}

// errRenameInstead says that a record is to go to a new file renamed over
// the status file.
var errRenameInstead = errors.New("rename instead")

// createSpare creates an empty spare file with the status file's mode.
// Nothing is ever written through a symbolic link or into a file this
// process did not create, and no mode is set on one: whatever is at the
// spare name (a leftover, or a link planted by another user of the
// directory) is unlinked first (which removes a link, not its target), and
// the file is created exclusively, without following a link.
func (s *statusFile) createSpare() (*os.File, error) {
	if err := os.Remove(s.tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, errtext.WithoutPath(err) // EACCES: the directory is not ours
	}
	f, err := os.OpenFile(s.tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, s.mode)
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		if err == nil {
			err = syscall.EEXIST
		}
		return nil, err
	}
	if err = f.Chmod(s.mode); err != nil { // the umask must not change it
		f.Close()
		return nil, err
	}
	return f, nil
}

// exchange writes record into the spare file and exchanges its name with
// the status file's.
func (s *statusFile) exchange(record []byte) error {
	if s.spare == nil {
		f, err := s.createSpare()
		if err != nil {
			return errRenameInstead // which meets the same error and decides
		}
		s.spare = f
	}
	if _, err := s.spare.WriteAt(record, 0); err != nil {
		return err
	}
	err := unix.Renameat2(unix.AT_FDCWD, s.tmp, unix.AT_FDCWD, s.real, unix.RENAME_EXCHANGE)
	if err != nil {
		// Either name may have been removed by hand, or the file system
		// may not exchange names (EINVAL, ENOSYS): start afresh.
		s.closeFiles()
		if !errors.Is(err, syscall.ENOENT) {
			s.noExchange = true
		}
		return errRenameInstead
	}
	prev := s.current
	s.current, s.spare = s.spare, nil
	if prev == nil {
		// The first exchange: the file now named tmp is the status file
		// as it was at start-up.
		// Not blocking: something else may have been put at tmp since.
		if prev, err = os.OpenFile(s.tmp, os.O_WRONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0); err != nil {
			return nil // a new spare is created next time
		}
	}
	// Only a file that holds a record and has no other name (a hard link)
	// may be written again: anything else is left to its other names, or
	// to a reader that still has it open, and a new spare made.
	if st, err := prev.Stat(); err != nil || !st.Mode().IsRegular() || st.Sys().(*syscall.Stat_t).Nlink != 1 || st.Size() != statusSize {
		prev.Close()
		os.Remove(s.tmp)
		return nil
	}
	s.spare = prev
	return nil
}

// closeFiles forgets the files the exchanges alternate between.
func (s *statusFile) closeFiles() {
	for _, f := range []*os.File{s.spare, s.current} {
		if f != nil {
			f.Close()
		}
	}
	s.spare, s.current = nil, nil
}

// Close removes the spare file: between runs only the status file is left.
func (s *statusFile) Close() {
	if s.spare != nil {
		os.Remove(s.tmp)
	}
	s.closeFiles()
}
