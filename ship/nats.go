package ship

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// natsSink publishes to NATS JetStream, each record with its key as
// Nats-Msg-Id, so that the server drops a record it already holds (within
// the stream's duplicate window). Beyond that window, after a restart or
// a broken connection, the sink asks the stream for the last message of
// its subject: when it is one of this origin's, the records up to it are
// not sent again. With a subject of its own per origin ({host}, {name}),
// delivery is exactly once whatever the time between.
type natsSink struct {
	url     string
	subject string
	origin  Origin
	opts    SinkOptions
	nc      *nats.Conn
	js      jetstream.JetStream
	stream  jetstream.Stream
	f       *formatter
	window  int

	resync bool   // ask for the subject's last message before sending
	held   uint64 // the last Seq the stream is known to hold
	buf    []byte
	futs   []jetstream.PubAckFuture
	nheld  int // records of the last Send the stream held: skipped, or acknowledged as duplicates
}

const natsMaxPayload = 1 << 20 // the server's default max_payload

func openNATS(ctx context.Context, u *url.URL, subject string, o Origin, opts SinkOptions) (Sink, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	redacted := u.Redacted()
	// A probe first: nats.Connect says only "no servers available",
	// where the user needs the cause (refused, unknown host, timed out).
	c, err := opts.dial(ctx, u.Host)
	if err != nil {
		return nil, fmt.Errorf("unable to connect to %s: %w", redacted, err)
	}
	c.Close()
	server := &url.URL{Scheme: "nats", User: u.User, Host: u.Host}
	nopts := []nats.Option{nats.Name("logship"), nats.Timeout(opts.timeout()),
		nats.MaxReconnects(-1), nats.ReconnectWait(250 * time.Millisecond),
		// Nothing is buffered while disconnected: a publish then fails at
		// once, and the Shipper retries it with backoff.
		nats.ReconnectBufSize(-1)}
	if opts.Dial != nil {
		nopts = append(nopts, nats.SetCustomDialer(natsDialer{opts}))
	}
	nc, err := nats.Connect(server.String(), nopts...)
	if err != nil {
		return nil, fmt.Errorf("unable to connect to %s: %w", redacted, err)
	}
	window := opts.Window
	if window <= 0 {
		window = 4096
	}
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(window+1),
		jetstream.WithPublishAsyncTimeout(opts.timeout()), jetstream.WithDefaultTimeout(opts.timeout()))
	if err != nil {
		nc.Close()
		return nil, err
	}
	s := &natsSink{url: redacted, subject: subject, origin: o, opts: opts, nc: nc, js: js, window: window,
		resync: true}
	s.f = newFormatter(&s.origin, 0)
	if err := s.findStream(ctx); err != nil {
		nc.Close()
		return nil, err
	}
	return s, nil
}

// findStream finds the stream that captures the subject, or makes one:
// file-backed, named after the subject.
func (s *natsSink) findStream(ctx context.Context) error {
	name, err := s.js.StreamNameBySubject(ctx, s.subject)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		name = strings.NewReplacer(".", "_", "*", "_", ">", "_").Replace(s.subject)
		_, err = s.js.CreateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{s.subject},
			Storage: jetstream.FileStorage})
		if err != nil {
			return fmt.Errorf("unable to create a stream for %s on %s: %w", s.subject, s.url, err)
		}
	} else if err != nil {
		if errors.Is(err, jetstream.ErrJetStreamNotEnabled) || errors.Is(err, nats.ErrNoResponders) {
			return permanent(fmt.Errorf("%s has no JetStream: start nats-server with -js", s.url))
		}
		return fmt.Errorf("unable to find the stream of %s on %s: %w", s.subject, s.url, err)
	}
	s.stream, err = s.js.Stream(ctx, name)
	if err != nil {
		return fmt.Errorf("unable to open stream %s on %s: %w", name, s.url, err)
	}
	return nil
}

// Held is HeldCounter's.
func (s *natsSink) Held() int { return s.nheld }

func (s *natsSink) MaxLine() int { return natsMaxPayload - 4096 } // room for the other fields

// lastHeld asks the stream for the last message on the subject and, when
// it is this origin's, returns its Seq.
func (s *natsSink) lastHeld(ctx context.Context) (uint64, error) {
	m, err := s.stream.GetLastMsgForSubject(ctx, s.subject)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	id := m.Header.Get(jetstream.MsgIDHeader)
	prefix := s.origin.Host + "/" + s.origin.Name + "/"
	if !strings.HasPrefix(id, prefix) {
		return 0, nil // another origin's: the duplicate window is all there is
	}
	seq, err := strconv.ParseUint(id[len(prefix):], 10, 64)
	if err != nil {
		return 0, nil
	}
	return seq, nil
}

func (s *natsSink) Send(ctx context.Context, recs []Record) error {
	if s.resync {
		held, err := s.lastHeld(ctx)
		if err != nil {
			return fmt.Errorf("unable to ask %s for the last message of %s: %w", s.url, s.subject, err)
		}
		s.held, s.resync = held, false
	}
	// One buffer for the batch's payloads: a message is kept by the
	// client until acknowledged (it may publish it again).
	size := 0
	for i := range recs {
		size += len(recs[i].Line) + 256
	}
	s.buf = make([]byte, 0, size)
	s.futs = s.futs[:0]
	s.nheld = 0
	acked := 0
	wait := func(f jetstream.PubAckFuture) error {
		select {
		case ack := <-f.Ok():
			if ack.Duplicate { // within the stream's duplicate window
				s.nheld++
			}
			return nil
		case err := <-f.Err():
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	fail := func(err error) error {
		s.resync = true
		if errors.Is(err, nats.ErrReconnectBufExceeded) || errors.Is(err, nats.ErrConnectionClosed) {
			err = errors.New("not connected (reconnecting)")
		}
		return fmt.Errorf("no acknowledgement: %w", err)
	}
	for i := range recs {
		r := &recs[i]
		if r.Seq <= s.held {
			s.nheld++
			continue
		}
		n := len(s.buf)
		s.buf = s.f.appendJSON(s.buf, r)
		data := s.buf[n:len(s.buf):len(s.buf)]
		key := string(r.AppendKey(nil, &s.origin))
		msg := &nats.Msg{Subject: s.subject, Data: data, Header: nats.Header{jetstream.MsgIDHeader: []string{key}}}
		for len(s.futs)-acked >= s.window {
			if err := wait(s.futs[acked]); err != nil {
				return fail(err)
			}
			acked++
		}
		f, err := s.js.PublishMsgAsync(msg)
		if err != nil {
			return fail(err)
		}
		s.futs = append(s.futs, f)
	}
	for ; acked < len(s.futs); acked++ {
		if err := wait(s.futs[acked]); err != nil {
			return fail(err)
		}
	}
	return nil
}

// natsDialer makes the client's connections with SinkOptions.Dial.
type natsDialer struct{ opts SinkOptions }

func (d natsDialer) Dial(network, address string) (net.Conn, error) {
	return d.opts.dial(context.Background(), address)
}

func (s *natsSink) Close() error {
	s.nc.Close()
	return nil
}
