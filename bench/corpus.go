package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
)

// Corpus is a deterministic input generator plus the name its output is cached under.
type Corpus struct {
	// Name is the cache file's stem and must carry a version: bump it whenever Generate's
	// output changes, or a stale cached file of the right size would be reused.
	Name string
	// Generate writes exactly lines lines to w. Same lines, same bytes — always.
	Generate func(w io.Writer, lines int) error
}

// stampedLogCorpus is realistic log text as tai64n would have written it: every line starts
// with a TAI64N stamp. tai64n stamps it again; tai64nlocal converts the stamp.
var stampedLogCorpus = Corpus{Name: "corpus-v1", Generate: generateStampedLog}

// loggedCorpus is the corpus as `multilog t` writes it: every line behind one more stamp. Cut
// into files and made durable, it is the physical limit of a logger: the bytes it must write.
var loggedCorpus = Corpus{Name: "corpus-v1-logged", Generate: func(w io.Writer, lines int) error {
	return generateStampedLog(&prefixWriter{w: w, prefix: []byte(loggerStamp), atStart: true}, lines)
}}

// loggerStamp is the stamp loggedCorpus puts before every line: a TAI64N label as multilog's t
// writes it (the time does not matter; the length does).
const loggerStamp = "@400000006b0197683700997a "

// prefixWriter writes what it is given with prefix before every line.
type prefixWriter struct {
	w       io.Writer
	prefix  []byte
	atStart bool
	buf     []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	out := p.buf[:0]
	for _, c := range b {
		if p.atStart {
			out = append(out, p.prefix...)
		}
		out = append(out, c)
		p.atStart = c == '\n'
	}
	p.buf = out
	if _, err := p.w.Write(out); err != nil {
		return 0, err
	}
	return len(b), nil
}

