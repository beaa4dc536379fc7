package statusweb

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/taikit/taikit/logread"
	"github.com/taikit/taikit/tai64n"
)

// heartbeat is how often an idle event stream gets a comment line: a
// client or proxy that went away is noticed, and one that is there keeps
// the connection.
const heartbeat = 25 * time.Second

// eventStream is an open server-sent event stream.
type eventStream struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
}

// openStream takes one of the server's stream slots and starts the
// response; it answers 503 and returns false when every slot is taken. The
// caller releases the slot with closeStream.
func (s *Server) openStream(w http.ResponseWriter) (*eventStream, bool) {
	select {
	case s.streams <- struct{}{}:
	default:
		w.Header().Set("Retry-After", "10")
		http.Error(w, "too many event streams open: close a page, or raise --max-streams", http.StatusServiceUnavailable)
		return nil, false
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // a proxy in front must not hold events
	es := &eventStream{w: w, rc: http.NewResponseController(w), timeout: orDefault(s.WriteTimeout, DefaultWriteTimeout)}
	w.WriteHeader(http.StatusOK)
	if err := es.send([]byte(": svstatd\n\n")); err != nil {
		s.closeStream()
		return nil, false
	}
	return es, true
}

func (s *Server) closeStream() { <-s.streams }

// send writes b and flushes it within the write time limit, which is
// moved forward for each event: the connection's own limit would end a
// stream that is meant to stay open.
func (es *eventStream) send(b []byte) error {
	es.rc.SetWriteDeadline(time.Now().Add(es.timeout))
	if _, err := es.w.Write(b); err != nil {
		return err
	}
	return es.rc.Flush()
}

// events streams the state of the services: the whole list, then each
// change as the status files change.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	es, ok := s.openStream(w)
	if !ok {
		return
	}
	defer s.closeStream()
	ch := s.hub.subscribe()
	defer s.hub.unsubscribe(ch)
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	for {
		var err error
		select {
		case <-r.Context().Done():
			return
		case ev, ok := <-ch:
			if !ok {
				return // too slow: the browser reconnects
			}
			err = es.send(ev)
		case <-tick.C:
			err = es.send([]byte(": ping\n\n"))
		}
		if err != nil {
			return
		}
	}
}

// Bounds of a log tail.
const (
	defaultTailLines = 100
	maxTailLines     = 1000
	maxLineShown     = 4096 // bytes of a line sent; the rest is cut
)

// logLine is one line of a log tail, as the page shows it.
type logLine struct {
	Stamp string `json:"stamp,omitempty"` // in local time, as tai64nlocal writes it
	Text  string `json:"text"`
	Cut   bool   `json:"cut,omitempty"` // longer than maxLineShown
}

// lineBuilder gathers a line given in pieces (longer than logread's
// buffer) and formats it.
type lineBuilder struct {
	fmt     *tai64n.Formatter
	buf     []byte
	cut     bool
	stamp   tai64n.Label
	stamped bool
}

// add adds a piece; it returns a whole line when one is complete.
func (b *lineBuilder) add(l logread.Line) (logLine, bool) {
	if len(b.buf) == 0 && !b.cut {
		b.stamp, b.stamped = l.Stamp, l.Stamped
	}
	data := l.Bytes
	end := len(data) > 0 && data[len(data)-1] == '\n' || l.Cut
	if len(data) > 0 && data[len(data)-1] == '\n' {
		data = data[:len(data)-1]
	}
	if room := maxLineShown - len(b.buf); len(data) > room {
		data, b.cut = data[:max(room, 0)], true
	}
	b.buf = append(b.buf, data...)
	if !end {
		return logLine{}, false
	}
	text := b.buf
	var out logLine
	if b.stamped && len(text) > tai64n.StampLen && text[0] == '@' && text[tai64n.StampLen] == ' ' {
		text = text[tai64n.StampLen+1:]
		if s, ok := b.fmt.Append(nil, b.stamp); ok {
			out.Stamp = string(s)
		}
	}
	out.Text, out.Cut = string(text), b.cut
	b.buf, b.cut = b.buf[:0], false
	return out, true
}

