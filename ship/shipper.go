package ship

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/taikit/taikit/logread"
	"github.com/taikit/taikit/tai64n"
)

// Shipper ships one log directory to a Sink.
type Shipper struct {
	// Dir is the directory, as named; its Position is kept in State under
	// that name.
	Dir    string
	Origin Origin
	Sink   Sink
	State  *State
	// URL names the sink in messages.
	URL string

	// Follow keeps shipping as the directory grows, across rotations,
	// until the context is done; without it Run returns once everything
	// there is acknowledged.
	Follow bool
	// Convention is that of the directory's stamps (daemontools' by
	// default), for the times sent.
	Convention tai64n.Convention
	// MaxBatch bounds the records sent at once, between two saves of the
	// position: what a sink that cannot deduplicate may receive twice
	// after a kill. 16384 by default.
	MaxBatch int
	// Grace bounds how long a stop waits for the acknowledgement of what
	// is in flight; 10 s by default.
	Grace time.Duration
	// Warn receives what does not stop shipping: gaps, a file of the
	// directory that cannot be read, an outage of the server and its end
	// (*Outage). It is called from Run's goroutines, one at a time.
	Warn func(error)
	// Sleep waits d, or less when ctx is done, for the backoff between
	// retries; a timer by default. Now tells outages' lengths; time.Now
	// by default.
	Sleep func(ctx context.Context, d time.Duration)
	Now   func() time.Time

	// Shipped counts the records acknowledged, for a caller's report;
	// Held those of them the server already held (a HeldCounter sink's):
	// shipped before a kill whose position was not saved yet, not stored
	// twice. Each batch with some is also said to Warn (*Resent).
	Shipped uint64
	Held    uint64

	warnMu sync.Mutex
}

// Outage reports that the server could not be reached or did not
// acknowledge: once when it begins (Err, Over false) and once when the
// records go through again (Over, with its length).
type Outage struct {
	URL    string
	Err    error
	Over   bool
	Length time.Duration
}

func (e *Outage) Error() string {
	if e.Over {
		return fmt.Sprintf("%s is back after %s: shipping again", e.URL, e.Length.Round(time.Millisecond))
	}
	return fmt.Sprintf("unable to ship to %s: %v: retrying with backoff, nothing is lost meanwhile", e.URL, e.Err)
}

func (e *Outage) Unwrap() error { return e.Err }

// Resent reports a stretch of records sent again that the server already
// held (records First to Last of Dir, Held of them): shipped before a kill
// or a broken connection and acknowledged, their position not yet saved.
// The server did not store them twice.
type Resent struct {
	URL         string
	Dir         string
	Held        int
	First, Last uint64
}

func (e *Resent) Error() string {
	return fmt.Sprintf("%s already held records %d to %d of %s (%d, shipped before a restart whose position was not saved yet): sent again, not stored twice", e.URL, e.First, e.Last, e.Dir, e.Held)
}

// sayResent warns of the stretch r, if any, and empties it.
func (s *Shipper) sayResent(r *Resent) {
	if r.Held > 0 {
		said := *r
		said.URL, said.Dir = s.URL, s.Dir
		s.warn(&said)
	}
	*r = Resent{}
}

// block is what the reader hands the sender: the records of one read
// block, and the position after its last whole line.
type block struct {
	recs []Record
	// end is the position after the block's last whole line, when hasEnd;
	// a block holding only pieces of a line has none.
	end    Position
	hasEnd bool
	// gaps met before the block's lines.
	gaps, lostBytes, lostUnknown uint64
	// err ends the stream: io.EOF when everything was read (not
	// following), or a failure.
	err error
}

const (
	defaultBatch = 16384
	// queued bounds the blocks read ahead of the sink (each at most
	// logread's 1 MiB buffer).
	queued      = 4
	minBackoff  = 100 * time.Millisecond
	maxBackoff  = 5 * time.Second
	defaultWait = 10 * time.Second
)

