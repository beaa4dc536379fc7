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
	"time"
)

// redisSink adds records to a Redis stream with XADD and explicit entry
// IDs, "<ms>-<seq>": the record's time in Unix milliseconds (never less
// than the record before) and its number. They only grow, so the stream
// refuses an entry sent again as not newer than its top; the sink then
// checks that the entry under that ID is this record (its key), and
// otherwise stops: another writer adds to the stream, and entries of this
// origin would be refused as well. Give each origin a stream of its own
// ({host}, {name} in the URL).
//
// It speaks RESP itself on one connection, for speed: go-redis's
// pipelines write a window and then wait for all of its replies, and
// build every command from interface values (2.8 µs of CPU a line, more
// than the server's XADD). Here each window is one MULTI ... EXEC
// transaction, written while the replies of the window before are still
// coming (two windows in flight, in order on the connection, so the IDs
// reach the server in increasing order). The transaction matters most
// with appendfsync always: the server fsyncs its append-only file once
// per event-loop turn that executed commands, and reads at most 16 KiB of
// a connection per turn, which is some 60 XADDs; inside MULTI the queued
// commands execute only at EXEC, so a whole window costs one fsync.
type redisSink struct {
	url    string
	addr   string
	user   string
	pass   string
	hasPW  bool
	stream string
	origin Origin
	opts   SinkOptions
	f      *formatter
	window int

	conn net.Conn
	r    *bufio.Reader
	w    *bufio.Writer
	// fixed is the RESP of the fields every entry has alike (host, name,
	// dir); scratch holds an entry's RESP, val a field's value as text.
	fixed   []byte
	scratch []byte
	val     []byte
	nheld   int // records of the last Send the stream held (refused as not newer, checked to be ours)
}

func openRedis(ctx context.Context, u *url.URL, stream string, o Origin, opts SinkOptions) (Sink, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	window := opts.Window
	if window <= 0 {
		window = 4096
	}
	s := &redisSink{url: u.Redacted(), addr: u.Host, stream: stream, origin: o, opts: opts, window: window}
	if u.User != nil {
		s.user = u.User.Username()
		s.pass, s.hasPW = u.User.Password()
	}
	s.f = newFormatter(&s.origin, 0)
	for _, f := range []string{"host", o.Host, "name", o.Name, "dir", o.Dir} {
		s.fixed = appendBulk(s.fixed, f)
	}
	if err := s.connect(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// connect dials the server, authenticates when the URL has a user or
// password, and checks that it answers.
func (s *redisSink) connect(ctx context.Context) error {
	c, err := s.opts.dial(ctx, s.addr)
	if err != nil {
		return fmt.Errorf("unable to connect to %s: %w", s.url, err)
	}
	s.conn, s.r, s.w = c, bufio.NewReaderSize(c, 64<<10), bufio.NewWriterSize(c, 64<<10)
	stop := s.watch(ctx)
	defer stop()
	var cmd []byte
	cmds := 2
	switch {
	case s.user != "" && s.hasPW:
		cmd = appendCommand(nil, "AUTH", s.user, s.pass)
	case s.hasPW:
		cmd = appendCommand(nil, "AUTH", s.pass)
	default: // a user without a password is no login (as go-redis and redis-cli take it)
		cmds = 1
	}
	cmd = appendCommand(cmd, "PING")
	s.conn.SetDeadline(time.Now().Add(s.opts.timeout()))
	_, err = s.w.Write(cmd)
	if err == nil {
		err = s.w.Flush()
	}
	for i := 0; err == nil && i < cmds; i++ {
		var v respValue
		if v, err = s.readValue(); err == nil && v.err != "" {
			err = respError(v.err)
		}
	}
	if err != nil {
		s.drop()
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return fmt.Errorf("unable to connect to %s: %w", s.url, err)
	}
	return nil
}

// watch makes the connection's waits end when ctx is done.
func (s *redisSink) watch(ctx context.Context) (stop func() bool) {
	c := s.conn
	return context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
}

func (s *redisSink) drop() {
	if s.conn != nil {
		s.conn.Close()
		s.conn = nil
	}
}

// MaxLine: Redis takes strings of 512 MB; a line is split at 1 MiB to
// keep each entry, and the memory of a batch, reasonable.
func (s *redisSink) MaxLine() int { return 1 << 20 }

func (s *redisSink) appendID(dst []byte, r *Record) []byte {
	dst = strconv.AppendUint(dst, r.MS, 10)
	dst = append(dst, '-')
	return strconv.AppendUint(dst, r.Seq, 10)
}

// Held is HeldCounter's.
func (s *redisSink) Held() int { return s.nheld }

func (s *redisSink) Send(ctx context.Context, recs []Record) error {
	if s.conn == nil {
		if err := s.connect(ctx); err != nil {
			return err
		}
	}
	stop := s.watch(ctx)
	defer stop()
	s.nheld = 0
	held, err := s.send(recs)
	if err == nil && len(held) > 0 {
		err = s.checkHeld(recs, held)
	}
	if err == nil {
		s.nheld = len(held)
	}
	if err != nil && !errors.Is(err, ErrPermanent) {
		s.drop() // the replies may be out of step: a new connection next time
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%v)", ctx.Err(), err)
		}
	}
	return err
}

