package rotate

import (
	"io"
	"io/fs"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// rawWrite is one write(2) of p to f as a raw system call (Options.RawWrites):
// the goroutine keeps its processor (P) for the call instead of offering it
// to the scheduler. Its result is what f.Write would give for one write(2):
// the bytes written, or the error as a *fs.PathError naming the file.
// The caller holds d.mu, which Close and rotation take too, so f cannot be
// closed (and its descriptor reused) during the call.
func rawWrite(f *os.File, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		r, _, errno := unix.RawSyscall(unix.SYS_WRITE, f.Fd(), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
		switch {
		case errno == unix.EINTR:
			continue
		case errno != 0:
			return 0, &fs.PathError{Op: "write", Path: f.Name(), Err: errno}
		case r == 0:
			return 0, &fs.PathError{Op: "write", Path: f.Name(), Err: io.ErrShortWrite}
		}
		return int(r), nil
	}
}
