package control

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/taikit/taikit/errtext"
	"github.com/taikit/taikit/supervise"
	"github.com/taikit/taikit/tai64n"
)

// job is one verb on one service.
type job struct {
	ctx  context.Context
	dir  string
	opt  Options
	verb Verb // the verb being carried out, for the scripts' SVCTL_VERB
}

// view is one consistent reading of a service's state.
type view struct {
	status supervise.Status
	extra  supervise.Extra
	// reports says extra goes with status: a taikit supervisor keeps it.
	reports bool
}

// look reads the service's state: the supervisor must be running, and
// the extra file is used only when it goes with the status record.
func (j *job) look() (view, *Error) {
	running, err := supervise.Running(j.dir)
	if err != nil {
		return view{}, trouble("unable to open supervise/ok", err)
	}
	if !running {
		return view{}, errNotRunning
	}
	for tries := 0; ; tries++ {
		st, err := supervise.ReadStatus(j.dir)
		if errors.Is(err, fs.ErrNotExist) && tries < 20 {
			// daemontools' supervise opens supervise/ok a moment before
			// it first writes the status.
			if !j.sleep(10 * time.Millisecond) {
				return view{}, interrupted(j.ctx)
			}
			continue
		}
		if err != nil {
			return view{}, trouble("unable to read supervise/status", err)
		}
		ex, err := supervise.ReadExtra(j.dir)
		if err != nil {
			return view{status: st}, nil // daemontools' supervise keeps none
		}
		if ex.Matches(st) {
			return view{status: st, extra: ex, reports: true}, nil
		}
		// taikit's supervisor writes extra just before the status, so a
		// mismatch is either that instant or a file left by a taikit
		// supervisor that daemontools' has since replaced. Only the
		// second lasts.
		if tries >= 3 {
			return view{status: st}, nil
		}
		if !j.sleep(5 * time.Millisecond) {
			return view{}, interrupted(j.ctx)
		}
	}
}

func interrupted(ctx context.Context) *Error {
	return &Error{Reason: "interrupted", Aftermath: "left it as it was", Temporary: true, Err: ctx.Err()}
}

// sleep waits d, or less if the job is cancelled; it reports whether the
// job may go on.
func (j *job) sleep(d time.Duration) bool {
	if d <= 0 {
		return j.ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-j.ctx.Done():
		return false
	}
}

// pacer spaces the looks at a service: often at first, so that a quick
// change is seen quickly, then at most every max, so that a long wait on
// many services costs little.
type pacer struct{ d, max time.Duration }

func (p *pacer) next() time.Duration {
	if p.d == 0 {
		p.d = 10 * time.Millisecond
	}
	if p.max == 0 {
		p.max = 100 * time.Millisecond
	}
	d := p.d
	p.d = min(2*p.d, p.max)
	return d
}

// until looks at the service until cond says done or fails, or the
// deadline passes (timedOut).
func (j *job) until(deadline time.Time, cond func(view) (bool, *Error)) (v view, timedOut bool, err *Error) {
	var p pacer
	for {
		if v, err = j.look(); err != nil {
			return v, false, err
		}
		done, err := cond(v)
		if err != nil || done {
			return v, false, err
		}
		left := time.Until(deadline)
		if left <= 0 {
			return v, true, nil
		}
		if !j.sleep(min(p.next(), left)) {
			return v, false, interrupted(j.ctx)
		}
	}
}

// send writes commands to the supervisor, as svc does.
func (j *job) send(commands string) *Error {
	err := supervise.Control(j.dir, commands)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, supervise.ErrNotRunning):
		return errNotRunning
	}
	return trouble("unable to control supervise", err)
}

// awaitSupervisor waits up to SupervisorWait for a supervisor to run the
// service, so that starting a service just linked into a scan directory
// works.
func (j *job) awaitSupervisor() *Error {
	deadline := time.Now().Add(j.opt.supervisorWait())
	p := pacer{max: 250 * time.Millisecond}
	for {
		running, err := supervise.Running(j.dir)
		if err != nil {
			return trouble("unable to open supervise/ok", err)
		}
		if running {
			return nil
		}
		left := time.Until(deadline)
		if left <= 0 {
			return errNotRunning
		}
		if !j.sleep(min(p.next(), left)) {
			return interrupted(j.ctx)
		}
	}
}

