package multilog

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// statusFile is an =file action's file. multilog rewrites it in place, so a
// reader can see half a record and bytes beyond 1001 survive for ever;
// here each record replaces the file at once (a new file renamed over it),
// is exactly 1001 bytes, and keeps the file's mode. A symbolic link is
// followed and its target replaced; a file that is not a regular file (a
// device, a FIFO) is written in place, as multilog does, and never replaced.
type statusFile struct {
	path    string // as written in the script, for messages
	real    string // what is replaced: path with its links resolved
	tmp     string
	inPlace bool
	mode    fs.FileMode
	retry   func(what string, op func() error) error // warn, pause, retry
}

// openStatus checks at start-up that the status file can be written,
// creating it empty (mode 0600, as multilog's forced umask gives) if it is
// missing, with multilog's two opens and fatal texts: create-or-append
// ("unable to create"), then write ("unable to write"). Both are
// non-blocking so that a FIFO cannot hang start-up.
func openStatus(path string) (*statusFile, error) {
	const flags = os.O_WRONLY | syscall.O_NONBLOCK
	f, err := os.OpenFile(path, flags|os.O_APPEND|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		err = f.Chmod(0o600) // independent of the umask
	} else if errors.Is(err, fs.ErrExist) {
		f, err = os.OpenFile(path, flags|os.O_APPEND, 0)
	}
	if err != nil {
		return nil, &fatal{"unable to create " + path, unwrapPath(err)}
	}
	f.Close()
	if f, err = os.OpenFile(path, flags, 0); err != nil {
		return nil, &fatal{"unable to write " + path, unwrapPath(err)}
	}
	st, err := f.Stat()
	f.Close()
	if err != nil {
		return nil, &fatal{"unable to write " + path, unwrapPath(err)}
	}
	s := &statusFile{path: path, real: path, mode: st.Mode().Perm(), inPlace: !st.Mode().IsRegular()}
	if r, err := filepath.EvalSymlinks(path); err == nil {
		s.real = r
	}
	dir, base := filepath.Split(s.real)
	s.tmp = filepath.Join(dir, "."+base+".new")
	return s, nil
}

// unwrapPath drops the *PathError around a system error: the messages
// name the file themselves.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// WriteStatus replaces the file with record, pausing and retrying on
// errors as multilog does ("unable to write st, pausing: …").
func (s *statusFile) WriteStatus(record []byte) error {
	return s.retry("unable to write "+s.path, func() error { return s.replace(record) })
}

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
	f, err := os.OpenFile(s.tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, s.mode)
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
	if err == nil {
		err = f.Chmod(s.mode) // the umask must not change it
	}
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
