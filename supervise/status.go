package supervise

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/taikit/taikit/tai64n"
)

// StatusSize is the length of daemontools' status record.
const StatusSize = 18

// Want is what the supervisor has been told to keep the service at.
type Want byte

// The values of the last byte of the status record.
const (
	WantNone Want = 0   // run once (svc -o): not restarted when it exits
	WantUp   Want = 'u' // restart run whenever it exits
	WantDown Want = 'd' // leave run down
)

// Status is daemontools' status record, supervise/status:
//
//	bytes  0–7   TAI64 seconds of the last start or exit of run (2^62+10+Unix)
//	bytes  8–11  nanoseconds, big-endian
//	bytes 12–15  pid of run, little-endian; 0 while run is not running
//	byte  16     1 if paused (svc -p) while running, else 0
//	byte  17     want: 'u', 'd' or 0 (once)
//
// daemontools' supervise packs a 16-byte TAI64NA label and overwrites its
// attosecond field with the pid; svstat reads only the seconds.
type Status struct {
	When   tai64n.Label // when run last started or exited
	PID    int          // of run, 0 while it is down
	Paused bool
	Want   Want
}

// ErrBadFormat is the error of a status record shorter than 18 bytes;
// svstat words it "bad format".
var ErrBadFormat = errors.New("bad format")

// Up reports whether run is running.
func (s Status) Up() bool { return s.PID != 0 }

// Since returns how long ago When was, as svstat counts it: whole seconds,
// never negative (a record from the future reads as 0).
func (s Status) Since(now time.Time) time.Duration {
	n := tai64n.FromTime(now, tai64n.Daemontools)
	if n.Sec < s.When.Sec {
		return 0
	}
	return time.Duration(n.Sec-s.When.Sec) * time.Second
}

// Append appends the 18-byte record to dst and returns the result.
func (s Status) Append(dst []byte) []byte {
	dst = binary.BigEndian.AppendUint64(dst, s.When.Sec)
	dst = binary.BigEndian.AppendUint32(dst, s.When.Nano)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(s.PID))
	var paused byte
	if s.Paused {
		paused = 1
	}
	return append(dst, paused, byte(s.Want))
}

// DecodeStatus decodes a record. Like svstat it reads the first 18 bytes
// and ignores any more; fewer is ErrBadFormat.
func DecodeStatus(b []byte) (Status, error) {
	if len(b) < StatusSize {
		return Status{}, fmt.Errorf("status record of %d bytes, want %d: %w", len(b), StatusSize, ErrBadFormat)
	}
	return Status{
		When:   tai64n.Label{Sec: binary.BigEndian.Uint64(b), Nano: binary.BigEndian.Uint32(b[8:])},
		PID:    int(binary.LittleEndian.Uint32(b[12:])),
		Paused: b[16] != 0,
		Want:   Want(b[17]),
	}, nil
}

// StatusPath returns the path of the status record of the service in dir.
func StatusPath(dir string) string { return filepath.Join(dir, "supervise", "status") }

// ReadStatus reads the status record of the service in dir. A missing
// file is an *fs.PathError wrapping ENOENT; a short one wraps ErrBadFormat;
// one that is not a regular file (a FIFO, which would block, a device)
// wraps ErrFileType.
func ReadStatus(dir string) (Status, error) {
	f, err := openRegular(StatusPath(dir))
	if err != nil {
		return Status{}, err
	}
	defer f.Close()
	var buf [StatusSize]byte
	n, err := io.ReadFull(f, buf[:])
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return Status{}, fmt.Errorf("reading %s: %w", f.Name(), err)
	}
	st, err := DecodeStatus(buf[:n])
	if err != nil {
		return Status{}, fmt.Errorf("%s: %w", f.Name(), err)
	}
	return st, nil
}
