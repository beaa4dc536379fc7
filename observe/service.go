package observe

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/taikit/taikit/errtext"
	"github.com/taikit/taikit/supervise"
	"github.com/taikit/taikit/tai64n"
)

// Service is the state of one service, what svstat says of it as data.
// Fields that depend on a running supervisor are zero when Supervised is
// false; those from supervise/extra are zero when Extra is false.
type Service struct {
	// Name is the service's path under its scan directory: "qmail",
	// "qmail/log".
	Name string `json:"service"`
	// Dir is the service directory.
	Dir string `json:"dir"`
	// Error says why the state could not be read, in svstat's words
	// ("unable to open supervise/status: file does not exist"); the
	// fields below it that need what failed are zero.
	Error string `json:"error,omitempty"`
	// NormallyUp: the directory has no down file.
	NormallyUp bool `json:"normally_up"`
	// Supervised: a supervisor runs for the service (svok).
	Supervised bool `json:"supervised"`

	Up     bool   `json:"up"`
	PID    int    `json:"pid,omitempty"`
	Paused bool   `json:"paused"`
	Want   string `json:"want"` // "up", "down", "once" or "" (not known)
	// Since is when run last started (Up) or exited; zero if not known.
	Since time.Time `json:"since,omitzero"`

	// Extra: a taikit supervisor's supervise/extra goes with this state,
	// and the fields below are known.
	Extra bool `json:"extra"`
	// Readiness is "unchecked" (no check script), "checking", "ready" or
	// "failed".
	Readiness  string    `json:"readiness,omitempty"`
	ReadySince time.Time `json:"ready_since,omitzero"`
	// Restarts counts automatic restarts since the supervisor started.
	Restarts int `json:"restarts"`
	// LastExit is run's last exit, nil before it has exited once.
	LastExit *Exit `json:"last_exit,omitempty"`
	// Backoff is the seconds of a backoff wait under way, 0 if none.
	Backoff int `json:"backoff,omitempty"`
	// GaveUp is the number of fast exits after which the supervisor gave
	// up restarting run, 0 if it has not.
	GaveUp int `json:"gave_up,omitempty"`
	// Waiting, Missing and Cycle hold run back (a needs/ directory): the
	// services it needs that are not up and ready yet, those that do not
	// exist, those that need it back. A list cut short ends in "...".
	Waiting []string `json:"waiting,omitempty"`
	Missing []string `json:"missing,omitempty"`
	Cycle   []string `json:"cycle,omitempty"`

	dirRead     bool // the directory and its down file could be read
	runningRead bool // whether a supervisor runs is known
	// The records read, for Text: the status (when Error is empty) and
	// the extra file that goes with it (hasExtra, as Extra).
	status supervise.Status
	extra  supervise.Extra
}

// Text returns svstat's words for the state read (after "dir: "), made
// of the same read as the fields: the Error, or the state as of now.
func (s *Service) Text(now time.Time) string {
	if s.Error != "" {
		return s.Error
	}
	return supervise.Words(s.status, s.NormallyUp, s.extra, s.Extra, now)
}

// DirRead reports whether the service directory could be read: NormallyUp
// is known.
func (s *Service) DirRead() bool { return s.dirRead }

// RunningKnown reports whether Supervised is known: false when
// supervise/ok could not be opened for another reason than nobody
// reading it.
func (s *Service) RunningKnown() bool { return s.runningRead }

// Exit is how run last ended.
type Exit struct {
	Code   int `json:"code"`   // exit code, or -1 when a signal ended it
	Signal int `json:"signal"` // the signal, or 0
}

// Ready reports whether the service is up and ready: its check script
// succeeded, or a taikit supervisor runs it without one. ok is false when
// readiness is not known (daemontools' supervise, or down).
func (s *Service) Ready() (ready, ok bool) {
	if !s.Extra {
		return false, false
	}
	switch s.Readiness {
	case "ready", "unchecked":
		return s.Up, true
	}
	return false, true
}

var wantWords = map[supervise.Want]string{supervise.WantUp: "up", supervise.WantDown: "down", supervise.WantNone: "once"}

// ReadService reads the state of the service in dir, named name. It
// reads what svstat reads, in the same order, and stops at the same
// failures (see supervise.Describe).
func ReadService(dir, name string) Service {
	s := Service{Name: name, Dir: dir}
	if err := supervise.Searchable(dir); err != nil {
		s.Error = "unable to chdir: " + errtext.Of(err)
		return s
	}
	if _, err := os.Stat(filepath.Join(dir, "down")); err == nil {
		s.NormallyUp = false
	} else if errors.Is(err, syscall.ENOENT) {
		s.NormallyUp = true
	} else {
		s.Error = "unable to stat down: " + errtext.Of(err)
		return s
	}
	s.dirRead = true
	running, err := supervise.Running(dir)
	if err != nil {
		s.Error = "unable to open supervise/ok: " + errtext.Of(err)
		return s
	}
	s.runningRead = true
	if !running {
		s.Error = "supervise not running"
		return s
	}
	s.Supervised = true
	st, err := supervise.ReadStatus(dir)
	if err != nil {
		s.Error = statusError(err)
		return s
	}
	s.Up, s.PID, s.Paused = st.Up(), st.PID, st.Paused
	s.Want = wantWords[st.Want]
	s.Since = st.When.Time(tai64n.Daemontools)
	// An extra file that does not parse (a newer format this version
	// cannot read, a damaged file) or goes with another state is left out:
	// what daemontools' record says still holds.
	s.status = st
	if ex, err := supervise.ReadExtra(dir); err == nil && ex.Matches(st) {
		s.Extra, s.extra = true, ex
		s.Readiness = ex.Readiness.String()
		if ex.Readiness == supervise.Ready {
			s.ReadySince = ex.ReadyWhen.Time(tai64n.Daemontools)
		}
		s.Restarts = ex.Restarts
		if ex.Exited {
			s.LastExit = &Exit{Code: ex.ExitCode, Signal: ex.Signal}
		}
		s.Backoff, s.GaveUp = ex.Backoff, ex.GaveUp
		s.Waiting, s.Missing, s.Cycle = names(ex.Waiting), names(ex.Missing), names(ex.Cycle)
	}
	return s
}

// names splits one of supervise/extra's "/"-separated lists; nil for an
// empty one.
func names(list string) []string {
	if list == "" {
		return nil
	}
	return strings.Split(list, "/")
}

// statusError words a failure to read supervise/status as svstat does.
func statusError(err error) string {
	cause := err
	var pe *fs.PathError
	if errors.As(err, &pe) {
		cause = pe.Err
	}
	switch {
	case errors.Is(err, supervise.ErrBadFormat):
		return "unable to read supervise/status: bad format"
	case errors.Is(err, supervise.ErrFileType), errors.Is(err, syscall.EISDIR):
		return "unable to read supervise/status: " + errtext.Of(cause)
	case pe != nil && pe.Op == "open":
		return "unable to open supervise/status: " + errtext.Of(cause)
	}
	return "unable to read supervise/status: " + errtext.Of(cause)
}
