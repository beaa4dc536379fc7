package supervise

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"

	"github.com/taikit/taikit/tai64n"
)

// Readiness is what the service's check script has said since run last
// started.
type Readiness byte

const (
	// NoCheck: the service has no executable check, so nothing is known
	// beyond "up".
	NoCheck Readiness = iota
	// Checking: check has not succeeded yet and has time left.
	Checking
	// Ready: check exited 0; Extra.ReadyWhen says when.
	Ready
	// CheckFailed: check did not exit 0 within the check timeout.
	CheckFailed
)

var readinessWords = [...]string{"unchecked", "checking", "ready", "failed"}

// Extra is what taikit's supervisor knows beyond daemontools' record. It is
// kept in supervise/extra, a small text file replaced atomically (written
// to extra.new, then renamed), one "key value" line each:
//
//	taikit-extra 1
//	status @4000000065f1a2b3001e8480  (the When of the status record it goes with)
//	restarts 3                        (automatic restarts since supervise started)
//	ready @4000000065f1a2b4002dc6c0   (or: unchecked, checking, failed)
//	exit 1 0                          (last exit of run: code or -1, and signal or 0)
//	backoff 16                        (waiting 16 seconds to start run again)
//	gaveup 5                          (not starting run again after 5 fast exits)
//	waiting db/cache                  (not starting run until these are up and ready)
//	missing queue                     (needed, but no such service)
//	cycle db                          (needed, and needing this service back)
//
// The exit line is absent until run has exited once; backoff and gaveup
// only appear under a backoff file, while they apply, and waiting,
// missing and cycle only under a needs/ directory, while run is held back,
// so that a service without either gets the same bytes as before they
// existed. The three lists are names of services of the scan directory,
// "/"-separated (no name holds a slash). Readers ignore lines
// they do not know, so later versions can add some. An Extra goes with the
// status record whose When it names; a reader finding another record (the
// service changed state since, or another supervisor took over) must not
// use it (see Matches).
type Extra struct {
	Status    tai64n.Label // Status.When of the record this goes with
	Restarts  int          // starts of run after it exited while wanted up
	Readiness Readiness
	ReadyWhen tai64n.Label // when check first exited 0 (Readiness == Ready)
	Exited    bool         // whether run has exited since supervise started
	ExitCode  int          // exit code of that exit, or -1 if a signal ended it
	Signal    int          // the signal that ended it, or 0
	Backoff   int          // seconds of the backoff wait under way, or 0
	GaveUp    int          // fast exits after which the supervisor gave up, or 0
	// Run is held back until the services it needs are up and ready:
	// those that are not yet (Waiting), those that do not exist
	// (Missing), those that need this service back (Cycle). Each is a
	// "/"-separated list of names, empty when there are none; a list cut
	// short ends in "/...".
	Waiting, Missing, Cycle string
}

const extraMagic = "taikit-extra 1"

// Matches reports whether e describes the state recorded in s.
func (e Extra) Matches(s Status) bool { return e.Status == s.When }

// Append appends e in the file's format to dst.
func (e Extra) Append(dst []byte) []byte {
	dst = append(dst, extraMagic+"\nstatus "...)
	dst = e.Status.Append(dst)
	dst = append(dst, "\nrestarts "...)
	dst = strconv.AppendInt(dst, int64(e.Restarts), 10)
	dst = append(dst, "\nready "...)
	if e.Readiness == Ready {
		dst = e.ReadyWhen.Append(dst)
	} else {
		dst = append(dst, e.Readiness.String()...)
	}
	dst = append(dst, '\n')
	if e.Exited {
		dst = append(dst, "exit "...)
		dst = strconv.AppendInt(dst, int64(e.ExitCode), 10)
		dst = append(dst, ' ')
		dst = strconv.AppendInt(dst, int64(e.Signal), 10)
		dst = append(dst, '\n')
	}
	if e.Backoff > 0 {
		dst = append(dst, "backoff "...)
		dst = strconv.AppendInt(dst, int64(e.Backoff), 10)
		dst = append(dst, '\n')
	}
	if e.GaveUp > 0 {
		dst = append(dst, "gaveup "...)
		dst = strconv.AppendInt(dst, int64(e.GaveUp), 10)
		dst = append(dst, '\n')
	}
	for _, l := range [...]struct{ key, names string }{{"waiting ", e.Waiting}, {"missing ", e.Missing}, {"cycle ", e.Cycle}} {
		if l.names != "" {
			dst = append(dst, l.key...)
			dst = append(dst, l.names...)
			dst = append(dst, '\n')
		}
	}
	return dst
}

