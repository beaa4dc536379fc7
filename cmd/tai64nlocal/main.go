// Command tai64nlocal turns the TAI64N stamps at the start of lines into
// readable local time, as daemontools' tai64nlocal does, and reads files as
// well as standard input. See doc/man8/tai64nlocal.8.
package main

import (
	"errors"
	"io"
	"os"

	"github.com/taikit/taikit/errtext"
	"github.com/taikit/taikit/internal/cli"
	"github.com/taikit/taikit/tai64n"
	"github.com/taikit/taikit/tzlocal"
)

const synopsis = "tai64nlocal [-l] [-u] [-r] [file ...]"

func main() {
	cli.IgnoreBrokenPipe()
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, tzlocal.Local))
}

// run converts the named files, or standard input, to stdout. localZone is
// called only when local time is wanted, so that -u never reads zone files.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer, localZone func() *tzlocal.Zone) int {
	var leap, utc, rfc bool
	options := []cli.Option{
		cli.Bool('l', "leap", &leap, "read leap-aware stamps, as s6-log and s6-tai64n write them"),
		cli.Bool('u', "utc", &utc, "write UTC instead of local time"),
		cli.Bool('r', "rfc3339", &rfc, "write RFC 3339: 2006-01-02T15:04:05.000000000+01:00"),
		cli.Help("print this help"),
	}
	_, files, err := cli.Parse(args, options)
	if errors.Is(err, cli.ErrHelp) {
		cli.Usage(stdout, "tai64nlocal", synopsis, options, nil)
		return cli.ExitOK
	}
	if err != nil {
		return cli.Usage(stderr, "tai64nlocal", synopsis, options, err)
	}
	conv, layout := tai64n.Daemontools, tai64n.LayoutTAI64NLocal
	if leap {
		conv = tai64n.LeapAware
	}
	if rfc {
		layout = tai64n.LayoutRFC3339
	}
	var zone tai64n.Zone // nil is UTC
	if !utc {
		zone = localZone()
	}
	converter := tai64n.NewConverter(tai64n.NewFormatter(zone, conv, layout))

	if len(files) == 0 {
		files = []string{"-"}
	}
	status := cli.ExitOK
	for _, name := range files {
		var in io.Reader = stdin
		label := "standard input"
		if name != "-" {
			f, err := os.Open(name)
			if err != nil {
				// Go on with the other files, as cat does: the rest of a
				// log is still worth reading.
				cli.Warn(stderr, "tai64nlocal", "unable to open "+name, errtext.Of(err))
				status = cli.ExitTemporary
				continue
			}
			in, label = f, name
		}
		_, err := converter.Copy(stdout, in)
		if f, ok := in.(*os.File); ok && name != "-" {
			f.Close()
		}
		if err != nil {
			var se *tai64n.StreamError
			if errors.As(err, &se) && se.Op == "write" {
				if cli.IsBrokenPipe(err) {
					return cli.ExitTemporary
				}
				return cli.Fatal(stderr, "tai64nlocal", "unable to write output", errtext.Of(err))
			}
			cli.Warn(stderr, "tai64nlocal", "unable to read "+label, errtext.Of(err))
			status = cli.ExitTemporary
		}
	}
	return status
}
