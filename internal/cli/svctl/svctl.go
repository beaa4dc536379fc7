// Package svctl is the command line of svctl and of its aliases svcstart,
// svcstop, svcreset and svcrestart: options, the verb, how results are
// worded and the exit status. The work itself is package
// supervise/control's. See doc/man8/svctl.8.
package svctl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/taikit/taikit/errtext"
	"github.com/taikit/taikit/internal/cli"
	"github.com/taikit/taikit/supervise/control"
)

const synopsis = "svctl [ -akq ] [ -w secs ] [ -j jobs ] start|stop|reset|restart dir ..."

// Main runs the command named prog (svctl, or an alias's name: the verb
// then comes from it) with the process's arguments, and exits.
func Main(prog string) {
	cli.IgnoreBrokenPipe()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := Run(ctx, prog, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// config is what the command line says.
type config struct {
	all, kill, quiet bool
	timeout          time.Duration
	jobs             int
}

// aliases are the names of the wrapper scripts sites wrote, each meaning
// svctl with one verb.
var aliases = map[string]control.Verb{
	"svcstart": control.Start, "svcstop": control.Stop, "svcreset": control.Reset, "svcrestart": control.Restart,
}

// Run is the command with its name (argv[0]; a path is fine) and
// arguments; it returns the exit status.
func Run(ctx context.Context, argv0 string, args []string, stdout, stderr io.Writer) int {
	prog := "svctl"
	verb, aliased := aliases[filepath.Base(argv0)]
	if aliased {
		prog = filepath.Base(argv0)
	}
	c := config{timeout: control.DefaultTimeout, jobs: control.DefaultJobs}
	options := c.options()
	syn := synopsis
	if aliased {
		syn = prog + " [ -akq ] [ -w secs ] [ -j jobs ] dir ..."
	}
	usage := func(mistake error) int { return cli.Usage(stderr, prog, syn, options, mistake) }

	_, rest, err := cli.Parse(args, options)
	if !aliased && err == nil {
		if len(rest) == 0 {
			return usage(nil)
		}
		var ok bool
		if verb, ok = control.ParseVerb(rest[0]); !ok {
			return usage(errors.New("unknown verb " + strconv.Quote(rest[0]) + ": want start, stop, reset or restart"))
		}
		// Options may also follow the verb: svctl start -w 60 dir.
		_, rest, err = cli.Parse(rest[1:], options)
	}
	if errors.Is(err, cli.ErrHelp) {
		cli.Usage(stdout, prog, syn, options, nil)
		return cli.ExitOK
	}
	if err != nil {
		return usage(err)
	}
	if len(rest) == 0 {
		return usage(nil)
	}

	dirs := rest
	if c.all {
		dirs = nil
		for _, scan := range rest {
			services, err := control.Services(scan)
			if err != nil {
				return cli.Fatal(stderr, prog, "unable to read scan directory "+scan, errtext.Of(err))
			}
			if len(services) == 0 {
				cli.Warn(stderr, prog, "nothing to "+verb.String(), "no services in "+scan)
			}
			dirs = append(dirs, services...)
		}
	}

	// start brings up what the services need first; stop brings down
	// first what needs them.
	dirs = control.WithNeeds(dirs, verb)
	opt := control.Options{Timeout: c.timeout, Kill: c.kill}
	several := len(dirs) > 1
	report := func(r control.Result) {
		switch {
		case r.OK() && !c.quiet:
			fmt.Fprintln(stdout, success(r))
		case !r.OK() && several:
			cli.Warn(stderr, prog, "unable to "+verb.String()+" "+r.Dir, r.Err.Error())
		case !r.OK():
			fmt.Fprintf(stderr, "%s: fatal: unable to %s %s: %v\n", prog, verb, r.Dir, r.Err)
		}
	}
	results := control.DoAll(ctx, dirs, verb, opt, c.jobs, report)
	if several {
		summarize(stdout, stderr, prog, verb, results, c.quiet)
	}
	return exitCode(results)
}

// maxWait is the largest -w, in seconds (11.5 days).
const maxWait = 1000000

// options are svctl's; values are checked as they are met.
func (c *config) options() []cli.Option {
	return []cli.Option{
		{Letter: 'w', Long: "wait", Arg: "secs", Help: "wait at most secs for each step (default 30)", Set: func(v string) error {
			// Written so that NaN, which fails every comparison, is
			// refused too (it once meant no limit at all).
			secs, err := strconv.ParseFloat(v, 64)
			if err != nil || !(secs > 0 && secs <= maxWait) {
				return fmt.Errorf("-w %s: want a number of seconds above 0 and at most %d", v, maxWait)
			}
			c.timeout = max(time.Duration(secs*float64(time.Second)), time.Nanosecond)
			return nil
		}},
		cli.Bool('k', "kill", &c.kill, "KILL a run still there after the wait for its exit"),
		cli.Bool('a', "all", &c.all, "each dir is a scan directory: act on all its services"),
		{Letter: 'j', Long: "jobs", Arg: "jobs", Help: "act on at most jobs services at once (default 16)", Set: func(v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return fmt.Errorf("-j %s: want a whole number of services, at least 1", v)
			}
			c.jobs = n
			return nil
		}},
		cli.Bool('q', "quiet", &c.quiet, "print only failures"),
		cli.Help("print this help and exit"),
	}
}

// success words a result that succeeded: "/service/web: started (pid
// 1234) in 1.2 seconds".
func success(r control.Result) string {
	s := r.Dir + ": " + r.Done
	if r.PID != 0 {
		s += " (pid " + strconv.Itoa(r.PID) + ")"
	}
	switch r.Done {
	case "started", "stopped", "restarted", "stopped by KILL":
		s += " in " + strconv.FormatFloat(r.Took.Seconds(), 'f', 1, 64) + " seconds"
	}
	return s
}

// summarize ends a run on several services: on stdout when all went well,
// on stderr with the names of those that failed otherwise.
func summarize(stdout, stderr io.Writer, prog string, verb control.Verb, rs []control.Result, quiet bool) {
	failed := control.Failed(rs)
	if len(failed) == 0 {
		if !quiet {
			fmt.Fprintf(stdout, "%s: %s: all %d services succeeded\n", prog, verb, len(rs))
		}
		return
	}
	names := make([]string, len(failed))
	for i, r := range failed {
		names[i] = r.Dir
	}
	fmt.Fprintf(stderr, "%s: %s: %d of %d services succeeded; failed: %s\n",
		prog, verb, len(rs)-len(failed), len(rs), strings.Join(names, " "))
}

// exitCode is 0 when every verb succeeded, 111 when one could not be
// carried out for a reason that may pass (no supervisor, an interruption),
// and 1 when a service failed.
func exitCode(rs []control.Result) int {
	code := cli.ExitOK
	for _, r := range rs {
		switch {
		case r.Temporary():
			return cli.ExitTemporary
		case !r.OK():
			code = 1
		}
	}
	return code
}
