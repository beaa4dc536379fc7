// Command tai64n puts a TAI64N timestamp in front of every line, as
// daemontools' tai64n does. See doc/man8/tai64n.8.
package main

import (
	"errors"
	"io"
	"os"
	"time"

	"github.com/taikit/taikit/errtext"
	"github.com/taikit/taikit/internal/cli"
	"github.com/taikit/taikit/tai64n"
)

const synopsis = "tai64n [-l] < input > output"

func main() {
	cli.IgnoreBrokenPipe()
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, time.Now))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer, clock func() time.Time) int {
	var leap bool
	options := []cli.Option{
		cli.Bool('l', "leap", &leap, "leap-aware labels, as s6-tai64n (TAI = UTC + 37 s today)"),
		cli.Help("print this help"),
	}
	_, operands, err := cli.Parse(args, options)
	if errors.Is(err, cli.ErrHelp) {
		cli.Usage(stdout, "tai64n", synopsis, options, nil)
		return cli.ExitOK
	}
	if err == nil && len(operands) > 0 {
		err = &cli.UsageError{Msg: "tai64n reads standard input only; unexpected " + operands[0]}
	}
	if err != nil {
		return cli.Usage(stderr, "tai64n", synopsis, options, err)
	}
	conv := tai64n.Daemontools
	if leap {
		conv = tai64n.LeapAware
	}
	if _, err := tai64n.NewStamper(clock, conv).Copy(stdout, stdin); err != nil {
		if cli.IsBrokenPipe(err) {
			return cli.ExitTemporary
		}
		return cli.Fatal(stderr, "tai64n", streamWhat(err), errtext.Of(err))
	}
	return cli.ExitOK
}

func streamWhat(err error) string {
	var se *tai64n.StreamError
	if errors.As(err, &se) && se.Op == "write" {
		return "unable to write output"
	}
	return "unable to read input"
}
