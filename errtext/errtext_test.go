package errtext

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
	"testing"
)

func TestOf(t *testing.T) {
	_, err := os.Open("/nonexistent/taikit")
	cases := []struct {
		err  error
		want string
	}{
		{err, "file does not exist"},
		{fmt.Errorf("wrapped: %w", &fs.PathError{Op: "write", Path: "x", Err: syscall.ENOSPC}), "out of disk space"},
		{syscall.EAGAIN, "temporary failure"},
		{syscall.Errno(0x7ff), syscall.Errno(0x7ff).Error()},
		{errors.New("plain"), "plain"},
		{nil, "no error"},
	}
	for _, c := range cases {
		if got := Of(c.err); got != c.want {
			t.Errorf("Of(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}

func TestError(t *testing.T) {
	_, open := os.Open("/nonexistent/taikit")
	cases := []struct {
		err  *Error
		want string
	}{
		{&Error{Op: "unable to lock directory", Path: "./d", Err: syscall.EAGAIN}, "unable to lock directory ./d: temporary failure"},
		{&Error{Op: "unable to setgid", Err: syscall.EPERM, NoPath: true}, "unable to setgid: permission denied"},
		{&Error{Op: "unable to open", Path: "", Err: syscall.ENOENT}, "unable to open : file does not exist"},
		{&Error{Op: "unable to read", Path: "./main/current", Err: open}, "unable to read ./main/current: file does not exist"},
		{&Error{Op: "unable to decompress", Path: "./main/@4.s", Err: errors.New("gzip: invalid header")}, "unable to decompress ./main/@4.s: gzip: invalid header"},
	}
	for _, c := range cases {
		if got := c.err.Error(); got != c.want {
			t.Errorf("%#v: %q, want %q", c.err, got, c.want)
		}
	}
	// The cause is reachable: a wrapped *fs.PathError and its errno.
	err := fmt.Errorf("context: %w", cases[3].err)
	var errno syscall.Errno
	if !errors.Is(err, fs.ErrNotExist) || !errors.As(err, &errno) || errno != syscall.ENOENT {
		t.Errorf("%v: errors.Is ErrNotExist %v, errno %v", err, errors.Is(err, fs.ErrNotExist), errno)
	}
	var e *Error
	if !errors.As(err, &e) || e.Op != "unable to read" || e.Path != "./main/current" {
		t.Errorf("errors.As: %#v", e)
	}
	if !errors.Is(cases[0].err, syscall.EAGAIN) {
		t.Errorf("errors.Is EAGAIN")
	}
}

func TestFileType(t *testing.T) {
	for _, c := range []struct {
		st   uint32
		want string
	}{
		{syscall.S_IFREG, "a regular file"},
		{syscall.S_IFLNK, "a symbolic link"},
		{syscall.S_IFIFO, "a FIFO"},
		{syscall.S_IFDIR, "a directory"},
		{syscall.S_IFSOCK, "a socket"},
		{syscall.S_IFCHR, "a character device"},
		{syscall.S_IFBLK, "a block device"},
		{0, "of an unknown type"},
	} {
		if got := FileType(StatType(c.st)); got != c.want {
			t.Errorf("st_mode %#o: %q, want %q", c.st, got, c.want)
		}
	}
	// What os.Lstat gives words the same.
	fi, err := os.Lstat("/dev/null")
	if err != nil {
		t.Fatal(err)
	}
	if got := FileType(fi.Mode()); got != "a character device" {
		t.Errorf("/dev/null: %q", got)
	}
}