// start brings the service up and waits until it is ready; on failure it
// brings it down again.
func (j *job) start(verb Verb) (done string, pid int, err *Error) {
	j.verb = verb
	if err := j.awaitSupervisor(); err != nil {
		return "", 0, err
	}
	v0, err := j.look()
	if err != nil {
		return "", 0, err
	}
	if !v0.status.Up() {
		// Neither supervisor says why it cannot start run, and taikit's
		// keeps trying quietly: say it now rather than at the timeout.
		if reason := unstartable(j.dir); reason != "" {
			err := failure("%s", reason)
			err.Aftermath = j.bringDown()
			return "", 0, err
		}
	}
	commands := "u"
	if v0.status.Paused {
		commands += "c"
	}
	if err := j.send(commands); err != nil {
		return "", 0, err
	}
	pid, err = j.ready(v0)
	if err != nil {
		if !err.Temporary {
			err.Aftermath = j.bringDown()
		}
		return "", 0, err
	}
	if v0.status.Up() && v0.status.PID == pid {
		return "already up", pid, nil
	}
	return "started", pid, nil
}

// unstartable says why run cannot be started, or "" if it looks fine.
func unstartable(dir string) string {
	fi, err := os.Stat(filepath.Join(dir, "run"))
	switch {
	case err != nil:
		return "unable to start run: " + errtext.Of(err)
	case !fi.Mode().IsRegular():
		return "unable to start run: not a regular file"
	case fi.Mode()&0o111 == 0:
		return "unable to start run: not executable (chmod +x run)"
	}
	return ""
}

// helperResult is the outcome of the start script, or of this package's
// own runs of check.
type helperResult struct {
	name string
	res  scriptResult
}

// ready waits until the run that follows v0 (or v0's own, if it is up) is
// ready, and returns its pid.
func (j *job) ready(v0 view) (int, *Error) {
	deadline := time.Now().Add(j.opt.timeout())
	target := v0.status
	if !target.Up() {
		v, timedOut, err := j.until(deadline, func(v view) (bool, *Error) {
			if v.status.Up() {
				return true, nil
			}
			if v.status.When != v0.status.When {
				return false, exitedEarly(v) // started and exited between two looks
			}
			return false, nil
		})
		if err != nil {
			return 0, err
		}
		if timedOut {
			if w := waitingFor(v); w != "" {
				return 0, failure("run did not start within %s: the supervisor is waiting for %s (see svstat)", seconds(j.opt.timeout()), w)
			}
			return 0, failure("run did not start within %s (see the supervisor's warnings)", seconds(j.opt.timeout()))
		}
		target = v.status
	}
	firstSeen := j.opt.now()

	// Decide who tells readiness, once, from the first view of this run.
	v, err := j.look()
	if err != nil {
		return 0, err
	}
	if v.status.When != target.When || v.status.PID != target.PID {
		return 0, exitedEarly(v)
	}
	supervisorChecks := v.reports && v.extra.Readiness != supervise.NoCheck
	selfCheck := !supervisorChecks && executable(j.dir, "check")
	startScript := executable(j.dir, "start")
	settle := !supervisorChecks && !selfCheck && !startScript
	checkOK := !supervisorChecks && !selfCheck && !settle
	startOK := !startScript

	hctx, cancel := context.WithDeadline(j.ctx, deadline)
	var helpers sync.WaitGroup
	defer func() { cancel(); helpers.Wait() }()
	results := make(chan helperResult, 2) // each helper sends at most once
	if selfCheck {
		helpers.Add(1)
		go func() { defer helpers.Done(); j.checkLoop(hctx, target.PID, results) }()
	}
	if startScript {
		helpers.Add(1)
		go func() {
			defer helpers.Done()
			results <- helperResult{"start", j.runScript(hctx, "start", target.PID)}
		}()
	}

	var p pacer
	for {
		if zombie(target.PID) {
			// Give the supervisor a moment to reap it, so that the message
			// can say how run exited.
			reaped := func(v view) (bool, *Error) { return v.status.When != target.When, nil }
			if v, _, err = j.until(time.Now().Add(1500*time.Millisecond), reaped); err != nil {
				return 0, err
			}
			return 0, exitedEarly(v)
		}
		if v.status.When != target.When || v.status.PID != target.PID {
			return 0, exitedEarly(v)
		}
		if supervisorChecks && v.reports {
			switch v.extra.Readiness {
			case supervise.Ready:
				checkOK = true
			case supervise.CheckFailed:
				return 0, failure("check did not succeed within the supervisor's check timeout (see why ./check fails)")
			}
		}
		if settle && j.stableFor(target.When, firstSeen) >= j.opt.settle() {
			checkOK = true
		}
		if checkOK && startOK {
			return target.PID, nil
		}
		left := time.Until(deadline)
		if left <= 0 {
			return 0, j.notReady(checkOK, startOK, settle)
		}
		select {
		case r := <-results:
			switch {
			case r.name == "check":
				checkOK = true
			case r.res.err == nil:
				startOK = true
			case errors.Is(hctx.Err(), context.DeadlineExceeded):
				// The deadline killed it: say so below.
			case j.ctx.Err() != nil:
				return 0, interrupted(j.ctx)
			default:
				return 0, failure("%s", r.res.describe("start"))
			}
		case <-time.After(min(p.next(), left)):
		case <-j.ctx.Done():
			return 0, interrupted(j.ctx)
		}
		// Look again before believing a helper: run must still be the
		// one it answered for.
		if v, err = j.look(); err != nil {
			return 0, err
		}
	}
}

