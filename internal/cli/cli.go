// Package cli is what taikit's commands share: daemontools' exit codes and
// message shapes, and option parsing in the style of its tools (short
// letters that can be grouped, "--" to end options, "-" as an operand).
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
	"strings"
	"syscall"
)

// Exit codes, as daemontools uses them.
const (
	ExitOK        = 0
	ExitUsage     = 100 // the command line is wrong: retrying will not help
	ExitTemporary = 111 // a system error: retrying later may help
)

// Flag is one boolean option, named by a letter and a long name.
type Flag struct {
	Short byte   // -x
	Long  string // --name
	Value *bool
	Help  string
}

// UsageError is a command-line mistake, to be reported with exit 100.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// Parse sets the flags named in args and returns the operands. Options end
// at "--" or at the first operand; "-" is an operand (standard input).
func Parse(flags []Flag, args []string) ([]string, error) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return args[i+1:], nil
		case strings.HasPrefix(a, "--"):
			f := findLong(flags, a[2:])
			if f == nil {
				return nil, &UsageError{"unknown option " + a}
			}
			*f.Value = true
		case len(a) > 1 && a[0] == '-':
			for j := 1; j < len(a); j++ {
				f := findShort(flags, a[j])
				if f == nil {
					return nil, &UsageError{fmt.Sprintf("unknown option -%c", a[j])}
				}
				*f.Value = true
			}
		default:
			return args[i:], nil
		}
	}
	return nil, nil
}

func findLong(flags []Flag, name string) *Flag {
	for i := range flags {
		if flags[i].Long == name {
			return &flags[i]
		}
	}
	return nil
}

func findShort(flags []Flag, c byte) *Flag {
	for i := range flags {
		if flags[i].Short == c {
			return &flags[i]
		}
	}
	return nil
}

// Usage writes "prog: usage: synopsis" (after the mistake, if any) and a
// line per flag, and returns ExitUsage.
func Usage(w io.Writer, prog, synopsis string, flags []Flag, mistake error) int {
	if mistake != nil {
		fmt.Fprintf(w, "%s: fatal: %v\n", prog, mistake)
	}
	fmt.Fprintf(w, "%s: usage: %s\n", prog, synopsis)
	for _, f := range flags {
		fmt.Fprintf(w, "  -%c, --%-10s %s\n", f.Short, f.Long, f.Help)
	}
	return ExitUsage
}

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
