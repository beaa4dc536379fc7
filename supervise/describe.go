package supervise

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/taikit/taikit/errtext"
	"github.com/taikit/taikit/tai64n"
)

// Describe words the state of the service in dir exactly as daemontools'
// svstat does after "dir: ", for instance
//
//	up (pid 1234) 56 seconds, normally down, paused
//	down 3 seconds, normally up, want up
//	supervise not running
//	unable to open supervise/status: file does not exist
//
// When a taikit supervisor runs the service, what supervise/extra adds
// follows, each only when there is something to say:
//
//	, ready 12 seconds | , not ready | , check failed   (up, with a check script)
//	, exited 3 | , killed by signal 9                   (down, after run exited)
//	, backing off 16 seconds                            (down, waiting to restart)
//	, gave up after 5 fast exits                        (down, not restarting)
//	, waiting for db, queue (no such service)           (down, held back by needs/)
//	, 1 restart | , 5 restarts                          (automatic restarts)
//
// now is the clock to count seconds from.
func Describe(dir string, now time.Time) string {
	if err := Searchable(dir); err != nil {
		return "unable to chdir: " + errtext.Of(err)
	}
	normallyUp := false
	if _, err := os.Stat(filepath.Join(dir, "down")); err != nil {
		if !errors.Is(err, syscall.ENOENT) {
			return "unable to stat down: " + errtext.Of(err)
		}
		normallyUp = true
	}
	fd, err := syscall.Open(OKPath(dir), syscall.O_WRONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err == syscall.ENXIO {
		return "supervise not running"
	} else if err != nil {
		return "unable to open supervise/ok: " + errtext.Of(err)
	}
	syscall.Close(fd)

	f, err := openRegular(StatusPath(dir))
	if errors.Is(err, ErrFileType) || errors.Is(err, syscall.EISDIR) {
		// There, but nothing a status can be read from.
		return "unable to read supervise/status: " + errtext.Of(causeOf(err))
	} else if err != nil {
		return "unable to open supervise/status: " + errtext.Of(causeOf(err))
	}
	var buf [StatusSize]byte
	n, err := io.ReadFull(f, buf[:])
	f.Close()
	if err != nil && n < StatusSize {
		if n > 0 || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return "unable to read supervise/status: bad format"
		}
		return "unable to read supervise/status: " + errtext.Of(err)
	}
	st, _ := DecodeStatus(buf[:])
	ex, err := ReadExtra(dir)
	return Words(st, normallyUp, ex, err == nil && ex.Matches(st), now)
}

// Words is svstat's line (after "dir: ") for a status record that was
// read: st, whether the service is normally up, and the extra file that
// goes with st, if hasExtra. A program that shows the state as data and
// as svstat's words uses it to word the same read.
func Words(st Status, normallyUp bool, ex Extra, hasExtra bool, now time.Time) string {
	b := make([]byte, 0, 80)
	if st.Up() {
		b = append(b, "up (pid "...)
		b = strconv.AppendUint(b, uint64(uint32(st.PID)), 10)
		b = append(b, ") "...)
	} else {
		b = append(b, "down "...)
	}
	b = strconv.AppendInt(b, int64(st.Since(now)/time.Second), 10)
	b = append(b, " seconds"...)
	if st.Up() && !normallyUp {
		b = append(b, ", normally down"...)
	}
	if !st.Up() && normallyUp {
		b = append(b, ", normally up"...)
	}
	if st.Up() && st.Paused {
		b = append(b, ", paused"...)
	}
	if !st.Up() && st.Want == WantUp {
		b = append(b, ", want up"...)
	}
	if st.Up() && st.Want == WantDown {
		b = append(b, ", want down"...)
	}
	if hasExtra {
		b = appendExtra(b, st, ex, now)
	}
	return string(b)
}

// appendExtra words what taikit's supervisor adds to svstat's line.
func appendExtra(b []byte, st Status, ex Extra, now time.Time) []byte {
	if st.Up() {
		switch ex.Readiness {
		case Ready:
			b = append(b, ", ready "...)
			b = strconv.AppendInt(b, int64(Status{When: ex.ReadyWhen}.Since(now)/time.Second), 10)
			b = append(b, " seconds"...)
		case Checking:
			b = append(b, ", not ready"...)
		case CheckFailed:
			b = append(b, ", check failed"...)
		}
	} else if ex.Exited {
		if ex.Signal != 0 {
			b = append(b, ", killed by signal "...)
			b = strconv.AppendInt(b, int64(ex.Signal), 10)
		} else {
			b = append(b, ", exited "...)
			b = strconv.AppendInt(b, int64(ex.ExitCode), 10)
		}
	}
	if !st.Up() && ex.Backoff > 0 {
		b = append(b, ", backing off "...)
		b = strconv.AppendInt(b, int64(ex.Backoff), 10)
		b = append(b, " seconds"...)
	}
	if !st.Up() && ex.GaveUp > 0 {
		b = append(b, ", gave up after "...)
		b = strconv.AppendInt(b, int64(ex.GaveUp), 10)
		b = append(b, " fast exit"...)
		if ex.GaveUp != 1 {
			b = append(b, 's')
		}
	}
	if !st.Up() && ex.Waiting+ex.Missing+ex.Cycle != "" {
		b = append(b, ", waiting for "...)
		first := true
		for _, l := range [...]struct{ names, why string }{{ex.Waiting, ""}, {ex.Missing, " (no such service)"}, {ex.Cycle, " (a cycle)"}} {
			for n := range strings.SplitSeq(l.names, "/") {
				if n == "" {
					continue
				}
				if !first {
					b = append(b, ", "...)
				}
				first = false
				b = append(b, n...)
				if n != "..." {
					b = append(b, l.why...)
				}
			}
		}
	}
	if ex.Restarts > 0 {
		b = append(b, ", "...)
		b = strconv.AppendInt(b, int64(ex.Restarts), 10)
		b = append(b, " restart"...)
		if ex.Restarts != 1 {
			b = append(b, 's')
		}
	}
	return b
}

// Searchable fails as chdir(dir) would, with the same system error: dir
// must exist, be a directory and be searchable. svc, svstat and svok
// report these failures in daemontools' words without changing directory.
func Searchable(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return syscall.ENOTDIR
	}
	return syscall.Access(dir, 1) // X_OK
}

// readyLabel is the label of t in the convention of the status record.
func readyLabel(t time.Time) tai64n.Label { return tai64n.FromTime(t, tai64n.Daemontools) }