// lastLines reads the log directory to its end and returns its last n
// lines and the cursor after them. It first reads only the last ten
// minutes, then the last day, then everything, until it has n lines, so
// that a large directory costs what its recent part costs.
func lastLines(dir string, n int, now time.Time, f *tai64n.Formatter) ([]logLine, logread.Cursor, error) {
	var lines []logLine
	var end logread.Cursor
	for _, back := range []time.Duration{10 * time.Minute, 24 * time.Hour, 0} {
		opts := logread.Options{OnError: func(error) {}}
		if back > 0 {
			opts.Since, opts.HasSince = tai64n.FromTime(now.Add(-back), tai64n.Daemontools), true
		}
		r, err := logread.OpenDir(dir, opts)
		if err != nil {
			return nil, end, err
		}
		lines = lines[:0]
		b := lineBuilder{fmt: f}
		for {
			l, err := r.Next()
			if err != nil {
				break
			}
			if ll, ok := b.add(l); ok && n > 0 { // n=0: only the position
				if len(lines) == n {
					copy(lines, lines[1:])
					lines = lines[:n-1]
				}
				lines = append(lines, ll)
			}
		}
		end = r.Cursor()
		r.Close()
		if len(lines) >= n {
			break
		}
	}
	return lines, end, nil
}

// logTail streams a log directory: its last lines (?n=, default 100),
// then each new line as it is written, across rotations, losing none (the
// follower starts at the cursor where the last lines ended).
func (s *Server) logTail(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	dir, ok := s.findLogDir(name)
	if !ok {
		writeJSON(w, http.StatusNotFound, apiError{"no log directory " + name})
		return
	}
	n := defaultTailLines
	if v := r.URL.Query().Get("n"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 0 || n > maxTailLines {
			writeJSON(w, http.StatusBadRequest, apiError{"n must be a number of lines from 0 to " + strconv.Itoa(maxTailLines)})
			return
		}
	}
	es, ok := s.openStream(w)
	if !ok {
		return
	}
	defer s.closeStream()
	f := tai64n.NewFormatter(s.Zone, tai64n.Daemontools, tai64n.LayoutTAI64NLocal)
	lines, end, err := lastLines(dir, n, s.now(), f)
	if err != nil {
		sendJSON(es, "note", err.Error())
		return
	}
	if len(lines) > 0 && n > 0 {
		if sendJSON(es, "lines", lines) != nil {
			return
		}
	}
	fr, err := logread.OpenDir(dir, logread.Options{Follow: true, Cursor: &end, OnError: func(error) {}})
	if err != nil {
		sendJSON(es, "note", err.Error())
		return
	}
	// The follower's goroutine belongs to this request: interrupted and
	// waited for when the client goes or the server stops.
	got := make(chan logLine, 64)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(got)
		b := lineBuilder{fmt: tai64n.NewFormatter(s.Zone, tai64n.Daemontools, tai64n.LayoutTAI64NLocal)}
		for {
			l, err := fr.Next()
			if err != nil {
				return
			}
			if ll, ok := b.add(l); ok {
				select {
				case got <- ll:
				case <-r.Context().Done():
					return
				}
			}
		}
	}()
	defer func() {
		fr.Interrupt()
		<-done
		fr.Close()
	}()
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	batch := make([]logLine, 0, 64)
	for {
		var err error
		select {
		case <-r.Context().Done():
			return
		case ll, ok := <-got:
			if !ok {
				return
			}
			// Lines that came together go in one event.
			batch = append(batch[:0], ll)
		more:
			for len(batch) < cap(batch) {
				select {
				case ll, ok := <-got:
					if !ok {
						break more
					}
					batch = append(batch, ll)
				default:
					break more
				}
			}
			err = sendJSON(es, "lines", batch)
		case <-tick.C:
			err = es.send([]byte(": ping\n\n"))
		}
		if err != nil {
			return
		}
	}
}

func sendJSON(es *eventStream, event string, v any) error {
	j, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return es.send(frame(event, j))
}

// findLogDir returns the directory of the log directory called name, if
// the tree has one: looked up, never joined to a path.
func (s *Server) findLogDir(name string) (string, bool) {
	_, logdirs, _ := s.Tree.List()
	for _, e := range logdirs {
		if e.Name == name {
			return e.Dir, true
		}
	}
	return "", false
}
