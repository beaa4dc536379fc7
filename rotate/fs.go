package rotate

import (
	"io"
	"io/fs"
	"os"
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
	r, err := os.OpenRoot(path)
	if err != nil {
		return nil, err
	}
	return rootFS{r}, nil
}

type rootFS struct{ r *os.Root }

func (f rootFS) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	file, err := f.r.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return file, nil
}
func (f rootFS) Stat(name string) (fs.FileInfo, error)  { return f.r.Stat(name) }
func (f rootFS) Lstat(name string) (fs.FileInfo, error) { return f.r.Lstat(name) }
func (f rootFS) Remove(name string) error               { return f.r.Remove(name) }
func (f rootFS) Rename(o, n string) error               { return f.r.Rename(o, n) }
func (f rootFS) Link(o, n string) error                 { return f.r.Link(o, n) }
func (f rootFS) Chmod(name string, m fs.FileMode) error { return f.r.Chmod(name, m) }
func (f rootFS) Close() error                           { return f.r.Close() }
func (f rootFS) ReadDirNames() ([]string, error) {
	d, err := f.r.Open(".")
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return d.Readdirnames(-1)
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