func (s *Shipper) maxBatch() int {
	if s.MaxBatch > 0 {
		return s.MaxBatch
	}
	return defaultBatch
}

func (s *Shipper) warn(err error) {
	if s.Warn == nil {
		return
	}
	s.warnMu.Lock()
	defer s.warnMu.Unlock()
	s.Warn(err)
}

func (s *Shipper) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Shipper) sleep(ctx context.Context, d time.Duration) {
	if s.Sleep != nil {
		s.Sleep(ctx, d)
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// Run ships the directory from its saved position. It returns nil when
// everything was acknowledged (not following) or when ctx is done (after
// waiting, at most Grace, for what was in flight), and an error when the
// directory cannot be read or the sink fails permanently (ErrPermanent).
// The Position is saved after every acknowledged batch.
func (s *Shipper) Run(ctx context.Context) error {
	pos, _ := s.State.Get(s.Dir)
	start := pos.Cursor
	blocks := make(chan block, queued)
	quit := make(chan struct{})
	rd := &reader{s: s, out: blocks, quit: quit, seq: pos.Seq, ms: pos.MS, max: max(s.Sink.MaxLine(), 1),
		batch: s.maxBatch()}
	r, err := logread.OpenDir(s.Dir, logread.Options{
		Follow: s.Follow, WaitForDir: s.Follow, Cursor: &start, Name: s.Dir,
		// Called from within NextLines, in the reader's goroutine, or
		// from OpenDir here.
		OnError: func(err error) {
			var g *logread.GapError
			if errors.As(err, &g) {
				rd.gap(g)
			}
			s.warn(err)
		},
	})
	if err != nil {
		return err
	}
	defer r.Close()
	rd.r = r

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		rd.run()
	}()
	stopReader := func() {
		close(quit)
		r.Interrupt()
		wg.Wait()
	}
	// Interrupt is safe from any goroutine: a stop ends a follower's wait.
	stopWatch := context.AfterFunc(ctx, r.Interrupt)
	defer stopWatch()

	// Sends run on their own context, which a stop cancels only after the
	// grace period: what is in flight is waited for.
	sendCtx, cancelSend := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelSend()
	grace := s.Grace
	if grace <= 0 {
		grace = defaultWait
	}
	stopGrace := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(grace, cancelSend)
		context.AfterFunc(sendCtx, func() { t.Stop() })
	})
	defer stopGrace()

	err = s.send(ctx, sendCtx, blocks, &pos)
	stopReader()
	return err
}

// send takes blocks from the reader, as many as are there up to
// MaxBatch records, sends them, and saves the position after each
// acknowledged batch.
func (s *Shipper) send(ctx, sendCtx context.Context, blocks <-chan block, pos *Position) error {
	var resent Resent // a stretch of records the server held, said once it ends
	defer s.sayResent(&resent)
	max := s.maxBatch()
	var batch []block
	var recs []Record
	var held *block // taken from the reader, for the next batch
	for {
		batch, recs = batch[:0], recs[:0]
		var end error
		if held != nil {
			batch, held = append(batch, *held), nil
		} else {
			select {
			case b := <-blocks:
				batch = append(batch, b)
			case <-ctx.Done():
				return nil
			}
		}
		n := len(batch[0].recs)
	more:
		for batch[len(batch)-1].err == nil && n < max {
			select {
			case b := <-blocks:
				if n+len(b.recs) > max {
					held = &b
					break more
				}
				batch = append(batch, b)
				n += len(b.recs)
			default:
				break more
			}
		}
		for _, b := range batch {
			recs = append(recs, b.recs...)
			if b.err != nil {
				end = b.err
			}
		}
		if len(recs) > 0 {
			if err := s.deliver(ctx, sendCtx, recs); err != nil {
				if ctx.Err() != nil && !errors.Is(err, ErrPermanent) {
					return nil // stopped before the acknowledgement: sent again next time
				}
				return err
			}
			s.Shipped += uint64(len(recs))
			if hc, ok := s.Sink.(HeldCounter); ok {
				n := hc.Held()
				s.Held += uint64(n)
				// Held records are those sent before, at the start of a
				// batch: consecutive batches of them make one stretch.
				if resent.Held > 0 && (n == 0 || recs[0].Seq != resent.Last+1) {
					s.sayResent(&resent)
				}
				if n > 0 {
					if resent.Held == 0 {
						resent.First = recs[0].Seq
					}
					resent.Held += n
					resent.Last = recs[0].Seq + uint64(n) - 1
				}
			}
		}
		changed := false
		for _, b := range batch {
			if b.gaps > 0 {
				pos.Gaps += b.gaps
				pos.LostBytes += b.lostBytes
				pos.LostUnknown += b.lostUnknown
				changed = true
			}
			if b.hasEnd {
				pos.Cursor, pos.Seq, pos.MS = b.end.Cursor, b.end.Seq, b.end.MS
				changed = true
			}
		}
		if changed {
			if err := s.State.Save(s.Dir, *pos); err != nil {
				return err
			}
		}
		if end == io.EOF {
			return nil
		}
		if end != nil {
			return end
		}
		if ctx.Err() != nil {
			return nil
		}
	}
}

