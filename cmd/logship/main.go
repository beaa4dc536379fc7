// Command logship ships log directories (multilog's, s6-log's, svlogd's)
// to a central store, RELP (rsyslog), NATS JetStream or Redis Streams,
// resumably: the position is saved only after the server acknowledged
// what precedes it. See doc/man8/logship.8.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/taikit/taikit/errtext"
	"github.com/taikit/taikit/internal/cli"
	"github.com/taikit/taikit/ship"
	"github.com/taikit/taikit/tai64n"
)

const synopsis = "logship [-C state] [--once] [-H host] [-n name] [options] URL dir ..."

// env is what the command takes from its process, for tests to give.
type env struct {
	stderr   io.Writer
	hostname func() (string, error)
	stop     <-chan struct{} // closed by a signal: stop cleanly
}

type options struct {
	state   string
	once    bool
	host    string
	name    string
	window  int
	maxMsg  int
	batch   int
	ca      string
	cert    string
	key     string
	leap    bool
	timeout int
}

func declare(o *options) []cli.Option {
	num := func(p *int, what string) func(string) error {
		return func(v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				return &cli.UsageError{Msg: fmt.Sprintf("%s %q: want a number above 0", what, v)}
			}
			*p = n
			return nil
		}
	}
	return []cli.Option{
		cli.String('C', "cursor", "file", &o.state, "keep each directory's shipped position in file, saved after every acknowledgement"),
		cli.Bool(0, "once", &o.once, "ship what is there and exit 0 once all of it is acknowledged (default: follow for ever)"),
		cli.String('H', "host", "host", &o.host, "the host name sent with each line (default: this machine's)"),
		cli.String('n', "name", "name", &o.name, "the directory's name (syslog app-name, {name}); default: from its path"),
		{Long: "window", Arg: "n", Help: "records in flight unacknowledged at most (default: 4096 NATS and Redis, 1024 RELP)", Set: num(&o.window, "--window")},
		{Long: "batch", Arg: "n", Help: "records sent at once at most, between two saves of the position (default 16384)", Set: num(&o.batch, "--batch")},
		{Long: "max-message", Arg: "bytes", Help: "RELP and syslog: the largest message the server takes (rsyslog's maxMessageSize, default 8192)", Set: num(&o.maxMsg, "--max-message")},
		{Long: "timeout", Arg: "secs", Help: "how long to wait for the server to connect or acknowledge (default 30)", Set: num(&o.timeout, "--timeout")},
		cli.String(0, "ca", "file", &o.ca, "syslog+tls: the CA certificates (PEM) to check the server's with (default: the system's)"),
		cli.String(0, "cert", "file", &o.cert, "syslog+tls: a client certificate (PEM) to present, with --key"),
		cli.String(0, "key", "file", &o.key, "syslog+tls: the client certificate's private key (PEM)"),
		cli.Bool('l', "leap-aware", &o.leap, "the stamps are s6-log's (TAI, leap-aware), not daemontools'"),
		cli.Help("print this help and exit"),
	}
}

func main() {
	cli.IgnoreBrokenPipe()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	stop := make(chan struct{})
	go func() {
		<-sigs
		close(stop)
	}()
	os.Exit(run(os.Args[1:], env{stderr: os.Stderr, hostname: os.Hostname, stop: stop}))
}

