package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// Sample is the measurement of one run of one contender.
type Sample struct {
	Wall     time.Duration `json:"wall_ns"`
	User     time.Duration `json:"user_ns"`
	Sys      time.Duration `json:"sys_ns"`
	MaxRSS   int64         `json:"max_rss_bytes"`        // best estimate of the peak; see rss.go
	RSSKind  string        `json:"rss_kind,omitempty"`   // how MaxRSS was obtained: rssExact, rssSampled, rssAtMost
	Rusage   int64         `json:"rusage_max_rss_bytes"` // ru_maxrss as the kernel reported it
	OutBytes int64         `json:"out_bytes,omitempty"`  // only counted when stdout is a pipe
}

// CPU is the processor time the run used, user plus system.
func (s Sample) CPU() time.Duration { return s.User + s.Sys }

// invocation is everything needed to start one process, already resolved.
type invocation struct {
	Argv  []string
	Env   []string
	Dir   string // working directory
	Stdin string // file opened fresh for every run
	// StdinPipe gives the process a pipe that the harness fills from Stdin while it runs, as
	// `cat file |` would.
	StdinPipe bool
	Stdout    StdoutMode
	// StderrFile receives the process's stderr. A file rather than a buffer keeps the harness
	// from running a copying goroutine inside the timed region.
	StderrFile string
	// Until, when set, ends the run of a program that does not exit by itself: see
	// Contender.Until.
	Until func() (bool, error)
}

// maxStderr bounds how much of a failing program's stderr ends up in the report.
const maxStderr = 2000

// measure runs inv once and times it from just before start to just after the process has
// been reaped and all of its output consumed. A non-zero exit or anything on stderr is an
// error carrying the stderr text.
func measure(ctx context.Context, inv invocation, drainBuf []byte) (Sample, error) {
	stdin, err := os.Open(inv.Stdin)
	if err != nil {
		return Sample{}, err
	}
	defer stdin.Close()
	stderr, err := os.Create(inv.StderrFile)
	if err != nil {
		return Sample{}, err
	}
	defer stderr.Close()

	cmd := exec.CommandContext(ctx, inv.Argv[0], inv.Argv[1:]...)
	cmd.Stdin, cmd.Stderr, cmd.Dir, cmd.Env = stdin, stderr, inv.Dir, inv.Env
	var feedR, feedW *os.File
	if inv.StdinPipe {
		if feedR, feedW, err = os.Pipe(); err != nil {
			return Sample{}, err
		}
		defer feedR.Close()
		defer feedW.Close()
		cmd.Stdin = feedR
	}

	// With a pipe, stdout goes to pw and the harness reads pr; otherwise straight to /dev/null.
	var pr, pw *os.File
	if inv.Stdout == StdoutPipe {
		if pr, pw, err = os.Pipe(); err != nil {
			return Sample{}, err
		}
		defer pr.Close()
		defer pw.Close() // normally closed already, right after Start; a second Close is harmless
		cmd.Stdout = pw
	} else {
		null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
		if err != nil {
			return Sample{}, err
		}
		defer null.Close()
		cmd.Stdout = null
	}

	start := time.Now()
	if err := cmd.Start(); err != nil {
		return Sample{}, err
	}
	hwm := sampleHWM(cmd.Process.Pid)
	fed := make(chan struct{})
	if feedW != nil {
		// The child has its copy of the read end; the harness feeds the write end alongside
		// it, and closes it at the end of the file: the child's end of input. A child that
		// exits early makes the copy fail with EPIPE, which its own exit status reports.
		feedR.Close()
		go func() {
			defer close(fed)
			io.Copy(feedW, stdin)
			feedW.Close()
		}()
	} else {
		close(fed)
	}
	counted := make(chan int64, 1)
	if pr != nil {
		// Our copy of the write end must go, or the reader never sees EOF; and the reading has
		// to run alongside the child, which would otherwise block on a full pipe.
		pw.Close()
		go func() { counted <- drain(pr, drainBuf) }()
	} else {
		counted <- 0
	}
	var wall time.Duration
	var untilErr, waitErr error
	said := int64(-1) // the stderr that counts: all of it, or what came before a stop
	if inv.Until != nil {
		wall, untilErr, waitErr = waitUntil(cmd, inv.Until, start, func() {
			if fi, err := stderr.Stat(); err == nil {
				said = fi.Size()
			}
		})
	} else {
		waitErr = cmd.Wait()
	}
	<-fed
	out := <-counted
	if inv.Until == nil {
		wall = time.Since(start)
	}
	sampled := hwm.Stop()
	if ctx.Err() != nil {
		return Sample{}, ctx.Err()
	}
	if untilErr != nil {
		if msg := readStderr(inv.StderrFile, -1); msg != "" {
			untilErr = fmt.Errorf("%v; stderr: %s", untilErr, msg)
		}
		return Sample{}, untilErr
	}
	return finishSample(cmd, wall, out, sampled, waitErr, inv.StderrFile, said)
}

// waitUntil asks until every 10 ms while cmd runs; once it reports done, it takes the wall
// time, calls stopping, stops cmd with SIGTERM and reaps it. A program that exits before, or
// an error of until, fails the run; the exit status after SIGTERM is the program's own.
func waitUntil(cmd *exec.Cmd, until func() (bool, error), start time.Time, stopping func()) (time.Duration, error, error) {
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		done, err := until()
		if done || err != nil {
			wall := time.Since(start)
			stopping()
			cmd.Process.Signal(syscall.SIGTERM)
			return wall, err, <-exited
		}
		select {
		case err := <-exited:
			return 0, fmt.Errorf("exited (%v) before its work was done", err), err
		case <-tick.C:
		}
	}
}

// finishSample turns a reaped process into a Sample, or into an error with its stderr.
func finishSample(cmd *exec.Cmd, wall time.Duration, out, sampledRSS int64, waitErr error, stderrFile string, said int64) (Sample, error) {
	msg := readStderr(stderrFile, said)
	switch {
	case waitErr != nil && msg != "":
		return Sample{}, fmt.Errorf("%v; stderr: %s", waitErr, msg)
	case waitErr != nil:
		return Sample{}, waitErr
	case msg != "":
		return Sample{}, fmt.Errorf("wrote to stderr: %s", msg)
	}
	s := Sample{Wall: wall, User: cmd.ProcessState.UserTime(), Sys: cmd.ProcessState.SystemTime(), OutBytes: out}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		s.Rusage = int64(ru.Maxrss) * 1024 // ru_maxrss is in KiB on Linux...
		if runtime.GOOS == "darwin" {
			s.Rusage = int64(ru.Maxrss) // ...and in bytes on macOS
		}
	}
	// Read after the child is gone: the harness's peak only grows, so this is at least the
	// floor the kernel folded into the child's ru_maxrss.
	s.MaxRSS, s.RSSKind = peakRSS(s.Rusage, sampledRSS, readHWM("/proc/self/status"))
	return s, nil
}

// drain reads r to EOF and returns the number of bytes read.
func drain(r io.Reader, buf []byte) int64 {
	var n int64
	for {
		m, err := r.Read(buf)
		n += int64(m)
		if err != nil {
			return n
		}
	}
}

// readStderr returns what the program wrote on stderr, its first n bytes when n >= 0: a
// daemon's notices as it stops are no failure.
func readStderr(path string, n int64) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(reading captured stderr: %v)", err)
	}
	if n >= 0 && int64(len(b)) > n {
		b = b[:n]
	}
	s := strings.TrimSpace(string(b))
	if len(s) > maxStderr {
		s = s[:maxStderr] + " …(truncated)"
	}
	return s
}
