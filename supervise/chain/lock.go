package chain

import (
	"syscall"

	"github.com/taikit/taikit/errtext"
)

// Lock opens file for appending, creating it with mode 0600 if needed,
// and takes an exclusive flock(2) lock on it, as setlock does. With wait
// false it fails at once when another process holds the lock ("temporary
// failure"); otherwise it waits for the lock.
//
// The descriptor is returned open and not close-on-exec: the program
// setlock runs inherits it, so the lock is held exactly as long as that
// program (and whatever inherits the descriptor from it) runs. Errors are
// *errtext.Error worded "unable to open file" or "unable to lock file".
func Lock(file string, wait bool) (int, error) {
	fd, err := syscall.Open(file, syscall.O_WRONLY|syscall.O_NONBLOCK|syscall.O_APPEND|syscall.O_CREAT, 0o600)
	if err != nil {
		return -1, &errtext.Error{Op: "unable to open", Path: file, Err: err}
	}
	how := syscall.LOCK_EX
	if !wait {
		how |= syscall.LOCK_NB
	}
	for {
		err = syscall.Flock(fd, how)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		syscall.Close(fd)
		return -1, &errtext.Error{Op: "unable to lock", Path: file, Err: err}
	}
	return fd, nil
}