func run(args []string, e env) int {
	var o options
	opts := declare(&o)
	_, operands, err := cli.Parse(args, opts)
	if errors.Is(err, cli.ErrHelp) {
		cli.Usage(os.Stdout, "logship", synopsis, opts, nil)
		return 0
	}
	if err == nil && len(operands) < 2 {
		err = &cli.UsageError{Msg: "give a URL and at least one directory"}
	}
	if err == nil && o.name != "" && len(operands) > 2 {
		err = &cli.UsageError{Msg: "-n names one directory: ship several with one logship each, or let each be named by its path"}
	}
	var u string
	var dirs []string
	if err == nil {
		u, dirs = operands[0], operands[1:]
		if _, perr := ship.ParseURL(u); perr != nil {
			err = &cli.UsageError{Msg: perr.Error()}
		} else if len(dirs) > 1 && strings.HasPrefix(u, "redis:") && !strings.Contains(u, "{name}") {
			err = &cli.UsageError{Msg: "several directories need a stream each: put {name} in the stream (redis://host:port/logs:{name})"}
		}
	}
	if err == nil && (o.cert == "") != (o.key == "") {
		err = &cli.UsageError{Msg: "--cert and --key go together"}
	}
	if err == nil && (o.ca != "" || o.cert != "") && !strings.HasPrefix(u, "syslog+tls:") {
		// Taken and not used, they would let a user believe the other
		// protocols go encrypted.
		err = &cli.UsageError{Msg: "--ca, --cert and --key are for syslog+tls://: nats://, redis:// and relp:// are sent without TLS (reach such a server through a TLS tunnel, e.g. stunnel)"}
	}
	if err != nil {
		var oe *cli.OptionError
		if errors.As(err, &oe) {
			err = errors.New(oe.Message("logship"))
		}
		return cli.Usage(e.stderr, "logship", synopsis, opts, err)
	}

	host := o.host
	if host == "" {
		h, err := e.hostname()
		if err != nil {
			return cli.Fatal(e.stderr, "logship", "unable to find the host name", err.Error()+": give it with -H")
		}
		host, _, _ = strings.Cut(h, ".")
	}
	state, err := ship.OpenState(o.state)
	if err != nil {
		return cli.FatalErr(e.stderr, "logship", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-e.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	sopts := ship.SinkOptions{Window: o.window, MaxMessage: o.maxMsg}
	if o.timeout > 0 {
		sopts.Timeout = secs(o.timeout)
	}
	if o.ca != "" || o.cert != "" {
		c, err := tlsConfig(o.ca, o.cert, o.key)
		if err != nil {
			return cli.FatalErr(e.stderr, "logship", err)
		}
		sopts.TLS = c
	}
	conv := tai64n.Daemontools
	if o.leap {
		conv = tai64n.LeapAware
	}

	var warnMu sync.Mutex
	warn := func(err error) {
		warnMu.Lock()
		defer warnMu.Unlock()
		fmt.Fprintf(e.stderr, "logship: warning: %v\n", err)
	}
	var shippers []*ship.Shipper
	for _, d := range dirs {
		name := o.name
		if name == "" {
			name = nameOf(d)
		}
		origin := ship.Origin{Host: host, Name: name, Dir: d}
		sink, err := ship.Open(ctx, u, origin, sopts)
		if err != nil {
			for _, s := range shippers {
				s.Sink.Close()
			}
			return cli.FatalErr(e.stderr, "logship", err)
		}
		shippers = append(shippers, &ship.Shipper{Dir: d, Origin: origin, Sink: sink, State: state, URL: u,
			Follow: !o.once, Convention: conv, MaxBatch: o.batch, Warn: warn})
	}

	// The gaps counted before this run: --once's exit 3 is for this run's.
	gapsBefore := make([]uint64, len(shippers))
	for i, s := range shippers {
		p, _ := state.Get(s.Dir)
		gapsBefore[i] = p.Gaps
	}
	errs := make([]error, len(shippers))
	var wg sync.WaitGroup
	for i, s := range shippers {
		wg.Go(func() {
			errs[i] = s.Run(ctx)
			if errs[i] != nil {
				cancel() // one failing stops all: the supervisor restarts logship
			}
		})
	}
	wg.Wait()
	code := 0
	for i, s := range shippers {
		s.Sink.Close()
		if err := errs[i]; err != nil {
			fmt.Fprintf(e.stderr, "logship: fatal: unable to ship %s: %v\n", s.Dir, err)
			code = cli.ExitTemporary
		}
	}
	if code == 0 && o.once {
		for i, s := range shippers {
			if p, _ := state.Get(s.Dir); p.Gaps > gapsBefore[i] {
				return 3 // data pruned before this run shipped it, said above
			}
		}
	}
	return code
}

// nameOf names a directory by its path: its base name, or its service's
// where the base name is a convention (./log/main, /service/x/log).
func nameOf(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	p := abs
	for {
		b := filepath.Base(p)
		if b != "main" && b != "log" && b != "." && b != "/" || filepath.Dir(p) == p {
			return clean(b)
		}
		p = filepath.Dir(p)
	}
}

// clean keeps a name to the letters a key carries plainly.
func clean(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	if len(b) == 0 {
		return "log"
	}
	return string(b)
}

func secs(n int) time.Duration { return time.Duration(n) * time.Second }

// tlsConfig reads the CA certificates and client certificate given.
func tlsConfig(ca, cert, key string) (*tls.Config, error) {
	c := &tls.Config{}
	if ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return nil, &errtext.Error{Op: "unable to read CA file", Path: ca, Err: err}
		}
		c.RootCAs = x509.NewCertPool()
		if !c.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("no PEM certificate in the CA file %s", ca)
		}
	}
	if cert != "" {
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			return nil, fmt.Errorf("unable to load the client certificate %s and key %s: %v", cert, key, err)
		}
		c.Certificates = []tls.Certificate{pair}
	}
	return c, nil
}