// deliver sends recs until the sink acknowledges them, retrying with
// capped backoff; it says once when an outage begins and once when it
// ends.
func (s *Shipper) deliver(ctx, sendCtx context.Context, recs []Record) error {
	var began time.Time
	backoff := minBackoff
	for {
		err := s.Sink.Send(sendCtx, recs)
		if err == nil {
			if !began.IsZero() {
				s.warn(&Outage{URL: s.URL, Over: true, Length: s.now().Sub(began)})
			}
			return nil
		}
		if errors.Is(err, ErrPermanent) || ctx.Err() != nil {
			return err
		}
		if began.IsZero() {
			began = s.now()
			s.warn(&Outage{URL: s.URL, Err: err})
		}
		s.sleep(ctx, backoff)
		if ctx.Err() != nil {
			return err
		}
		backoff = min(backoff*2, maxBackoff)
	}
}

// reader turns the directory's blocks of lines into records.
type reader struct {
	s     *Shipper
	r     *logread.Reader
	out   chan<- block
	quit  <-chan struct{}
	max   int // the sink's longest line
	batch int // records in a block at most

	seq, ms uint64
	stamp   tai64n.Label
	// carry is a line begun in a block and not ended yet (a line longer
	// than the read buffer, or cut at an archive's size cap), with the
	// pieces of it already made into records.
	carry        []byte
	carryParts   int
	carryStamped bool

	gaps, lostBytes, lostUnknown uint64
}

func (rd *reader) put(b block) bool {
	select {
	case rd.out <- b:
		return true
	case <-rd.quit:
		return false
	}
}

func (rd *reader) run() {
	for {
		lines, err := rd.r.NextLines()
		if err != nil {
			if errors.Is(err, logread.ErrInterrupted) {
				return
			}
			// A line whose end never came is not shipped: the position
			// stays before it, and the next run ships it whole.
			rd.put(block{err: err, gaps: rd.gaps, lostBytes: rd.lostBytes, lostUnknown: rd.lostUnknown})
			return
		}
		for _, b := range rd.records(lines) {
			if !rd.put(b) {
				return
			}
		}
	}
}

// gap counts a gap the reader reported (called from within NextLines,
// in the reader's goroutine).
func (rd *reader) gap(g *logread.GapError) {
	rd.gaps++
	n, complete := g.Lost()
	rd.lostBytes += uint64(n)
	if !complete {
		rd.lostUnknown++
	}
}

