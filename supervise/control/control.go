// Package control carries out the verbs that sites used to write as
// svcstart, svcstop, svcreset and svcrestart scripts around svc: it sends a
// supervisor the command, then watches the service until the command has
// really taken effect (run up and ready, or run gone), and says plainly
// what failed when it has not.
//
// It drives any supervisor that keeps daemontools' layout (taikit's or
// daemontools' own supervise) through package supervise. Readiness comes
// from, in this order of preference:
//
//   - taikit's supervisor, which runs the service's check script after
//     every start and records the answer in supervise/extra;
//   - the check script run by this package itself, when the supervisor
//     does not report readiness (daemontools' supervise);
//   - an optional start script, run once after run is up, which polls
//     until the daemon answers (exit 0: ready; anything else: failure);
//   - with neither check nor start, run staying up for Options.Settle
//     without exiting.
//
// An optional stop script is run before a service is brought down (stop,
// restart) and can refuse while the daemon is busy: it is run again until it
// agrees or the time is up, so that a pipeline is stopped only when idle.
package control

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/taikit/taikit/errtext"
	"github.com/taikit/taikit/supervise"
)

// Verb is one of the four verified controls.
type Verb int

const (
	// Start brings the service up and waits until it is ready. On failure
	// it brings the service down again.
	Start Verb = iota + 1
	// Stop runs the stop script (if any) until it agrees, brings the
	// service down and waits until run has exited.
	Stop
	// Reset starts the service unless its directory has a down file, and
	// stops it otherwise: it puts the service in its normal state.
	Reset
	// Restart stops and starts a service that is running, keeping it
	// wanted up throughout (TERM, and supervise restarts run); a service
	// that is down is left down.
	Restart
)

var verbNames = [...]string{Start: "start", Stop: "stop", Reset: "reset", Restart: "restart"}

func (v Verb) String() string {
	if v >= Start && v <= Restart {
		return verbNames[v]
	}
	return "verb(" + strconv.Itoa(int(v)) + ")"
}

// ParseVerb returns the verb named s ("start", "stop", "reset", "restart").
func ParseVerb(s string) (Verb, bool) {
	for v := Start; v <= Restart; v++ {
		if verbNames[v] == s {
			return v, true
		}
	}
	return 0, false
}

// Defaults of Options.
const (
	// DefaultTimeout bounds each wait: for the supervisor to appear, for
	// readiness, for the stop script to agree, for run to exit.
	DefaultTimeout = 30 * time.Second
	// DefaultSettle is how long run must stay up, when nothing else tells
	// readiness, to count as started: longer than supervise's one-second
	// restart throttle, so that a run that exits at once is seen failing.
	DefaultSettle = time.Second
	// DefaultKillWait is how long run may take to disappear after KILL.
	DefaultKillWait = 5 * time.Second
	// DefaultSupervisorWait is how long Start and Reset wait for a
	// supervisor that is not running yet: svscan notices a new service
	// directory within its 5-second rescan.
	DefaultSupervisorWait = 6 * time.Second
)

// Options tune the verbs; the zero value means the defaults.
type Options struct {
	// Timeout bounds each wait (see DefaultTimeout).
	Timeout time.Duration
	// Settle is how long run must stay up to count as started when the
	// service has neither a check nor a start script.
	Settle time.Duration
	// Kill makes a run that is still there when a wait for its exit times
	// out get KILL (svc -k), then KillWait more to disappear.
	Kill     bool
	KillWait time.Duration
	// SupervisorWait is how long Start and Reset wait for a supervisor
	// to appear; it never exceeds Timeout.
	SupervisorWait time.Duration
	// Env is the environment of the start, stop and check scripts, to
	// which SVCTL_VERB and SVCTL_PID are added; nil means os.Environ().
	Env []string
	// Clock tells the time for readiness by Settle and for Result.Took;
	// nil means time.Now. Waits themselves use real timers.
	Clock func() time.Time
}