// waitingFor words the needed services a taikit supervisor holds run back
// for, as its supervise/extra lists them: "db, cache".
func waitingFor(v view) string {
	if !v.reports {
		return ""
	}
	var names []string
	for _, l := range []string{v.extra.Waiting, v.extra.Missing, v.extra.Cycle} {
		if l != "" {
			names = append(names, strings.Split(l, "/")...)
		}
	}
	return strings.Join(names, ", ")
}

// stableFor is how long run has been up, by the earlier of the record's
// stamp and this job's first sight of it (the record may come from a
// clock that runs ahead).
func (j *job) stableFor(when tai64n.Label, firstSeen time.Time) time.Duration {
	since := when.Time(tai64n.Daemontools)
	if since.After(firstSeen) {
		since = firstSeen
	}
	return j.opt.now().Sub(since)
}

func (j *job) notReady(checkOK, startOK, settle bool) *Error {
	after := "not ready after " + seconds(j.opt.timeout())
	switch {
	case settle:
		return failure("%s: run has not stayed up for %s", after, seconds(j.opt.settle()))
	case !checkOK && !startOK:
		return failure("%s: neither check nor start has succeeded", after)
	case !checkOK:
		return failure("%s: check has not succeeded (see why ./check fails, or allow longer)", after)
	}
	return failure("%s: start has not finished (see why the daemon does not answer, or allow longer)", after)
}

// zombie reports whether the process pid has exited but its parent has
// not yet reaped it. daemontools' supervise sleeps a second after each
// start before it looks at its children, so a run that exits at once
// stays "up" in the status record for that second: without this, a run
// that fails at once could look settled. Where /proc cannot tell, it
// reports false.
func zombie(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return errors.Is(err, fs.ErrNotExist) && procMounted()
	}
	// pid (comm) state ...: comm may hold anything, so look after its
	// last closing parenthesis.
	i := bytes.LastIndexByte(b, ')')
	return i >= 0 && i+2 < len(b) && (b[i+2] == 'Z' || b[i+2] == 'X')
}

func procMounted() bool {
	_, err := os.Stat("/proc/self/stat")
	return err == nil
}

// exitedEarly words the end of a run that exited before it was ready.
func exitedEarly(v view) *Error {
	how := "exited"
	if v.reports && v.extra.Exited {
		if v.extra.Signal != 0 {
			how = "was killed by signal " + strconv.Itoa(v.extra.Signal)
		} else {
			how = "exited " + strconv.Itoa(v.extra.ExitCode)
		}
	}
	return failure("run %s before it was ready (see the service's log)", how)
}

// checkLoop runs check until it exits 0, pausing between attempts as the
// supervisor does, and reports success on out; it gives up quietly when
// ctx ends.
func (j *job) checkLoop(ctx context.Context, pid int, out chan<- helperResult) {
	p := pacer{d: 20 * time.Millisecond, max: time.Second}
	for {
		res := j.runScript(ctx, "check", pid)
		if res.err == nil {
			out <- helperResult{"check", res}
			return
		}
		t := time.NewTimer(p.next())
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return
		}
	}
}

// bringDown undoes a failed start and says how that went.
func (j *job) bringDown() string {
	v0, err := j.look()
	if err != nil {
		return "could not bring it down: " + err.Reason
	}
	if err := j.send("d"); err != nil {
		return "could not bring it down: " + err.Reason
	}
	// Even when v0 is down, wait for the supervisor to take the command:
	// v0 may be the moment between daemontools' supervise reaping a run
	// and starting the next.
	done, err := j.awaitExit(v0.status, true)
	if err != nil {
		return "could not bring it down: " + err.Reason
	}
	if done == "stopped by KILL" {
		return "brought it down again with KILL"
	}
	return "brought it down again"
}

// stop runs the stop script until it agrees, brings the service down and
// waits until run has exited.
func (j *job) stop(verb Verb) (string, *Error) {
	j.verb = verb
	v0, err := j.look()
	if err != nil {
		return "", err
	}
	if !v0.status.Up() {
		// Make sure it stays down: it may be waiting for a restart.
		if err := j.send("d"); err != nil {
			return "", err
		}
		done, err := j.awaitExit(v0.status, true)
		if err != nil {
			return "", err
		}
		if done == "stopped by KILL" {
			return done, nil // a restart came first, and ignored TERM
		}
		return "already down", nil
	}
	if err := j.gate(v0); err != nil {
		return "", err
	}
	if err := j.send("d"); err != nil {
		return "", err
	}
	return j.awaitExit(v0.status, true)
}

