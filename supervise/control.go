package supervise

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// The commands a supervisor reads from supervise/control, one byte each,
// as svc sends them.
const (
	CmdUp        = 'u' // want up: start run, restart it whenever it exits
	CmdDown      = 'd' // want down: send TERM then CONT, do not restart
	CmdOnce      = 'o' // start run if down, do not restart it
	CmdPause     = 'p' // send STOP
	CmdContinue  = 'c' // send CONT
	CmdHangup    = 'h' // send HUP
	CmdAlarm     = 'a' // send ALRM
	CmdInterrupt = 'i' // send INT
	CmdTerminate = 't' // send TERM
	CmdKill      = 'k' // send KILL
	CmdExit      = 'x' // exit supervise as soon as run is down
)

// ErrNotRunning is returned by Control when no supervisor reads the control
// FIFO; svc and svstat word it "supervise not running".
var ErrNotRunning = errors.New("supervise not running")

// ControlPath returns the path of the control FIFO of the service in dir.
func ControlPath(dir string) string { return filepath.Join(dir, "supervise", "control") }

// OKPath returns the path of the FIFO that a running supervisor holds open.
func OKPath(dir string) string { return filepath.Join(dir, "supervise", "ok") }

// Control sends commands, a string of command letters, to the supervisor
// of the service in dir, as svc does: the FIFO is opened without blocking,
// so a missing supervisor is ErrNotRunning at once, and a FIFO too full to
// take them all is an error (EAGAIN) rather than a wait. Anything but a
// FIFO at supervise/control is refused (ErrFileType), nothing written.
func Control(dir, commands string) error {
	fd, err := syscall.Open(ControlPath(dir), syscall.O_WRONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err == syscall.ENXIO {
		return fmt.Errorf("unable to control %s: %w", dir, ErrNotRunning)
	}
	if err != nil {
		return &os.PathError{Op: "open", Path: ControlPath(dir), Err: err}
	}
	defer syscall.Close(fd)
	// Commands go to a FIFO only, never into a regular file or a device a
	// link there leads to (daemontools' svc writes into them).
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return &os.PathError{Op: "fstat", Path: ControlPath(dir), Err: err}
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFIFO {
		return &os.PathError{Op: "open", Path: ControlPath(dir), Err: &fileTypeError{st.Mode, aFIFO}}
	}
	for b := []byte(commands); len(b) > 0; {
		n, err := syscall.Write(fd, b)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return &os.PathError{Op: "write", Path: ControlPath(dir), Err: err}
		}
		b = b[n:]
	}
	return nil
}

// Running reports whether a supervisor runs for the service in dir, as
// svok decides: supervise/ok can be opened for writing without blocking.
// A missing FIFO means not running; other failures are errors.
func Running(dir string) (bool, error) {
	fd, err := syscall.Open(OKPath(dir), syscall.O_WRONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	switch err {
	case nil:
		syscall.Close(fd)
		return true, nil
	case syscall.ENXIO, syscall.ENOENT:
		return false, nil
	}
	return false, &os.PathError{Op: "open", Path: OKPath(dir), Err: err}
}
