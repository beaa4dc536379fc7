package multilog

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// statusFile is an =file action's file. multilog rewrites it in place, so a
// reader can see half a record and bytes beyond 1001 survive for ever;
// here each record replaces the file at once (a new file renamed over it),
// is exactly 1001 bytes, and keeps the file's mode.
type statusFile struct {
	path  string
	tmp   string
	mode  fs.FileMode
	retry func(what string, op func() error) error // warn, pause, retry
}

// openStatus checks, at start-up, that the status file can be written,
// creating it empty (mode 0600, as multilog's forced umask gives) if it is
// missing. The errors carry multilog's fatal texts.
func openStatus(path string) (*statusFile, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		err = f.Chmod(0o600)
		f.Close()
		if err != nil {
			return nil, &fatal{"unable to create " + path, err}
		}
	} else if errors.Is(err, fs.ErrExist) {
		f, err = os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return nil, &fatal{"unable to write " + path, err}
		}
		f.Close()
	} else {
		return nil, &fatal{"unable to create " + path, err}
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, &fatal{"unable to write " + path, err}
	}
	dir, base := filepath.Split(path)
	return &statusFile{path: path, tmp: filepath.Join(dir, "."+base+".new"), mode: st.Mode().Perm()}, nil
}

// WriteStatus replaces the file with record, pausing and retrying on
// errors as multilog does ("unable to write st, pausing: …").
func (s *statusFile) WriteStatus(record []byte) error {
	return s.retry("unable to write "+s.path, func() error { return s.replace(record) })
}

func (s *statusFile) replace(record []byte) error {
	f, err := os.OpenFile(s.tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, s.mode)
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
		err = os.Rename(s.tmp, s.path)
	}
	if err != nil {
		os.Remove(s.tmp)
	}
	return err
}
