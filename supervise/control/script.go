package control

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	"github.com/taikit/taikit/errtext"
)

// scriptResult is how one run of a service's start, stop or check script
// ended.
type scriptResult struct {
	err error  // nil when it exited 0
	out []byte // the end of what it wrote to stdout and stderr
}

// tailLimit bounds what is kept of a script's output: enough for its
// last line, the one a failure message quotes.
const tailLimit = 4096

// runScript runs ./name in the service directory with standard input
// from /dev/null and its output kept for messages. The script gets its own
// process group, killed as a whole when ctx ends, so that a script stuck
// in a poll does not outlive the wait it serves.
func (j *job) runScript(ctx context.Context, name string, pid int) scriptResult {
	cmd := exec.CommandContext(ctx, "./"+name)
	cmd.Dir = j.dir
	env := j.opt.Env
	if env == nil {
		env = os.Environ()
	}
	cmd.Env = append(env[:len(env):len(env)], "SVCTL_VERB="+j.verb.String(), "SVCTL_PID="+strconv.Itoa(pid))
	tail := &tailBuffer{}
	cmd.Stdout, cmd.Stderr = tail, tail // one writer: exec copies with one goroutine
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	// A daemon the script started in the background may hold the output
	// pipe open for ever; stop reading it soon after the script exits.
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	if errors.Is(err, exec.ErrWaitDelay) {
		err = nil // the script itself exited 0
	}
	return scriptResult{err: err, out: tail.b}
}

// describe words a failed run of the script called name: "start exited
// 2: connection refused", "stop was killed by signal 9".
func (r scriptResult) describe(name string) string {
	var msg string
	var ee *exec.ExitError
	switch {
	case errors.As(r.err, &ee):
		ws, _ := ee.Sys().(syscall.WaitStatus)
		if ws.Signaled() {
			msg = name + " was killed by signal " + strconv.Itoa(int(ws.Signal()))
		} else {
			msg = name + " exited " + strconv.Itoa(ee.ExitCode())
		}
	default:
		return "unable to run " + name + ": " + errtext.Of(r.err)
	}
	if line := lastLine(r.out); line != "" {
		msg += ": " + line
	}
	return msg
}

// lastLine is the last non-empty line of b, at most 200 bytes of it.
func lastLine(b []byte) string {
	b = bytes.TrimRight(b, "\n\r\t ")
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		b = b[i+1:]
	}
	if len(b) > 200 {
		b = append(b[:200:200], "..."...)
	}
	return string(bytes.TrimSpace(b))
}

// tailBuffer keeps the last tailLimit bytes written to it.
type tailBuffer struct{ b []byte }

func (t *tailBuffer) Write(p []byte) (int, error) {
	n := len(p)
	if len(p) >= tailLimit {
		t.b = append(t.b[:0], p[len(p)-tailLimit:]...)
		return n, nil
	}
	if over := len(t.b) + len(p) - tailLimit; over > 0 {
		t.b = append(t.b[:0], t.b[over:]...)
	}
	t.b = append(t.b, p...)
	return n, nil
}
