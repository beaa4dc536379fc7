// Command svstatd serves the state of supervised services and their log
// directories over HTTP: Prometheus metrics, JSON and a live web page.
// See doc/man8/svstatd.8.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/taikit/taikit/errtext"
	"github.com/taikit/taikit/internal/cli"
	"github.com/taikit/taikit/observe"
	"github.com/taikit/taikit/statusweb"
	"github.com/taikit/taikit/tzlocal"
)

const prog = "svstatd"

const synopsis = "svstatd [ -l addr ] [ --once ] [ --logname name ] [ --logdir dir ] [ --cursor logdir=file ] [ --control-token file [ --tls-cert file --tls-key file ] ] scandir ..."

func main() {
	cli.IgnoreBrokenPipe()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, nil)
	stop()
	os.Exit(code)
}

// config is what the command line says.
type config struct {
	addr       string
	once       bool
	logNames   []string
	logDirs    []string
	maxStreams int
	cursors    map[string]string
	tokenFile  string
	tlsCert    string
	tlsKey     string
}

func (c *config) options() []cli.Option {
	return []cli.Option{
		cli.String('l', "listen", "addr", &c.addr, "listen on addr, host:port (default "+statusweb.DefaultAddr+", loopback only)"),
		cli.Bool(0, "once", &c.once, "print the metrics once on standard output and exit (for node_exporter's textfile collector)"),
		cli.Strings(0, "logname", "name", &c.logNames, "the log directory in each log service is log/name (default main; may be repeated)"),
		cli.Strings(0, "logdir", "dir", &c.logDirs, "report the log directory dir too (may be repeated)"),
		{Long: "max-streams", Arg: "n", Help: "serve at most n event streams (open pages) at once (default " + strconv.Itoa(statusweb.DefaultMaxStreams) + ")",
			Set: func(v string) error {
				n, err := strconv.Atoi(v)
				if err != nil || n < 1 || n > 100000 {
					return fmt.Errorf("--max-streams %s: want a number from 1 to 100000", v)
				}
				c.maxStreams = n
				return nil
			}},
		{Long: "cursor", Arg: "logdir=file", Help: "report how far the reader whose cursor is file (logcat --cursor, a shipper) is behind in logdir (a path, or a name such as qmail/log/main)",
			Set: func(v string) error {
				dir, file, ok := strings.Cut(v, "=")
				if !ok || dir == "" || file == "" {
					return fmt.Errorf("--cursor %s: want logdir=file", v)
				}
				if c.cursors == nil {
					c.cursors = map[string]string{}
				}
				c.cursors[dir] = file
				return nil
			}},
		cli.String(0, "control-token", "file", &c.tokenFile, "allow start, stop and restart by POST with the token in file (mode 0600); off by default"),
		cli.String(0, "tls-cert", "file", &c.tlsCert, "serve HTTPS with the certificate in file (PEM), with --tls-key"),
		cli.String(0, "tls-key", "file", &c.tlsKey, "the private key of --tls-cert (PEM)"),
		cli.Help("print this help and exit"),
	}
}

// run is the command with its arguments; it returns the exit status.
// listening, when not nil, is told the address once the server listens.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, listening func(net.Addr)) int {
	c := config{addr: statusweb.DefaultAddr}
	options := c.options()
	_, rest, err := cli.Parse(args, options)
	if errors.Is(err, cli.ErrHelp) {
		cli.Usage(stdout, prog, synopsis, options, nil)
		return cli.ExitOK
	}
	if err != nil {
		return cli.Usage(stderr, prog, synopsis, options, err)
	}
	if len(rest) == 0 && len(c.logDirs) == 0 {
		return cli.Usage(stderr, prog, synopsis, options, errors.New("no scan directory: name one, for instance /service"))
	}
	if (c.tlsCert == "") != (c.tlsKey == "") {
		return cli.Usage(stderr, prog, synopsis, options, errors.New("--tls-cert and --tls-key go together"))
	}
	tree := &observe.Tree{ScanDirs: rest, LogNames: c.logNames, LogDirs: c.logDirs, Cursors: c.cursors}
	if c.once {
		// Exit 111 on a scan directory that cannot be read, so that a
		// "svstatd --once /service > x.prom.new && mv" keeps the last
		// good file; the metrics are printed all the same.
		problems, err := statusweb.WriteMetrics(stdout, tree)
		if err != nil {
			if cli.IsBrokenPipe(err) {
				return cli.ExitTemporary
			}
			return cli.Fatal(stderr, prog, "unable to write metrics", errtext.Of(err))
		}
		for _, p := range problems {
			fmt.Fprintf(stderr, "%s: warning: %s\n", prog, p)
		}
		if len(problems) > 0 {
			return cli.ExitTemporary
		}
		return cli.ExitOK
	}
	srv := &statusweb.Server{Tree: tree, MaxStreams: c.maxStreams, Log: stderr, Zone: tzlocal.Local()}
	if c.tokenFile != "" {
		tok, err := statusweb.LoadToken(c.tokenFile)
		if err != nil {
			return cli.FatalErr(stderr, prog, err)
		}
		srv.ControlToken = tok
	}
	if c.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(c.tlsCert, c.tlsKey)
		if err != nil {
			return cli.Fatal(stderr, prog, "unable to load --tls-cert "+c.tlsCert+" and --tls-key "+c.tlsKey, errtext.Of(err))
		}
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return cli.Fatal(stderr, prog, "unable to listen on "+c.addr, errtext.Of(err))
	}
	if listening != nil {
		listening(ln.Addr())
	}
	err = srv.Serve(ctx, ln)
	switch {
	case errors.Is(err, statusweb.ErrControlNeedsTLS):
		return cli.Usage(stderr, prog, synopsis, options, fmt.Errorf("--control-token on %s: %w", ln.Addr(), err))
	case err != nil && !errors.Is(err, context.Canceled):
		return cli.FatalErr(stderr, prog, err)
	}
	return cli.ExitOK
}