// records makes the records of one read block, in memory of their own,
// as blocks of at most a batch of whole lines each, so that a batch (what
// may be sent again after a kill) never holds more than MaxBatch lines.
func (rd *reader) records(l logread.Lines) []block {
	b := block{gaps: rd.gaps, lostBytes: rd.lostBytes, lostUnknown: rd.lostUnknown}
	rd.gaps, rd.lostBytes, rd.lostUnknown = 0, 0, 0
	if len(rd.carry) == 0 && rd.carryParts == 0 {
		rd.stamp = l.Stamp
	}
	var out []block
	data := bytes.Clone(l.Bytes)
	lastEnd := -1 // offset in the block after its last whole line
	var endSeq, endMS uint64
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		var line []byte
		if i < 0 {
			line, data = data, nil
			if !l.Cut {
				rd.carry = append(rd.carry, line...)
				rd.early(&b)
				break
			}
		} else {
			line, data = data[:i], data[i+1:]
		}
		rd.line(&b, line)
		lastEnd, endSeq, endMS = len(l.Bytes)-len(data), rd.seq, rd.ms
		if len(b.recs) >= rd.batch && len(data) > 0 {
			b.hasEnd = true
			b.end = Position{Cursor: rd.r.CursorAfter(lastEnd), Seq: endSeq, MS: endMS}
			out = append(out, b)
			b, lastEnd = block{}, -1
		}
	}
	if lastEnd >= 0 {
		b.hasEnd = true
		b.end = Position{Cursor: rd.r.CursorAfter(lastEnd), Seq: endSeq, MS: endMS}
	}
	return append(out, b)
}

// head takes the stamp off a line: the line's own, when it begins with
// one, is the stamp of the lines after it too.
func (rd *reader) head(line []byte) (msg []byte, stamped bool) {
	if len(line) >= tai64n.StampLen && line[0] == '@' {
		if lab, ok := tai64n.ParsePrefix(line); ok {
			rd.stamp = lab
			msg = line[tai64n.StampLen:]
			if len(msg) > 0 && msg[0] == ' ' {
				msg = msg[1:]
			}
			return msg, true
		}
	}
	return line, false
}

func (rd *reader) emit(b *block, msg []byte, stamped bool, part int, more bool) {
	rd.seq++
	if ms := unixMS(rd.stamp, rd.s.Convention); ms > rd.ms {
		rd.ms = ms
	}
	b.recs = append(b.recs, Record{Seq: rd.seq, Stamp: rd.stamp, Stamped: stamped, MS: rd.ms,
		Line: msg, Part: part, More: more})
}

// line makes the records of a whole line: the rest of the line carried,
// if any, ends with it.
func (rd *reader) line(b *block, line []byte) {
	if len(rd.carry) > 0 || rd.carryParts > 0 {
		line = append(rd.carry, line...)
		rd.carry = nil
	}
	msg, stamped := line, rd.carryStamped
	if rd.carryParts == 0 {
		msg, stamped = rd.head(line)
		if len(msg) <= rd.max {
			rd.emit(b, msg, stamped, 0, false)
			return
		}
	}
	part := rd.carryParts
	rd.carryParts = 0
	for {
		part++
		if len(msg) <= rd.max {
			rd.emit(b, msg, stamped, part, false)
			return
		}
		rd.emit(b, msg[:rd.max], stamped, part, true)
		msg = msg[rd.max:]
	}
}

// early makes pieces of a line carried as soon as they are whole, so that
// however long the line, the memory it holds stays bounded.
func (rd *reader) early(b *block) {
	if rd.carryParts == 0 {
		if len(rd.carry) <= rd.max+tai64n.StampLen+1 {
			return
		}
		rd.carry, rd.carryStamped = rd.head(rd.carry)
	}
	for len(rd.carry) > rd.max {
		rd.carryParts++
		rd.emit(b, rd.carry[:rd.max:rd.max], rd.carryStamped, rd.carryParts, true)
		rd.carry = rd.carry[rd.max:]
	}
}
