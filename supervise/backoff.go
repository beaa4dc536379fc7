package supervise

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
)

// Backoff is what a service's backoff file asks for: after each fast exit
// of run (sooner than Max seconds after it started) the wait before the
// next start doubles from Min up to Max; after GiveUp consecutive fast
// exits (0: never) the supervisor stops starting run.
type Backoff struct {
	Min, Max, GiveUp int // seconds, seconds, exits
}

// Bounds of a backoff file. A day is longer than anyone waits for a
// restart and keeps every product with a time unit far from overflow.
const (
	maxBackoffSeconds = 86400
	maxBackoffSize    = 256
)

// ErrBackoffFormat is wrapped by the errors of ParseBackoff.
var ErrBackoffFormat = errors.New("malformed backoff file")

// BackoffError says which line of a backoff file is wrong and why.
type BackoffError struct {
	Line   int // 1-based
	Reason string
}

func (e *BackoffError) Error() string   { return "line " + strconv.Itoa(e.Line) + ": " + e.Reason }
func (e *BackoffError) Is(t error) bool { return t == ErrBackoffFormat }

// ParseBackoff parses a backoff file: one line "MIN MAX" or "MIN MAX
// GIVEUP", whole numbers, 1 <= MIN <= MAX <= 86400, GIVEUP >= 1. Blank
// lines are ignored; anything else is refused with a *BackoffError naming
// the line, so that a typo is reported rather than half obeyed.
func ParseBackoff(b []byte) (Backoff, error) {
	var bo Backoff
	seen := false
	for n := 1; len(b) > 0; n++ {
		var line []byte
		line, b, _ = bytes.Cut(b, []byte("\n"))
		fields := bytes.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if seen {
			return Backoff{}, &BackoffError{n, "more than one line of numbers"}
		}
		seen = true
		if len(fields) < 2 || len(fields) > 3 {
			return Backoff{}, &BackoffError{n, fmt.Sprintf("%d numbers, want MIN MAX [GIVEUP]", len(fields))}
		}
		var v [3]int
		for i, f := range fields {
			x, err := strconv.Atoi(string(f))
			if err != nil || x < 1 || x > maxBackoffSeconds {
				return Backoff{}, &BackoffError{n, fmt.Sprintf("%q is not a whole number from 1 to %d", f, maxBackoffSeconds)}
			}
			v[i] = x
		}
		if v[0] > v[1] {
			return Backoff{}, &BackoffError{n, fmt.Sprintf("MIN %d is more than MAX %d", v[0], v[1])}
		}
		bo = Backoff{v[0], v[1], v[2]}
	}
	if !seen {
		return Backoff{}, &BackoffError{1, "empty, want MIN MAX [GIVEUP]"}
	}
	return bo, nil
}

// readBackoff reads and parses a backoff file from r, reading at most
// maxBackoffSize+1 bytes.
func readBackoff(r io.Reader) (Backoff, error) {
	var buf [maxBackoffSize + 1]byte
	n, err := io.ReadFull(r, buf[:])
	switch {
	case err == nil:
		return Backoff{}, &BackoffError{1, fmt.Sprintf("longer than %d bytes", maxBackoffSize)}
	case !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF):
		return Backoff{}, err
	}
	return ParseBackoff(buf[:n])
}

// backoffState is a supervisor's memory of fast exits.
type backoffState struct {
	next      int       // seconds of the next wait; 0: Min
	fast      int       // consecutive fast exits
	restartAt time.Time // no start before this (zero: no backoff wait)
	gaveUp    bool
	told      bool   // svc -t, -k or -i was sent to the run now up
	warned    string // the last warning about the file, said once
}

func (b *backoffState) reset() {
	// told is about the run now up, not the past: svc -tu still counts.
	b.next, b.fast, b.restartAt, b.gaveUp = 0, 0, time.Time{}, false
}