// send writes recs as transactions of a window each, the next written
// before the replies of the one before are read, and returns the indexes
// of the records the stream refused as not newer than its top.
func (s *redisSink) send(recs []Record) (held []int, err error) {
	pending := -1 // the first record of the window written and not read
	pendingN := 0
	for start := 0; start < len(recs) || pending >= 0; {
		if start < len(recs) {
			n := min(len(recs)-start, s.window)
			s.conn.SetWriteDeadline(time.Now().Add(s.opts.timeout()))
			if err := s.writeWindow(recs[start : start+n]); err != nil {
				return nil, fmt.Errorf("no acknowledgement from %s: %w", s.url, err)
			}
			if pending >= 0 {
				if held, err = s.readWindow(pending, pendingN, held); err != nil {
					return nil, err
				}
			}
			pending, pendingN = start, n
			start += n
			continue
		}
		if held, err = s.readWindow(pending, pendingN, held); err != nil {
			return nil, err
		}
		pending = -1
	}
	return held, nil
}

var (
	respMulti = appendCommand(nil, "MULTI")
	respExec  = appendCommand(nil, "EXEC")
	bulkXADD  = appendBulk(nil, "XADD")
	bulkLine  = appendBulk(nil, "line")
	bulkKey   = appendBulk(nil, "key")
	bulkSeq   = appendBulk(nil, "seq")
	bulkTime  = appendBulk(nil, "time")
	bulkTAI   = appendBulk(nil, "tai64n")
	bulkPart  = appendBulk(nil, "part")
	bulkMore  = appendBulk(nil, "more")
)

// writeWindow writes one transaction: MULTI, an XADD per record, EXEC.
// The entry has the fields logcat -j writes (line, time, tai64n) and the
// origin's (host, name, dir, key, seq; part and more for a piece of a
// line).
func (s *redisSink) writeWindow(recs []Record) error {
	w := s.w
	w.Write(respMulti)
	for i := range recs {
		r := &recs[i]
		args := 3 + 2*6
		if r.Stamped {
			args += 4
		}
		if r.Part > 0 {
			args += 4
		}
		b := append(s.scratch[:0], '*')
		b = strconv.AppendInt(b, int64(args), 10)
		b = append(b, "\r\n"...)
		b = append(b, bulkXADD...)
		b = appendBulk(b, s.stream)
		v := s.appendID(s.val[:0], r)
		b = appendBulkBytes(b, v)
		w.Write(b)
		w.Write(bulkLine)
		writeBulk(w, r.Line)
		w.Write(s.fixed)
		b = append(b[:0], bulkKey...)
		v = r.AppendKey(v[:0], &s.origin)
		b = appendBulkBytes(b, v)
		b = append(b, bulkSeq...)
		v = strconv.AppendUint(v[:0], r.Seq, 10)
		b = appendBulkBytes(b, v)
		if r.Stamped {
			b = append(b, bulkTime...)
			t, ok := s.f.times.Append(v[:0], r.Stamp)
			if !ok {
				t = t[:0]
			}
			v = t
			b = appendBulkBytes(b, v)
			b = append(b, bulkTAI...)
			v = r.Stamp.Append(v[:0])
			b = appendBulkBytes(b, v)
		}
		if r.Part > 0 {
			b = append(b, bulkPart...)
			v = strconv.AppendInt(v[:0], int64(r.Part), 10)
			b = appendBulkBytes(b, v)
			b = append(b, bulkMore...)
			more := "0"
			if r.More {
				more = "1"
			}
			b = appendBulk(b, more)
		}
		w.Write(b)
		s.scratch, s.val = b, v
	}
	w.Write(respExec)
	return w.Flush()
}

