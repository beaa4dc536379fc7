// Command svc sends commands to the supervisors of services, as
// daemontools' svc does. See doc/man8/svc.8.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/taikit/taikit/errtext"
	"github.com/taikit/taikit/internal/cli"
	"github.com/taikit/taikit/supervise"
)

const (
	letters = "udopchaitkx"
	help    = "svc options: u up, d down, o once, x exit, p pause, c continue, h hup, a alarm, i interrupt, t term, k kill"
)

func main() {
	cli.IgnoreBrokenPipe()
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	commands, dirs, bad := parse(args)
	if bad != 0 {
		fmt.Fprintf(stderr, "svc: illegal option -- %c\n%s\n", bad, help)
		return cli.ExitUsage
	}
	for _, dir := range dirs {
		if err := supervise.Searchable(dir); err != nil {
			cli.Warn(stderr, "svc", "unable to chdir to "+dir, errtext.Of(err))
			continue
		}
		err := supervise.Control(dir, commands)
		var pe *os.PathError
		switch {
		case err == nil:
		case errors.Is(err, supervise.ErrNotRunning):
			cli.Warn(stderr, "svc", "unable to control "+dir, "supervise not running")
		case errors.As(err, &pe) && pe.Op == "write":
			cli.Warn(stderr, "svc", "error writing commands to "+dir, errtext.Of(err))
		default:
			cli.Warn(stderr, "svc", "unable to control "+dir, errtext.Of(err))
		}
	}
	return cli.ExitOK
}

// parse reads options as daemontools' getopt does: letters may be grouped,
// options end at "--", "-" or the first operand. Each command letter is
// sent once, in the order of its first appearance. bad is the first letter
// that is not a command, or 0.
func parse(args []string) (commands string, dirs []string, bad byte) {
	var b []byte
	i := 0
	for ; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			i++
			break
		}
		if len(a) < 2 || a[0] != '-' {
			break
		}
		for j := 1; j < len(a); j++ {
			if !strings.ContainsRune(letters, rune(a[j])) {
				return "", nil, a[j]
			}
			if !strings.ContainsRune(string(b), rune(a[j])) {
				b = append(b, a[j])
			}
		}
	}
	return string(b), args[i:], 0
}
