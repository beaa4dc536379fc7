// Package cli is what taikit's commands share: daemontools' exit codes and
// message shapes, and the one option parser: Getopt, daemontools' getopt
// exactly, for the programs that replace daemontools' own, and Parse, the
// same with GNU-style long options, for taikit's own tools. A command
// declares its options once ([]Option); the parser reads them, Usage
// prints their help.
//
// With cmd/ it is the command layer, the one place where messages are
// printed and exit codes chosen: the libraries return errors (an
// *errtext.Error renders daemontools' "what: why") and print nothing on
// their own. TestLibrariesDoNotPrint guards that.
package cli

import (
	"errors"
	"fmt"
	"io"
	"os/signal"
	"syscall"
)

// Exit codes, as daemontools uses them.
const (
	ExitOK        = 0
	ExitUsage     = 100 // the command line is wrong: retrying will not help
	ExitTemporary = 111 // a system error: retrying later may help
)

// UsageError is a command-line mistake, to be reported with exit 100.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// Fatal writes "prog: fatal: what: why" and returns ExitTemporary.
func Fatal(w io.Writer, prog, what, why string) int {
	fmt.Fprintf(w, "%s: fatal: %s: %s\n", prog, what, why)
	return ExitTemporary
}

// FatalErr writes "prog: fatal: " and err's text, which for the libraries'
// *errtext.Error is "what: why" ("unable to lock ./lk: temporary failure")
// and for an error without a system cause just "what" ("unknown account
// nobody2"), and returns ExitTemporary.
func FatalErr(w io.Writer, prog string, err error) int {
	fmt.Fprintf(w, "%s: fatal: %v\n", prog, err)
	return ExitTemporary
}

// Warn writes "prog: warning: what: why".
func Warn(w io.Writer, prog, what, why string) {
	fmt.Fprintf(w, "%s: warning: %s: %s\n", prog, what, why)
}

// IgnoreBrokenPipe makes writes to a pipe whose reader has gone fail with
// EPIPE instead of killing the process, so that the command can exit 111
// as daemontools' tools exit on a write error.
func IgnoreBrokenPipe() { signal.Ignore(syscall.SIGPIPE) }

// IsBrokenPipe reports whether err is a write to a pipe nobody reads. The
// reader left on purpose (`… | head`), so commands exit 111 without a
// message that would only be noise.
func IsBrokenPipe(err error) bool { return errors.Is(err, syscall.EPIPE) }
