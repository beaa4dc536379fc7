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
