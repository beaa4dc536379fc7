package ship

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"
)

// relpSink sends RFC 5424 messages with RELP, rsyslog's Reliable Event
// Logging Protocol (imrelp): each message is a transaction ("syslog")
// that the server acknowledges ("rsp 200 OK") once it has taken it.
// Up to a window of transactions are in flight at once.
//
// RELP has no way to ask what the server holds: when a connection breaks
// with transactions unacknowledged, the Shipper sends them again on a new
// one, and those the server had taken are duplicated. At most one batch
// is in flight, so that is the bound on duplicates per break. (librelp's
// own client keeps the unacknowledged ones to resend too; there is no
// well-kept RELP client for Go: stith/gorelp waits for each
// acknowledgement before the next message, and the others are not
// maintained or not Go. This one is small: open, syslog, close, rsp.)
type relpSink struct {
	url    string
	addr   string
	origin Origin
	opts   SinkOptions
	f      *formatter
	window int
	maxMsg int

	conn net.Conn
	rd   *bufio.Reader
	wr   *bufio.Writer
	txnr int
	msg  []byte
	in   []byte // readFrame's, reused
	// quick is whether quickACK works on conn.
	quick bool
}

// pri is user.notice, as logger(1) sends by default.
const relpPri = 13

func openRELP(ctx context.Context, u *url.URL, o Origin, opts SinkOptions) (Sink, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	window := opts.Window
	if window <= 0 {
		window = 1024
	}
	maxMsg := opts.MaxMessage
	if maxMsg <= 0 {
		maxMsg = 8192
	}
	s := &relpSink{url: u.Redacted(), addr: u.Host, origin: o, opts: opts, window: window, maxMsg: maxMsg}
	s.f = newFormatter(&s.origin, 0)
	if err := s.connect(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// MaxLine leaves room in a message for the header and the structured
// data: host and name of at most 255 and 48 bytes, twice (in the key).
func (s *relpSink) MaxLine() int { return max(s.maxMsg-800, 64) }

// RELPError is a response of the server other than 200 OK.
type RELPError struct {
	Command string
	Code    int
	Text    string
}

func (e *RELPError) Error() string {
	return fmt.Sprintf("RELP %s refused: %d %s", e.Command, e.Code, e.Text)
}

func (s *relpSink) connect(ctx context.Context) error {
	c, err := s.opts.dial(ctx, s.addr)
	if err != nil {
		return fmt.Errorf("unable to connect to %s: %w", s.url, err)
	}
	s.conn, s.rd, s.wr, s.txnr = c, bufio.NewReaderSize(c, 64<<10), bufio.NewWriterSize(c, 64<<10), 0
	s.quick = quickACK(c)
	offer := "relp_version=0\nrelp_software=logship,taikit,https://github.com/taikit/taikit\ncommands=syslog"
	txnr := s.frame("open", []byte(offer))
	if err := s.flush(ctx); err != nil {
		s.drop()
		return fmt.Errorf("unable to open a RELP session with %s: %w", s.url, err)
	}
	data, err := s.response(ctx, txnr)
	if err != nil {
		s.drop()
		if re := (*RELPError)(nil); errors.As(err, &re) {
			return permanent(fmt.Errorf("%s refused the RELP session: %w", s.url, err))
		}
		return fmt.Errorf("unable to open a RELP session with %s: %w", s.url, err)
	}
	if !bytes.Contains(data, []byte("commands=syslog")) && !bytes.Contains(data, []byte(",syslog")) {
		s.drop()
		return permanent(fmt.Errorf("%s does not take RELP syslog messages (it offers %q)", s.url, data))
	}
	return nil
}

func (s *relpSink) drop() {
	if s.conn != nil {
		s.conn.Close()
		s.conn = nil
	}
}

// frame writes "txnr command datalen data\n" and returns the txnr.
func (s *relpSink) frame(cmd string, data []byte) int {
	s.txnr++
	if s.txnr > 999999999 {
		s.txnr = 1
	}
	var head [48]byte
	h := strconv.AppendInt(head[:0], int64(s.txnr), 10)
	h = append(h, ' ')
	h = append(h, cmd...)
	h = append(h, ' ')
	h = strconv.AppendInt(h, int64(len(data)), 10)
	if len(data) > 0 {
		h = append(h, ' ')
	}
	s.wr.Write(h)
	s.wr.Write(data)
	s.wr.WriteByte('\n')
	return s.txnr
}

func (s *relpSink) deadline(ctx context.Context) {
	d := time.Now().Add(s.opts.timeout())
	if dl, ok := ctx.Deadline(); ok && dl.Before(d) {
		d = dl
	}
	s.conn.SetReadDeadline(d)
}

func (s *relpSink) flush(ctx context.Context) error {
	d := time.Now().Add(s.opts.timeout())
	if dl, ok := ctx.Deadline(); ok && dl.Before(d) {
		d = dl
	}
	s.conn.SetWriteDeadline(d)
	return s.wr.Flush()
}

// response reads the response to transaction txnr and returns its data
// after the status line (valid until the next response); a status other
// than 200 is a *RELPError.
func (s *relpSink) response(ctx context.Context, txnr int) ([]byte, error) {
	s.deadline(ctx)
	n, cmd, data, err := s.readFrame()
	if err != nil {
		return nil, err
	}
	if string(cmd) == "serverclose" {
		return nil, errors.New("the server closed the session")
	}
	if string(cmd) != "rsp" {
		return nil, fmt.Errorf("unexpected RELP command %q from the server", cmd)
	}
	if n != txnr {
		return nil, fmt.Errorf("RELP response to transaction %d where %d was expected", n, txnr)
	}
	status, rest, _ := bytes.Cut(data, []byte("\n"))
	code, text, _ := bytes.Cut(status, []byte(" "))
	c, ok := atoi(code)
	if !ok {
		return nil, fmt.Errorf("malformed RELP response %q", status)
	}
	if c != 200 {
		return nil, &RELPError{Command: "transaction " + strconv.Itoa(txnr), Code: c, Text: string(text)}
	}
	return rest, nil
}

// errFrame is a frame from the server that is not RELP.
var errFrame = errors.New("malformed RELP frame from the server")

// readFrame reads "txnr command datalen[ data]\n" into s.in, reused: a
// response comes for every line sent, and nothing of it is allocated.
// command and data are valid until the next call.
func (s *relpSink) readFrame() (txnr int, command, data []byte, err error) {
	b := s.in[:0]
	// word appends the bytes up to the next space or newline, which it
	// leaves unread, and returns where they start in b.
	word := func() (int, error) {
		start := len(b)
		for {
			c, err := s.rd.ReadByte()
			if err != nil {
				return 0, err
			}
			if c == ' ' || c == '\n' {
				s.rd.UnreadByte()
				return start, nil
			}
			if len(b)-start > 32 {
				return 0, errFrame
			}
			b = append(b, c)
		}
	}
	sp := func() error {
		c, err := s.rd.ReadByte()
		if err == nil && c != ' ' {
			err = errFrame
		}
		return err
	}
	defer func() { s.in = b[:0] }() // keep what b grew to
	t, err := word()
	if err != nil {
		return 0, nil, nil, eofText(err)
	}
	txnr, ok := atoi(b[t:])
	if !ok || sp() != nil {
		return 0, nil, nil, errFrame
	}
	c, err := word()
	if err != nil || sp() != nil {
		return 0, nil, nil, errFrame
	}
	l, err := word()
	if err != nil {
		return 0, nil, nil, eofText(err)
	}
	n, ok := atoi(b[l:])
	if !ok || n > 128<<10 {
		return 0, nil, nil, errFrame
	}
	d := len(b)
	if n > 0 {
		if err := sp(); err != nil {
			return 0, nil, nil, errFrame
		}
		b = append(b, make([]byte, n)...) // grows b only while the responses do
		if _, err := io.ReadFull(s.rd, b[d:]); err != nil {
			return 0, nil, nil, eofText(err)
		}
	}
	if c, err := s.rd.ReadByte(); err != nil || c != '\n' {
		return 0, nil, nil, errors.New("malformed RELP frame from the server: no trailer")
	}
	return txnr, b[c:l], b[d:], nil
}

// atoi parses a decimal number of up to nine digits.
func atoi(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func eofText(err error) error {
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("the server closed the connection")
	}
	return err
}

func (s *relpSink) Send(ctx context.Context, recs []Record) error {
	if s.conn == nil {
		if err := s.connect(ctx); err != nil {
			return err
		}
	}
	if err := s.send(ctx, recs); err != nil {
		s.drop()
		return err
	}
	return nil
}

// send writes the transactions while a goroutine reads their responses,
// keeping at most a window of them unacknowledged. Writing on while the
// responses come keeps both directions busy: a window written and then
// waited for would pay a round trip per window.
//
// Once the window is full, writing one message per acknowledgement costs
// a write(2) here and a read(2) and a send(2) in rsyslog per message, and
// the two sides stay in that lockstep. So the writer waits for room for a
// chunk (a quarter of the window) and writes it at once. But then the
// writes no longer carry this side's TCP acknowledgements of the
// responses, and rsyslog, which does not set TCP_NODELAY, holds its
// next responses back (Nagle) until the delayed acknowledgement comes,
// 40 ms later, for every chunk. Hence quickACK after each read of
// responses; where it cannot be set, the writer goes back to writing as
// soon as there is room.
func (s *relpSink) send(ctx context.Context, recs []Record) error {
	first := s.txnr + 1
	var acked atomic.Int64
	progress := make(chan struct{}, 1)
	readErr := make(chan error, 1)
	quick := s.quick
	go func() {
		for i := range recs {
			txnr := (first+i-1)%999999999 + 1
			if _, err := s.response(ctx, txnr); err != nil {
				readErr <- fmt.Errorf("no acknowledgement: %w", err)
				return
			}
			acked.Add(1)
			// Responses read together wake the writer once.
			if n := s.rd.Buffered(); n > 0 && i+1 < len(recs) {
				if b, _ := s.rd.Peek(n); bytes.IndexByte(b, '\n') >= 0 {
					continue
				}
			}
			if quick {
				quick = quickACK(s.conn)
			}
			select {
			case progress <- struct{}{}:
			default:
			}
		}
		readErr <- nil
	}()
	// fail ends the reader (closing the connection ends its read) and
	// returns the first error.
	fail := func(err error) error {
		s.conn.Close()
		if rerr := <-readErr; rerr != nil && !errors.Is(rerr, net.ErrClosed) {
			return rerr
		}
		return err
	}
	d := time.Now().Add(s.opts.timeout())
	if dl, ok := ctx.Deadline(); ok && dl.Before(d) {
		d = dl
	}
	s.conn.SetWriteDeadline(d)
	chunk := int64(1)
	if s.quick {
		chunk = int64(max(s.window/4, 1))
	}
	for i := range recs {
		if int64(i)-acked.Load() >= int64(s.window) {
			// The window is full: what is buffered goes, then wait.
			if err := s.wr.Flush(); err != nil {
				return fail(fmt.Errorf("unable to send: %w", err))
			}
			for int64(i)-acked.Load() > int64(s.window)-chunk {
				select {
				case <-progress:
				case err := <-readErr:
					readErr <- err
					return fail(err)
				}
			}
		}
		s.msg = s.f.appendSyslog(s.msg[:0], &recs[i], relpPri)
		s.frame("syslog", s.msg)
	}
	if err := s.wr.Flush(); err != nil {
		return fail(fmt.Errorf("unable to send: %w", err))
	}
	if err := <-readErr; err != nil {
		return err
	}
	return nil
}

func (s *relpSink) Close() error {
	if s.conn == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	txnr := s.frame("close", nil)
	if s.flush(ctx) == nil {
		s.response(ctx, txnr)
	}
	s.drop()
	return nil
}