// String returns the word the extra file uses for r.
func (r Readiness) String() string {
	if int(r) < len(readinessWords) {
		return readinessWords[r]
	}
	return "readiness(" + strconv.Itoa(int(r)) + ")"
}

// ErrExtraFormat is wrapped by the errors of DecodeExtra.
var ErrExtraFormat = errors.New("not a taikit supervise/extra file")

// DecodeExtra parses the contents of supervise/extra.
func DecodeExtra(b []byte) (Extra, error) {
	var e Extra
	line, rest, _ := bytes.Cut(b, []byte("\n"))
	if string(line) != extraMagic {
		return e, fmt.Errorf("first line %q: %w", line, ErrExtraFormat)
	}
	for len(rest) > 0 {
		line, rest, _ = bytes.Cut(rest, []byte("\n"))
		key, val, _ := bytes.Cut(line, []byte(" "))
		var err error
		switch string(key) {
		case "status":
			e.Status, err = parseAtLabel(val)
		case "restarts":
			e.Restarts, err = strconv.Atoi(string(val))
		case "ready":
			e.Readiness, e.ReadyWhen, err = parseReady(val)
		case "exit":
			code, sig, _ := bytes.Cut(val, []byte(" "))
			e.Exited = true
			if e.ExitCode, err = strconv.Atoi(string(code)); err == nil {
				e.Signal, err = strconv.Atoi(string(sig))
			}
		case "backoff":
			e.Backoff, err = parseCount(val)
		case "gaveup":
			e.GaveUp, err = parseCount(val)
		case "waiting":
			e.Waiting = string(val)
		case "missing":
			e.Missing = string(val)
		case "cycle":
			e.Cycle = string(val)
		}
		if err != nil {
			return Extra{}, fmt.Errorf("line %q: %v: %w", line, err, ErrExtraFormat)
		}
	}
	return e, nil
}

// parseCount parses a positive count; a zero is never written.
func parseCount(b []byte) (int, error) {
	n, err := strconv.Atoi(string(b))
	if err == nil && n < 1 {
		err = fmt.Errorf("%d is not positive", n)
	}
	return n, err
}

func parseAtLabel(b []byte) (tai64n.Label, error) {
	return tai64n.Parse(b)
}

func parseReady(b []byte) (Readiness, tai64n.Label, error) {
	if len(b) > 0 && b[0] == '@' {
		l, err := parseAtLabel(b)
		return Ready, l, err
	}
	for r, w := range readinessWords {
		if string(b) == w && Readiness(r) != Ready {
			return Readiness(r), tai64n.Label{}, nil
		}
	}
	return 0, tai64n.Label{}, fmt.Errorf("unknown readiness %q", b)
}

// ExtraPath returns the path of the extra file of the service in dir.
func ExtraPath(dir string) string { return filepath.Join(dir, "supervise", "extra") }

// MaxExtraSize bounds supervise/extra. A record of this version is at
// most about 190 bytes; the bound leaves room for the lines later versions
// may add. A longer file is not an extra file: it is refused unread beyond
// the bound, so that a huge file (a 1 GB one once took svstat 3.9 GB)
// costs no more than a small one.
const MaxExtraSize = 4096

// ReadExtra reads supervise/extra of the service in dir. Under a
// daemontools supervise the file does not exist (fs.ErrNotExist). A file
// longer than MaxExtraSize is refused (ErrExtraFormat), and one that is not
// a regular file (ErrFileType).
func ReadExtra(dir string) (Extra, error) {
	f, err := openRegular(ExtraPath(dir))
	if err != nil {
		return Extra{}, err
	}
	defer f.Close()
	e, err := readExtra(f)
	if err != nil {
		return Extra{}, fmt.Errorf("%s: %w", ExtraPath(dir), err)
	}
	return e, nil
}

// readExtra decodes an extra file read from r, reading at most
// MaxExtraSize+1 bytes (the one more tells a file that is too long).
func readExtra(r io.Reader) (Extra, error) {
	var buf [MaxExtraSize + 1]byte
	n, err := io.ReadFull(r, buf[:])
	switch {
	case err == nil:
		return Extra{}, fmt.Errorf("longer than %d bytes: %w", MaxExtraSize, ErrExtraFormat)
	case !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF):
		return Extra{}, err
	}
	return DecodeExtra(buf[:n])
}
