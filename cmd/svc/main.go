// Command svc sends commands to the supervisors of services, as
// daemontools' svc does. See doc/man8/svc.8.
package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

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
		// As daemontools' svc: getopt's line, then the list of commands.
		fmt.Fprintf(stderr, "%s%s\n", (&cli.OptionError{Letter: bad, Getopt: true}).Message("svc"), help)
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

// parse reads svc's command line with daemontools' getopt rules. Each
// command letter is sent once, in the order of its first appearance. bad
// is the first letter that is not a command, or 0.
func parse(args []string) (commands string, dirs []string, bad byte) {
	got, dirs, err := cli.Getopt(args, cli.Letters(letters, nil))
	var oe *cli.OptionError
	if errors.As(err, &oe) {
		return "", nil, oe.Letter
	}
	var b []byte
	for _, g := range got {
		if bytes.IndexByte(b, g.Letter) < 0 {
			b = append(b, g.Letter)
		}
	}
	return string(b), dirs, 0
}