// refusedOld is the start of the server's refusal of an ID not newer than
// the stream's top.
const refusedOld = "ERR The ID specified in XADD is equal or smaller than the target stream top item"

// readWindow reads the replies of the transaction of n records from
// first: MULTI's OK, a QUEUED per XADD, and EXEC's array of IDs.
func (s *redisSink) readWindow(first, n int, held []int) ([]int, error) {
	s.conn.SetReadDeadline(time.Now().Add(s.opts.timeout()))
	var queueErr string
	for i := 0; i < n+1; i++ {
		line, err := s.readLine()
		if err != nil {
			return nil, fmt.Errorf("no acknowledgement from %s: %w", s.url, err)
		}
		if line[0] == '-' && queueErr == "" {
			queueErr = string(line[1:])
		}
	}
	line, err := s.readLine()
	if err != nil {
		return nil, fmt.Errorf("no acknowledgement from %s: %w", s.url, err)
	}
	if line[0] == '-' {
		// EXECABORT: a command was refused as it was queued; nothing ran.
		why := string(line[1:])
		if queueErr != "" {
			why = queueErr
		}
		return nil, s.refused(respError(why))
	}
	if line[0] != '*' {
		return nil, fmt.Errorf("%s answered EXEC with %q: not a Redis server?", s.url, line)
	}
	if k, err := strconv.Atoi(string(line[1:])); err != nil || k != n {
		return nil, fmt.Errorf("%s answered EXEC with %q replies for %d commands", s.url, line[1:], n)
	}
	for i := range n {
		line, err := s.readLine()
		if err != nil {
			return nil, fmt.Errorf("no acknowledgement from %s: %w", s.url, err)
		}
		switch line[0] {
		case '$':
			if k, err := strconv.Atoi(string(line[1:])); err != nil || k < 0 {
				return nil, fmt.Errorf("%s answered XADD with %q", s.url, line)
			} else if _, err := s.r.Discard(k + 2); err != nil {
				return nil, fmt.Errorf("no acknowledgement from %s: %w", s.url, err)
			}
		case '-':
			if bytes.HasPrefix(line[1:], []byte(refusedOld)) {
				held = append(held, first+i)
				continue
			}
			return nil, s.refused(respError(line[1:]))
		default:
			return nil, fmt.Errorf("%s answered XADD with %q", s.url, line)
		}
	}
	return held, nil
}

// refused is the error for a command the server refused: permanent, but
// for the refusals of a server not ready yet (loading, a replica, busy)
// that a retry may get past.
func (s *redisSink) refused(e respError) error {
	err := fmt.Errorf("%s refused XADD to %s: %w", s.url, s.stream, e)
	for _, p := range []string{"LOADING", "READONLY", "CLUSTERDOWN", "TRYAGAIN", "MASTERDOWN", "BUSY"} {
		if bytes.HasPrefix([]byte(e), []byte(p)) {
			return err
		}
	}
	return permanent(err)
}

// checkHeld makes sure the entries refused are this origin's records, sent
// before: the entry under each ID has the record's key.
func (s *redisSink) checkHeld(recs []Record, held []int) error {
	s.conn.SetDeadline(time.Now().Add(s.opts.timeout()))
	for _, i := range held {
		id := string(s.appendID(nil, &recs[i]))
		s.w.Write(appendCommand(nil, "XRANGE", s.stream, id, id))
	}
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("%s did not answer XRANGE on %s: %w", s.url, s.stream, err)
	}
	var bad int = -1
	for _, i := range held {
		v, err := s.readValue()
		if err != nil {
			return fmt.Errorf("%s did not answer XRANGE on %s: %w", s.url, s.stream, err)
		}
		if v.err != "" {
			return s.refused(respError(v.err))
		}
		// [[id, [field, value, ...]]]
		ok := len(v.arr) == 1 && len(v.arr[0].arr) == 2
		if ok {
			ok = false
			f := v.arr[0].arr[1].arr
			for j := 0; j+1 < len(f); j += 2 {
				if f[j].str == "key" {
					ok = f[j+1].str == recs[i].Key(&s.origin)
				}
			}
		}
		if !ok && bad < 0 {
			bad = i
		}
	}
	if bad >= 0 {
		return permanent(fmt.Errorf("stream %s on %s has entries newer than %s that are not this origin's (%s): another writer adds to it; give each origin a stream of its own (redis://host:port/logs:{host}:{name})",
			s.stream, s.url, s.appendID(nil, &recs[bad]), recs[bad].Key(&s.origin)))
	}
	return nil
}

