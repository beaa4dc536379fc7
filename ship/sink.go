package ship

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// Sink delivers records to a server. A Shipper calls it from one
// goroutine.
type Sink interface {
	// Send delivers recs, in order, and returns nil once the server has
	// acknowledged every one of them. After an error it is not known which
	// were delivered: the caller sends the same records again (on a new
	// connection, which Send makes when the last one broke), and the keys
	// let a server that can refuse a record it holds do so.
	Send(ctx context.Context, recs []Record) error
	// MaxLine is the longest Record.Line the sink delivers whole; a
	// Shipper splits longer lines into pieces.
	MaxLine() int
	// Close ends the connection.
	Close() error
}

// HeldCounter is a Sink whose server can refuse a record it already holds
// (NATS JetStream, Redis Streams). Held returns how many records of the
// last Send that returned nil the server already held: records shipped
// before a kill whose position had not been saved yet, acknowledged now
// without being stored twice.
type HeldCounter interface {
	Held() int
}

// ErrPermanent marks a failure that retrying will not mend (a server
// that refuses what it is sent, a stream that another writer uses): the
// Shipper stops with it instead of retrying.
var ErrPermanent = errors.New("permanent failure")

type permanentError struct{ err error }

func (e *permanentError) Error() string        { return e.err.Error() }
func (e *permanentError) Unwrap() error        { return e.err }
func (e *permanentError) Is(target error) bool { return target == ErrPermanent }

func permanent(err error) error { return &permanentError{err} }

// SinkOptions configure the sinks that Open makes.
type SinkOptions struct {
	// TLS is the client configuration for syslog+tls:// (the other
	// protocols go without TLS); its ServerName is the URL's host when
	// empty.
	TLS *tls.Config
	// Dial makes the sinks' connections (each bounded by Timeout);
	// net.Dialer's DialContext by default.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Timeout bounds each wait for the server: connecting, an
	// acknowledgement; 30 s by default.
	Timeout time.Duration
	// Window is how many records may wait for their acknowledgement at
	// once; each sink has its default.
	Window int
	// MaxMessage is the largest message the server takes, for RELP:
	// rsyslog's maxMessageSize, 8192 bytes by default. Longer lines are
	// split.
	MaxMessage int
}

func (o *SinkOptions) timeout() time.Duration {
	if o.Timeout > 0 {
		return o.Timeout
	}
	return 30 * time.Second
}

func (o *SinkOptions) dial(ctx context.Context, addr string) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, o.timeout())
	defer cancel()
	if o.Dial != nil {
		return o.Dial(ctx, "tcp", addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", addr)
}

// Schemes are the URL schemes Open knows.
var Schemes = []string{"nats", "redis", "relp", "syslog+tcp", "syslog+tls"}

// URLError is a URL that names no sink Open can make.
type URLError struct {
	URL string
	Why string
}

func (e *URLError) Error() string { return fmt.Sprintf("bad URL %q: %s", e.URL, e.Why) }

// ParseURL checks a sink's URL: its scheme, a host and port, and the path
// the scheme wants (a subject, a stream). It connects to nothing.
func ParseURL(raw string) (*url.URL, error) {
	if !strings.Contains(raw, "://") {
		return nil, &URLError{raw, "no scheme: say nats://, redis://, relp://, syslog+tcp:// or syslog+tls://"}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, &URLError{raw, "not a URL: " + strings.TrimPrefix(err.Error(), "parse \""+raw+"\": ")}
	}
	bad := func(why string) (*url.URL, error) { return nil, &URLError{raw, why} }
	switch u.Scheme {
	case "nats", "redis", "relp", "syslog+tcp", "syslog+tls":
	case "":
		return bad("no scheme: say nats://, redis://, relp://, syslog+tcp:// or syslog+tls://")
	default:
		return bad("unknown scheme " + u.Scheme + ": say nats://, redis://, relp://, syslog+tcp:// or syslog+tls://")
	}
	if u.Opaque != "" || u.Host == "" {
		return bad("no host: say " + u.Scheme + "://host:port" + map[string]string{"nats": "/subject", "redis": "/stream"}[u.Scheme])
	}
	if u.Port() == "" {
		return bad("no port: say " + u.Scheme + "://" + u.Hostname() + ":port")
	}
	path := strings.TrimPrefix(u.Path, "/")
	switch u.Scheme {
	case "nats":
		if path == "" {
			return bad("no subject: say nats://host:port/subject")
		}
		if strings.ContainsAny(path, " \t/") || strings.Contains(path, "..") {
			return bad("the subject " + path + " has a space, a slash or an empty token")
		}
	case "redis":
		if path == "" {
			return bad("no stream: say redis://host:port/stream")
		}
	case "relp", "syslog+tcp", "syslog+tls":
		if path != "" {
			return bad(u.Scheme + ":// takes no path")
		}
	}
	return u, nil
}

// Open makes the sink a URL names, for the records of one origin, and
// connects to its server: nats://host:port/subject, redis://host:port/stream,
// relp://host:port, syslog+tcp://host:port or syslog+tls://host:port. In a subject or stream, {host} and {name} stand for
// the origin's.
func Open(ctx context.Context, raw string, o Origin, opts SinkOptions) (Sink, error) {
	u, err := ParseURL(raw)
	if err != nil {
		return nil, err
	}
	path := expand(strings.TrimPrefix(u.Path, "/"), o)
	switch u.Scheme {
	case "nats":
		return openNATS(ctx, u, path, o, opts)
	case "redis":
		return openRedis(ctx, u, path, o, opts)
	case "relp":
		return openRELP(ctx, u, o, opts)
	default:
		return openSyslog(ctx, u, o, opts)
	}
}

func expand(s string, o Origin) string {
	return strings.NewReplacer("{host}", o.Host, "{name}", o.Name).Replace(s)
}