// cachedCorpus returns the path and size of c's file for the given number of lines in dir,
// generating it (and saying so) if it is missing or has the wrong size.
func cachedCorpus(dir string, c Corpus, lines int) (path string, size int64, generated bool, err error) {
	path = filepath.Join(dir, fmt.Sprintf("%s-%d.txt", c.Name, lines))
	// Counting the output costs a generation pass without the disk write (well under a
	// second); it lets the size check work without a side file that could itself go stale.
	var cw countingWriter
	if err := c.Generate(&cw, lines); err != nil {
		return "", 0, false, err
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() && fi.Size() == cw.n {
		return path, cw.n, false, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", 0, false, err
	}
	// Write to a temporary name and rename, so a concurrent or interrupted run never sees
	// (or leaves behind) a half-written corpus under the final name.
	tmp, err := os.CreateTemp(dir, c.Name+"-*.tmp")
	if err != nil {
		return "", 0, false, err
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	err = tmp.Chmod(0o644)      // CreateTemp's 0600 would lock out other users of the cache
	if err == nil {
		err = c.Generate(tmp, lines)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return "", 0, false, fmt.Errorf("generating %s: %w", path, err)
	}
	return path, cw.n, true, nil
}

type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return len(p), nil
}

// splitmix64 is a tiny PRNG with a fixed published algorithm. The corpus must stay byte-for-
// byte identical across Go releases because it is cached on disk; math/rand makes no such
// promise about its streams.
type splitmix64 uint64

func (s *splitmix64) next() uint64 {
	*s += 0x9e3779b97f4a7c15
	z := uint64(*s)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// intn returns a number in [0, n). The modulo bias is irrelevant for the small n used here.
func (s *splitmix64) intn(n int) int { return int(s.next() % uint64(n)) }

func pick[T any](s *splitmix64, xs []T) T { return xs[s.intn(len(xs))] }

const (
	corpusSeed = 0x7a1c17_2024
	// corpusStart is 2024-10-26 22:00:00 UTC. The day that follows contains the end of
	// daylight saving time in Europe (2024-10-27 01:00 UTC), so tai64nlocal's default
	// TZ=Europe/Berlin has to get a zone transition right.
	corpusStart = 1729980000
	corpusSpan  = 86400 // seconds covered by the stamps, whatever the line count

	// tai64Offset is the TAI64 label of Unix second 0 in the daemontools convention:
	// 2^62 plus the 10 seconds TAI was ahead of UTC in 1970 (later leap seconds ignored).
	tai64Offset = 1<<62 + 10
)

// generateStampedLog writes lines log lines of about 92 bytes on average (newline included),
// each "@" + 24 hex digits + " " + text, with stamps rising through one day.
func generateStampedLog(w io.Writer, lines int) error {
	if lines < 0 {
		return errors.New("negative line count")
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	rng := splitmix64(corpusSeed)
	// Gaps are uniform in [0, 2*mean], so the stamps span about corpusSpan seconds and,
	// for a million lines, each second holds about a dozen lines, as busy real logs do.
	maxGap := uint64(2*corpusSpan*1e9) / uint64(max(lines, 1))
	t := int64(corpusStart * 1e9)
	line := make([]byte, 0, 512)
	for range lines {
		line = appendStamp(line[:0], t)
		line = append(line, ' ')
		line = appendMessage(line, &rng)
		line = append(line, '\n')
		if _, err := bw.Write(line); err != nil {
			return err
		}
		t += int64(rng.next() % (maxGap + 1))
	}
	return bw.Flush()
}

// appendStamp appends the TAI64N label of the Unix time t (nanoseconds): "@", 16 hex digits of
// seconds, 8 hex digits of nanoseconds.
func appendStamp(b []byte, t int64) []byte {
	b = append(b, '@')
	b = appendHex(b, uint64(t/1e9)+tai64Offset, 16)
	return appendHex(b, uint64(t%1e9), 8)
}

func appendHex(b []byte, v uint64, digits int) []byte {
	const hex = "0123456789abcdef"
	for i := digits - 1; i >= 0; i-- {
		b = append(b, hex[(v>>(4*uint(i)))&0xf])
	}
	return b
}

var (
	users    = []string{"deploy", "root", "git", "backup", "alice", "bob", "monitor"}
	paths    = []string{"/api/v1/users", "/api/v1/orders", "/health", "/static/app.js", "/login", "/api/v2/search", "/metrics", "/favicon.ico"}
	methods  = []string{"GET", "GET", "GET", "GET", "POST", "PUT", "DELETE"}
	statuses = []int{200, 200, 200, 200, 200, 201, 204, 301, 304, 400, 404, 500, 502}
	levels   = []string{"info", "info", "info", "info", "debug", "warn", "error"}
	apiMsgs  = []string{"request done", "cache miss", "retrying upstream", "session started", "token refreshed", "slow query"}
	queues   = []string{"mail", "thumbnails", "billing", "index", "webhooks"}
	states   = []string{"done", "done", "done", "done", "failed", "retry"}
	units    = []string{"nginx.service", "cron.service", "backup.timer", "api.service", "worker@3.service"}
	shorts   = []string{"-- MARK --", "ok", "tick", "reloading", "starting", "up"}
	ifaces   = []string{"eth0", "eth1", "wlan0", "bond0"}
)

// appendIntn appends a random decimal number in [0, n).
func appendIntn(b []byte, r *splitmix64, n int) []byte {
	return strconv.AppendInt(b, int64(r.intn(n)), 10)
}

// appendMessage appends one line of text (without newline) in one of several common shapes.
// The mix is weighted so the average whole line, stamp included, comes to about 92 bytes.
func appendMessage(b []byte, r *splitmix64) []byte {
	switch p := r.intn(100); {
	case p < 18: // web server access line
		b = append(b, "nginx: 10."...)
		b = appendIntn(b, r, 256)
		b = append(b, '.')
		b = appendIntn(b, r, 256)
		b = append(b, '.')
		b = appendIntn(b, r, 256)
		b = append(b, " \""...)
		b = append(b, pick(r, methods)...)
		b = append(b, ' ')
		b = append(b, pick(r, paths)...)
		b = append(b, '/')
		b = appendIntn(b, r, 100000)
		b = append(b, " HTTP/1.1\" "...)
		b = strconv.AppendInt(b, int64(pick(r, statuses)), 10)
		b = append(b, ' ')
		b = appendIntn(b, r, 60000)
	case p < 35: // structured application log
		b = append(b, "api["...)
		b = appendIntn(b, r, 30000)
		b = append(b, "]: level="...)
		b = append(b, pick(r, levels)...)
		b = append(b, " msg=\""...)
		b = append(b, pick(r, apiMsgs)...)
		b = append(b, "\" path="...)
		b = append(b, pick(r, paths)...)
		b = append(b, " status="...)
		b = strconv.AppendInt(b, int64(pick(r, statuses)), 10)
		b = append(b, " dur_ms="...)
		b = appendIntn(b, r, 2000)
	case p < 50: // job queue worker
		b = append(b, "worker-"...)
		b = appendIntn(b, r, 8)
		b = append(b, ": job="...)
		b = appendIntn(b, r, 1000000)
		b = append(b, " queue="...)
		b = append(b, pick(r, queues)...)
		b = append(b, " state="...)
		b = append(b, pick(r, states)...)
		b = append(b, " try="...)
		b = strconv.AppendInt(b, int64(1+r.intn(3)), 10)
		b = append(b, " ms="...)
		b = appendIntn(b, r, 5000)
	case p < 60:
		b = append(b, "sshd["...)
		b = appendIntn(b, r, 60000)
		b = append(b, "]: Accepted publickey for "...)
		b = append(b, pick(r, users)...)
		b = append(b, " from 10.0."...)
		b = appendIntn(b, r, 256)
		b = append(b, '.')
		b = appendIntn(b, r, 256)
		b = append(b, " port "...)
		b = strconv.AppendInt(b, int64(1024+r.intn(64000)), 10)
	case p < 68:
		b = append(b, "postgres["...)
		b = appendIntn(b, r, 60000)
		b = append(b, "]: LOG:  duration: "...)
		b = appendIntn(b, r, 900)
		b = append(b, '.')
		b = appendIntn(b, r, 1000)
		b = append(b, " ms  statement: SELECT * FROM users WHERE id="...)
		b = appendIntn(b, r, 100000)
	case p < 79:
		b = append(b, "systemd[1]: Started "...)
		b = append(b, pick(r, units)...)
		b = append(b, " for user "...)
		b = append(b, pick(r, users)...)
		b = append(b, '.')
	case p < 87:
		b = append(b, "kernel: ["...)
		b = appendIntn(b, r, 900000)
		b = append(b, '.')
		b = appendIntn(b, r, 1000000)
		b = append(b, "] "...)
		b = append(b, pick(r, ifaces)...)
		b = append(b, ": link up, 1000Mbps, full-duplex"...)
	case p < 93:
		b = append(b, "cron["...)
		b = appendIntn(b, r, 60000)
		b = append(b, "]: ("...)
		b = append(b, pick(r, users)...)
		b = append(b, ") CMD (run-parts /etc/cron.hourly)"...)
	case p < 98: // heartbeat-style short lines
		b = append(b, pick(r, shorts)...)
	default: // an occasional long error line with a JSON payload
		b = append(b, "api["...)
		b = appendIntn(b, r, 30000)
		b = append(b, "]: level=error msg=\"upstream failed\" err=\"dial tcp 10.0.0."...)
		b = appendIntn(b, r, 256)
		b = append(b, ":5432: connect: connection refused\" request={\"user\":"...)
		b = appendIntn(b, r, 100000)
		b = append(b, ",\"items\":["...)
		for i, n := 0, 1+r.intn(6); i < n; i++ {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendIntn(b, r, 1000000)
		}
		b = append(b, "],\"trace\":\""...)
		b = appendHex(b, r.next(), 16)
		b = append(b, "\"}"...)
	}
	return b
}
