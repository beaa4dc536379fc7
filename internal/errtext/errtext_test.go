package errtext

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
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

// TestOfRootEscape: the error os.Root gives for a symbolic link leading out
// of the root has its own words (the match is on Go's text, which this
// test keeps honest).
func TestOfRootEscape(t *testing.T) {
	dir := t.TempDir()
	if err := os.Symlink("../elsewhere", filepath.Join(dir, "current")); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	_, err = root.Stat("current")
	if got := Of(err); got != "symbolic link leads outside the directory" {
		t.Errorf("Of(%v) = %q", err, got)
	}
}