// gate runs the stop script, if the service has one, until it exits 0,
// the service goes down by itself, or the time is up.
func (j *job) gate(v0 view) *Error {
	if !executable(j.dir, "stop") {
		return nil
	}
	deadline := time.Now().Add(j.opt.timeout())
	ctx, cancel := context.WithDeadline(j.ctx, deadline)
	defer cancel()
	p := pacer{d: 100 * time.Millisecond, max: time.Second}
	var refusal *scriptResult // the last run that exited by itself, refusing
	refused := func() *Error {
		return &Error{
			Reason:    "stop refused for " + seconds(j.opt.timeout()) + ": " + refusal.describe("stop"),
			Aftermath: "left it running",
		}
	}
	for {
		res := j.runScript(ctx, "stop", v0.status.PID)
		if res.err == nil {
			return nil
		}
		if j.ctx.Err() != nil {
			return interrupted(j.ctx)
		}
		if ctx.Err() != nil {
			// The deadline cut this run short.
			if refusal != nil {
				return refused()
			}
			return &Error{Reason: "stop did not finish within " + seconds(j.opt.timeout()), Aftermath: "left it running"}
		}
		refusal = &res
		v, err := j.look()
		if err != nil {
			return err
		}
		if v.status.When != v0.status.When || v.status.PID != v0.status.PID {
			return nil // run exited by itself meanwhile
		}
		if !j.sleep(min(p.next(), time.Until(deadline))) {
			return interrupted(j.ctx)
		}
		if time.Until(deadline) <= 0 {
			return refused()
		}
	}
}

// awaitExit waits until the run recorded in target has exited, with KILL
// after the timeout if the options say so.
//
// After a down command (down), it waits instead until the status says the
// service is down and wanted down: until the supervisor has taken the
// command, the exit of target's run means little, as daemontools'
// supervise reaps a run that exits and starts the next before it reads
// its control FIFO, then sleeps a second after the start.
func (j *job) awaitExit(target supervise.Status, down bool) (string, *Error) {
	gone := func(v view) (bool, *Error) {
		if down {
			return !v.status.Up() && v.status.Want == supervise.WantDown, nil
		}
		return v.status.When != target.When || v.status.PID != target.PID, nil
	}
	v, timedOut, err := j.until(time.Now().Add(j.opt.timeout()), gone)
	if err != nil {
		return "", err
	}
	if !timedOut {
		return "stopped", nil
	}
	if !v.status.Up() {
		return "", notTaken(j.opt.timeout())
	}
	if !j.opt.Kill {
		return "", failure("run (pid %d) still running %s after TERM (it may ignore TERM; KILL it with svc -k)",
			v.status.PID, seconds(j.opt.timeout()))
	}
	if err := j.send("k"); err != nil {
		return "", err
	}
	if v, timedOut, err = j.until(time.Now().Add(j.opt.killWait()), gone); err != nil {
		return "", err
	}
	if timedOut {
		if !v.status.Up() {
			return "", notTaken(j.opt.killWait())
		}
		return "", failure("run (pid %d) still running %s after KILL", v.status.PID, seconds(j.opt.killWait()))
	}
	return "stopped by KILL", nil
}

// notTaken is the failure of a supervisor that shows the service down but
// not wanted down long after it was sent the down command.
func notTaken(d time.Duration) *Error {
	return &Error{
		Reason:    "supervise has not taken the down command within " + seconds(d),
		Temporary: true,
	}
}

// restart stops and starts a running service: the stop script may refuse,
// then run gets TERM with the service still wanted up, and the new run
// must become ready. A service that is down is left down.
func (j *job) restart() (string, int, *Error) {
	j.verb = Restart
	v0, err := j.look()
	if err != nil {
		return "", 0, err
	}
	if !v0.status.Up() {
		return "not running, left down", 0, nil
	}
	if err := j.gate(v0); err != nil {
		return "", 0, err
	}
	commands := "ut"
	if v0.status.Paused {
		commands += "c" // a stopped process handles TERM only once continued
	}
	if err := j.send(commands); err != nil {
		return "", 0, err
	}
	if _, err := j.awaitExit(v0.status, false); err != nil {
		if !err.Temporary {
			err.Aftermath = "left it running"
		}
		return "", 0, err
	}
	v1, err := j.look()
	if err != nil {
		return "", 0, err
	}
	pid, err := j.ready(v1)
	if err != nil {
		if !err.Temporary {
			err.Aftermath = j.bringDown()
		}
		return "", 0, err
	}
	return "restarted", pid, nil
}
