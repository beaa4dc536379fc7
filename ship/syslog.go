package ship

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// syslogSink sends RFC 5424 messages over TCP, framed by octet counting
// (RFC 6587; RFC 5425 over TLS): rsyslog's imtcp, syslog-ng's network().
//
// The protocol has no acknowledgement: a message written may be lost when
// the connection breaks. The sink narrows that as far as TCP lets it: a
// batch counts as delivered once the server's TCP has acknowledged every
// byte of it (the socket's send queue is empty, SIOCOUTQ), not when the
// write returns. What is lost still is what the server's TCP took and the
// server did not keep (a crash before its queue reached disk); what is
// doubled, what it kept of a batch whose connection broke before its bytes
// were all acknowledged, which the Shipper sends again. The error for a
// broken connection says how many records were in flight.
type syslogSink struct {
	url    string
	addr   string
	origin Origin
	tls    *tls.Config
	opts   SinkOptions
	f      *formatter
	maxMsg int

	conn net.Conn
	raw  syscall.RawConn // the TCP socket under TLS, for its send queue
	wr   *bufio.Writer
	msg  []byte
}

func openSyslog(ctx context.Context, u *url.URL, o Origin, opts SinkOptions) (Sink, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	maxMsg := opts.MaxMessage
	if maxMsg <= 0 {
		maxMsg = 8192
	}
	s := &syslogSink{url: u.Redacted(), addr: u.Host, opts: opts, maxMsg: maxMsg}
	if u.Scheme == "syslog+tls" {
		c := &tls.Config{}
		if opts.TLS != nil {
			c = opts.TLS.Clone()
		}
		if c.ServerName == "" {
			c.ServerName = u.Hostname()
		}
		s.tls = c
	}
	s.origin = o
	s.f = newFormatter(&s.origin, 0)
	if err := s.connect(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *syslogSink) MaxLine() int { return max(s.maxMsg-800, 64) }

func (s *syslogSink) connect(ctx context.Context) error {
	c, err := s.opts.dial(ctx, s.addr)
	if err != nil {
		return fmt.Errorf("unable to connect to %s: %w", s.url, err)
	}
	tc, ok := c.(*net.TCPConn)
	if ok {
		s.raw, _ = tc.SyscallConn()
	} else {
		s.raw = nil
	}
	if s.tls != nil {
		t := tls.Client(c, s.tls)
		hctx, cancel := context.WithTimeout(ctx, s.opts.timeout())
		defer cancel()
		if err := t.HandshakeContext(hctx); err != nil {
			c.Close()
			return fmt.Errorf("unable to make a TLS session with %s: %w", s.url, tlsReason(err))
		}
		c = t
	}
	s.conn, s.wr = c, bufio.NewWriterSize(c, 64<<10)
	return nil
}

// tlsReason words the failures of certificate checks a user meets.
func tlsReason(err error) error {
	var host x509.HostnameError
	if errors.As(err, &host) {
		return fmt.Errorf("%w (the server's certificate does not name the host of the URL: use the name it has)", err)
	}
	var ua x509.UnknownAuthorityError
	if errors.As(err, &ua) {
		return fmt.Errorf("%w (give the CA that signed the server's certificate with --ca)", err)
	}
	return err
}

func (s *syslogSink) drop() {
	if s.conn != nil {
		s.conn.Close()
		s.conn = nil
	}
}

func (s *syslogSink) Send(ctx context.Context, recs []Record) error {
	if s.conn == nil {
		if err := s.connect(ctx); err != nil {
			return err
		}
	}
	d := time.Now().Add(s.opts.timeout())
	if dl, ok := ctx.Deadline(); ok && dl.Before(d) {
		d = dl
	}
	s.conn.SetWriteDeadline(d)
	for i := range recs {
		s.msg = s.f.appendSyslog(s.msg[:0], &recs[i], relpPri)
		var head [24]byte
		h := strconv.AppendInt(head[:0], int64(len(s.msg)), 10)
		s.wr.Write(append(h, ' '))
		s.wr.Write(s.msg)
	}
	if err := s.wr.Flush(); err != nil {
		s.drop()
		return fmt.Errorf("connection broken with %d records in flight, which may be lost or doubled: %w", len(recs), err)
	}
	if err := s.drained(ctx, d); err != nil {
		s.drop()
		return fmt.Errorf("%w, with %d records in flight, which may be lost or doubled", err, len(recs))
	}
	return nil
}

// drained waits until the server's TCP has acknowledged every byte sent:
// the socket's send queue is empty.
func (s *syslogSink) drained(ctx context.Context, deadline time.Time) error {
	if s.raw == nil {
		return nil // not TCP (a test's pipe): nothing to ask
	}
	wait := 50 * time.Microsecond
	for {
		var n int
		var ierr error
		var info *unix.TCPInfo
		if err := s.raw.Control(func(fd uintptr) {
			n, ierr = unix.IoctlGetInt(int(fd), unix.SIOCOUTQ)
			info, _ = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
		}); err != nil {
			return err
		}
		if ierr != nil || n == 0 {
			return nil // all acknowledged, or no way to ask: the write is all there is
		}
		// A server that closed the connection (or reset it) will not
		// acknowledge what is queued: no need to wait for the timeout.
		if info != nil && info.State != unix.BPF_TCP_ESTABLISHED {
			return fmt.Errorf("the server closed the connection with %d bytes unacknowledged", n)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no TCP acknowledgement of %d bytes", n)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		time.Sleep(wait)
		wait = min(wait*2, 10*time.Millisecond)
	}
}

func (s *syslogSink) Close() error {
	s.drop()
	return nil
}