func (o *Options) timeout() time.Duration  { return orDefault(o.Timeout, DefaultTimeout) }
func (o *Options) settle() time.Duration   { return orDefault(o.Settle, DefaultSettle) }
func (o *Options) killWait() time.Duration { return orDefault(o.KillWait, DefaultKillWait) }
func (o *Options) supervisorWait() time.Duration {
	return min(orDefault(o.SupervisorWait, DefaultSupervisorWait), o.timeout())
}
func (o *Options) now() time.Time {
	if o.Clock != nil {
		return o.Clock()
	}
	return time.Now()
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// Result is the outcome of a verb on one service.
type Result struct {
	Dir  string
	Verb Verb
	// Done says what happened when the verb succeeded: "started",
	// "already up", "stopped", "already down", "stopped by KILL",
	// "restarted", "not running, left down".
	Done string
	// PID is run's pid when the verb left it up.
	PID int
	// Took is how long the verb took.
	Took time.Duration
	// Err is why the verb failed, nil when it succeeded. It is an *Error.
	Err error
}

// OK reports whether the verb succeeded.
func (r Result) OK() bool { return r.Err == nil }

// Temporary reports whether the verb failed for a reason that is not the
// service's: no supervisor, a status that cannot be read, an interruption.
func (r Result) Temporary() bool {
	var e *Error
	return errors.As(r.Err, &e) && e.Temporary
}

// Error is why a verb failed.
type Error struct {
	// Reason says what went wrong and, where it helps, what to do:
	// "check did not succeed within 30 seconds".
	Reason string
	// Aftermath says what was done about it: "brought it down again",
	// "left it running".
	Aftermath string
	// Temporary is set when the service was not at fault (see
	// Result.Temporary).
	Temporary bool
	// Err is the underlying error, if any (supervise.ErrNotRunning, a
	// system error).
	Err error
}

func (e *Error) Error() string {
	if e.Aftermath == "" {
		return e.Reason
	}
	return e.Reason + "; " + e.Aftermath
}

func (e *Error) Unwrap() error { return e.Err }

func failure(format string, args ...any) *Error {
	return &Error{Reason: fmt.Sprintf(format, args...)}
}

// trouble is a temporary failure caused by err.
func trouble(what string, err error) *Error {
	return &Error{Reason: what + ": " + errtext.Of(err), Temporary: true, Err: err}
}

var errNotRunning = &Error{
	Reason:    "supervise not running",
	Temporary: true,
	Err:       supervise.ErrNotRunning,
}

// Do carries out verb on the service in dir and waits for its effect.
// Cancelling ctx stops the waits; the service is then left as it is and the
// result is a temporary failure.
func Do(ctx context.Context, dir string, verb Verb, opt Options) Result {
	j := &job{ctx: ctx, dir: dir, opt: opt}
	begin := opt.now()
	r := Result{Dir: dir, Verb: verb}
	var err *Error
	if serr := supervise.Searchable(dir); serr != nil {
		// svstat's words; the supervisor could not run there either.
		verb, err = 0, trouble("unable to chdir", serr)
	}
	switch verb {
	case 0:
	case Start:
		r.Done, r.PID, err = j.start(verb)
	case Stop:
		r.Done, err = j.stop(verb)
	case Reset:
		_, statErr := os.Stat(filepath.Join(dir, "down"))
		switch {
		case statErr == nil:
			r.Done, err = j.stop(verb)
		case errors.Is(statErr, syscall.ENOENT):
			r.Done, r.PID, err = j.start(verb)
		default:
			err = trouble("unable to stat down", statErr)
		}
	case Restart:
		r.Done, r.PID, err = j.restart()
	default:
		err = failure("unknown verb %v", verb)
	}
	if err != nil {
		if ctx.Err() != nil && !err.Temporary {
			err = &Error{Reason: "interrupted", Aftermath: "left it as it was", Temporary: true, Err: ctx.Err()}
		}
		r.Err, r.Done, r.PID = err, "", 0
	}
	r.Took = opt.now().Sub(begin)
	return r
}

// executable reports whether dir/name is a regular file someone may
// execute, as the supervisor decides for check and finish.
func executable(dir, name string) bool {
	fi, err := os.Stat(filepath.Join(dir, name))
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// seconds words a duration for messages: "30 seconds", "1.5 seconds".
func seconds(d time.Duration) string {
	s := strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
	if s == "1" {
		return "1 second"
	}
	return s + " seconds"
}