func (s *redisSink) Close() error {
	if s.conn == nil {
		return nil
	}
	err := s.conn.Close()
	s.conn = nil
	return err
}

// respError is an error reply of the server.
type respError string

func (e respError) Error() string { return string(e) }

// readLine reads one line of a reply, without its CRLF; it is valid until
// the next read.
func (s *redisSink) readLine() ([]byte, error) {
	line, err := s.r.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, errors.New("a reply line longer than 64 KiB: not a Redis server?")
		}
		return nil, err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return nil, fmt.Errorf("malformed reply %q: not a Redis server?", line)
	}
	return line[:len(line)-2], nil
}

// respValue is a reply read whole: a string, an error or an array.
type respValue struct {
	str string
	err string
	arr []respValue
}

// readValue reads a reply of any type (RESP2), nested at most a few
// levels as XRANGE's are.
func (s *redisSink) readValue() (respValue, error) {
	return s.readValueDepth(0)
}

func (s *redisSink) readValueDepth(depth int) (respValue, error) {
	line, err := s.readLine()
	if err != nil {
		return respValue{}, err
	}
	switch line[0] {
	case '+', ':':
		return respValue{str: string(line[1:])}, nil
	case '-':
		return respValue{err: string(line[1:])}, nil
	case '$':
		k, err := strconv.Atoi(string(line[1:]))
		if err != nil || k < -1 || k > 512<<20 {
			return respValue{}, fmt.Errorf("malformed reply %q: not a Redis server?", line)
		}
		if k < 0 {
			return respValue{}, nil
		}
		b := make([]byte, k+2)
		if _, err := io.ReadFull(s.r, b); err != nil {
			return respValue{}, err
		}
		return respValue{str: string(b[:k])}, nil
	case '*':
		k, err := strconv.Atoi(string(line[1:]))
		if err != nil || k < -1 || k > 1<<24 || depth > 8 {
			return respValue{}, fmt.Errorf("malformed reply %q: not a Redis server?", line)
		}
		v := respValue{arr: make([]respValue, max(k, 0))}
		for i := range v.arr {
			if v.arr[i], err = s.readValueDepth(depth + 1); err != nil {
				return respValue{}, err
			}
		}
		return v, nil
	}
	return respValue{}, fmt.Errorf("malformed reply %q: not a Redis server?", line)
}

// appendCommand appends a command of string arguments in RESP.
func appendCommand(dst []byte, args ...string) []byte {
	dst = append(dst, '*')
	dst = strconv.AppendInt(dst, int64(len(args)), 10)
	dst = append(dst, "\r\n"...)
	for _, a := range args {
		dst = appendBulk(dst, a)
	}
	return dst
}

func appendBulk(dst []byte, s string) []byte {
	dst = append(dst, '$')
	dst = strconv.AppendInt(dst, int64(len(s)), 10)
	dst = append(dst, "\r\n"...)
	dst = append(dst, s...)
	return append(dst, "\r\n"...)
}

func appendBulkBytes(dst, v []byte) []byte {
	dst = append(dst, '$')
	dst = strconv.AppendInt(dst, int64(len(v)), 10)
	dst = append(dst, "\r\n"...)
	dst = append(dst, v...)
	return append(dst, "\r\n"...)
}

func writeBulk(w *bufio.Writer, v []byte) {
	var hdr [24]byte
	h := append(hdr[:0], '$')
	h = strconv.AppendInt(h, int64(len(v)), 10)
	h = append(h, "\r\n"...)
	w.Write(h)
	w.Write(v)
	w.WriteString("\r\n")
}
