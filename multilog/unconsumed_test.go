package multilog

import (
	"bytes"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestRecordRoundTrip(t *testing.T) {
	r := record{gen: 7, pipeDev: 15, pipeIno: 4177785, script: 0xdeadbeef, state: recWriting, flags: startsMid | endsMid | nextDiffers,
		length: 1 << 20, sum: 0x12345678, stamp: time.Date(2026, 12, 5, 3, 4, 5, 6, time.UTC).UnixNano(),
		curIno: 99, curSize: 4096, progress: 123456}
	var b [2 * recordSize]byte
	r.encode(b[:recordSize])
	older := r
	older.gen, older.progress = 6, 1
	older.encode(b[recordSize:])
	got, ok := decodeRecord(b[:])
	if !ok || got != r {
		t.Fatalf("decoded %+v, %v; want %+v", got, ok, r)
	}
	// A slot torn or damaged is passed over for the other one.
	b[40] ^= 1
	if got, ok := decodeRecord(b[:]); !ok || got != older {
		t.Errorf("with the newer slot damaged: %+v, %v; want the older %+v", got, ok, older)
	}
	for name, data := range map[string][]byte{
		"empty":     nil,
		"text":      []byte(strings.Repeat("not a record\n", 20)),
		"short":     b[recordSize : recordSize+50],
		"both bad":  append(append([]byte{}, b[:recordSize]...), make([]byte, recordSize)...),
		"bad state": badRecord(func(r *record) { r.state = 9 }),
		"bad flags": badRecord(func(r *record) { r.flags = 8 }),
		"negative":  badRecord(func(r *record) { r.progress = -1 }),
	} {
		if got, ok := decodeRecord(data); ok {
			t.Errorf("%s: decoded %+v", name, got)
		}
	}
}

func badRecord(f func(*record)) []byte {
	r := record{state: recWriting}
	f(&r)
	b := make([]byte, recordSize)
	r.encode(b)
	return b
}

// pipeWith returns a pipe holding data, the writer still open.
func pipeWith(t *testing.T, data string) (*os.File, *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	if _, err := w.WriteString(data); err != nil {
		t.Fatal(err)
	}
	return r, w
}

// runOnPipe runs multilog with args on a pipe holding input, to its end.
func runOnPipe(t *testing.T, args []string, r, w *os.File) string {
	t.Helper()
	w.Close()
	var stderr bytes.Buffer
	clock := func() time.Time { return time.Unix(1_800_000_000, 0) }
	if err := Run(Config{Args: args, Stdin: r, Stdout: os.Stdout, Stderr: &stderr, Clock: clock}); err != nil {
		t.Fatalf("Run: %v; stderr %q", err, stderr.String())
	}
	return stderr.String()
}

// writeRecord leaves in dir the record a multilog killed while writing
// batch (of pipe r) would have left, having written had bytes of it.
func writeRecord(t *testing.T, dir string, r *os.File, args []string, batch string, stamp time.Time, had int64, mod func(*record)) {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Fstat(int(r.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	rec := record{gen: 1, pipeDev: uint64(st.Dev), pipeIno: st.Ino, script: planSum(Parse(args)), state: recWriting,
		length: uint64(len(batch)), sum: crc32.Checksum([]byte(batch), castagnoli), stamp: stamp.UnixNano(), progress: had}
	if mod != nil {
		mod(&rec)
	}
	b := make([]byte, 2*recordSize)
	rec.encode(b)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, fileUnconsumed), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestUnconsumedRepeat: a record of the batch at the head of the pipe
// makes multilog write to the directory only the part of that batch's
// output the record says it lacks, with the batch's own stamp; a record
// that does not match the pipe (another pipe, other bytes, another
// script) is not trusted, and everything is written.
func TestUnconsumedRepeat(t *testing.T) {
	const batch = "one\ntwo\nthree\n"
	const more = "four\n"
	stamp := time.Date(2026, 12, 5, 3, 0, 0, 123456789, time.UTC)
	old := "2026-12-05T03:00:00.123456789+00:00 "
	now := "2027-01-15T08:00:00.000000000+00:00 "
	for name, c := range map[string]struct {
		had  int64
		mod  func(*record)
		want string
	}{
		"two lines there": {had: int64(2 * len(old+"one\n")), want: old + "three\n"},
		"a line cut":      {had: int64(len(old + "one\n" + old + "tw")), want: "o\n" + old + "three\n"},
		"all there":       {had: int64(3*len(old) + len(batch)), want: ""},
		"nothing there":   {had: 0, want: old + "one\n" + old + "two\n" + old + "three\n"},
		"another pipe":    {mod: func(r *record) { r.pipeIno++ }, want: now + "one\n" + now + "two\n" + now + "three\n"},
		"other bytes":     {mod: func(r *record) { r.sum++ }, want: now + "one\n" + now + "two\n" + now + "three\n"},
		"another script":  {mod: func(r *record) { r.script++ }, want: now + "one\n" + now + "two\n" + now + "three\n"},
		"consumed":        {mod: func(r *record) { r.state = recDone }, want: now + "one\n" + now + "two\n" + now + "three\n"},
		// Every directory written, the batch still at the head, and the
		// record says the bytes after it began otherwise: consumed unwritten.
		"written": {had: int64(3*len(old) + len(batch)), mod: func(r *record) { r.state, r.flags = recWritten, nextDiffers }, want: ""},
	} {
		t.Run(strings.ReplaceAll(name, " ", "_"), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "d")
			args := []string{"T", dir}
			r, w := pipeWith(t, batch+more)
			writeRecord(t, dir, r, args, batch, stamp, c.had, c.mod)
			if e := runOnPipe(t, args, r, w); e != "" {
				t.Errorf("stderr %q", e)
			}
			got, _ := os.ReadFile(filepath.Join(dir, "current"))
			if want := c.want + now + more; string(got) != want {
				t.Errorf("current:\n%q\nwant\n%q", got, want)
			}
		})
	}
}

// TestUnconsumedSameBytesAhead: a record saying every directory has the
// batch leaves the next multilog to tell from the pipe whether the killed
// one removed it. A head with the batch's bytes is the batch itself only
// if the record says the bytes after it began otherwise; if not (the same
// bytes again, or nothing known), it cannot be told from a next batch of
// the same bytes, and is logged as new input, with a warning: at worst
// twice, never lost. "consumed, next the same" is the case that lost a
// flood's piece: the killed multilog had removed the batch, and the head
// is the next one, byte for byte the same, followed by other bytes.
func TestUnconsumedSameBytesAhead(t *testing.T) {
	const batch = "tick\ntick\n"
	stamp := time.Date(2026, 12, 5, 3, 0, 0, 123456789, time.UTC)
	old := "2026-12-05T03:00:00.123456789+00:00 "
	now := "2027-01-15T08:00:00.000000000+00:00 "
	all := int64(2*len(old) + len(batch))
	const ambiguous = "multilog: warning: the pipe begins with the 10 bytes a killed multilog had written to every directory, and a pipe does not say"
	for name, c := range map[string]struct {
		state  uint32
		flags  uint32
		had    int64
		input  string
		want   string
		stderr string // a warning's beginning, or none
	}{
		"written, same bytes after":  {state: recWritten, had: all, input: batch + batch, want: strings.Repeat(now+"tick\n", 4), stderr: ambiguous},
		"written, nothing after":     {state: recWritten, had: all, input: batch, want: strings.Repeat(now+"tick\n", 2), stderr: ambiguous},
		"consumed, next the same":    {state: recWritten, had: all, input: batch + "other\n", want: strings.Repeat(now+"tick\n", 2) + now + "other\n", stderr: ambiguous},
		"written, next began apart":  {state: recWritten, flags: nextDiffers, had: all, input: batch + "other\n", want: now + "other\n"},
		"being written":              {state: recWriting, had: all, input: batch + batch, want: strings.Repeat(now+"tick\n", 2)},
		"half written":               {state: recWriting, had: int64(len(old + "tick\n")), input: batch + batch, want: old + "tick\n" + strings.Repeat(now+"tick\n", 2)},
		"half written, next differs": {state: recWriting, flags: nextDiffers, had: int64(len(old + "tick\n")), input: batch + "other\n", want: old + "tick\n" + now + "other\n"},
	} {
		t.Run(strings.ReplaceAll(name, " ", "_"), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "d")
			args := []string{"T", dir}
			r, w := pipeWith(t, c.input)
			writeRecord(t, dir, r, args, batch, stamp, c.had, func(r *record) { r.state, r.flags = c.state, c.flags })
			e := runOnPipe(t, args, r, w)
			if c.stderr == "" && e != "" || c.stderr != "" && (!strings.HasPrefix(e, c.stderr) || strings.Count(e, "\n") != 1) {
				t.Errorf("stderr %q, want one line beginning %q", e, c.stderr)
			}
			got, _ := os.ReadFile(filepath.Join(dir, "current"))
			if string(got) != c.want {
				t.Errorf("current:\n%q\nwant\n%q", got, c.want)
			}
		})
	}
}

// TestBeginsOtherwise: the record's nextDiffers is set only when bytes
// followed the batch and they begin otherwise than the batch.
func TestBeginsOtherwise(t *testing.T) {
	for _, c := range []struct {
		next, batch string
		want        bool
	}{
		{"", "tick\n", false},             // nothing known after the batch
		{"ti", "tick\n", false},           // a part of a line, as the batch begins
		{"tick\ntick\n", "tick\n", false}, // the same line again
		{"tock\n", "tick\n", true},
		{"x", "tick\n", true},
		{"\n\n\n", "\n\n", false}, // a flood of empty lines
		{"2 b\n", "1 a\n", true},  // numbered lines
	} {
		if got := beginsOtherwise([]byte(c.next), []byte(c.batch)); got != c.want {
			t.Errorf("beginsOtherwise(%q, %q) = %v, want %v", c.next, c.batch, got, c.want)
		}
	}
}

// TestUnconsumedForeign: a file named unconsumed that is not a record of
// this multilog is never trusted: multilog says so, logs everything, and
// replaces it by its own record, which goes at the clean stop.
func TestUnconsumedForeign(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, fileUnconsumed), []byte("something of another program\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, w := pipeWith(t, "a\nb\n")
	e := runOnPipe(t, []string{dir}, r, w)
	if !strings.Contains(e, "multilog: warning: "+dir+"/unconsumed: ") || !strings.Contains(e, errForeignRecord.Error()) {
		t.Errorf("stderr %q; want a warning about the record", e)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "current")); string(got) != "a\nb\n" {
		t.Errorf("current %q", got)
	}
	if _, err := os.Lstat(filepath.Join(dir, fileUnconsumed)); err == nil {
		t.Errorf("%s left after a clean stop", fileUnconsumed)
	}
}

// TestUnconsumedWriteCut: the killed multilog's last write(2) went into a
// file the record names by inode, after its last count: what the file
// holds beyond the size the record gives is counted too, though the file
// has since become an archive (the crashed current, kept as a .u).
func TestUnconsumedWriteCut(t *testing.T) {
	stamp := time.Date(2026, 12, 5, 3, 0, 0, 123456789, time.UTC)
	old := "2026-12-05T03:00:00.123456789+00:00 "
	now := "2027-01-15T08:00:00.000000000+00:00 "
	dir := filepath.Join(t.TempDir(), "d")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	cur := filepath.Join(dir, "current")
	// Mode 0644: the writer died; the next one keeps the file as a .u.
	if err := os.WriteFile(cur, []byte("earlier\n"+old+"one\n"+old+"t"), 0o644); err != nil {
		t.Fatal(err)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(cur, &st); err != nil {
		t.Fatal(err)
	}
	args := []string{"T", dir}
	r, w := pipeWith(t, "one\ntwo\nthree\nfour\n")
	writeRecord(t, dir, r, args, "one\ntwo\nthree\n", stamp, 0, func(rec *record) {
		rec.curIno, rec.curSize = st.Ino, int64(len("earlier\n"))
	})
	if e := runOnPipe(t, args, r, w); e != "" {
		t.Errorf("stderr %q", e)
	}
	if got, _ := os.ReadFile(cur); string(got) != "wo\n"+old+"three\n"+now+"four\n" {
		t.Errorf("current %q", got)
	}
}

// TestTrackerCounts: the tracker counts what rotate's writes add to a file
// (a new file starts a new count), not bytes rotate says are its own (the
// Lossy marker, between a 0, 0 and the file's new size), and each count
// reaches the record file at once.
func TestTrackerCounts(t *testing.T) {
	tr := &tracker{dir: t.TempDir()}
	if _, ok, err := tr.open(); ok || err != nil {
		t.Fatalf("open of a new record: %v, %v", ok, err)
	}
	defer tr.close()
	tr.rec = record{state: recWriting}
	for _, c := range []struct {
		ino  uint64
		size int64
		want int64
	}{
		{5, 100, 0}, // before the first write: where current stands
		{5, 150, 50},
		{0, 0, 50},   // a marker follows
		{5, 170, 50}, // after it
		{5, 170, 50}, // before the next write
		{5, 200, 80},
		{6, 0, 80}, // a rotation: the new current
		{6, 30, 110},
	} {
		tr.track(c.ino, c.size)
		b, _ := os.ReadFile(filepath.Join(tr.dir, fileUnconsumed))
		rec, ok := decodeRecord(b)
		if tr.rec.progress != c.want || !ok || rec.progress != c.want {
			t.Errorf("after track(%d, %d): counted %d, file says %d (%v); want %d", c.ino, c.size, tr.rec.progress, rec.progress, ok, c.want)
		}
	}
}

// TestUnconsumedZeros: the record file a multilog killed at its start
// left allocated and not yet written (zeros) is a new record, without a
// warning.
func TestUnconsumedZeros(t *testing.T) {
	for _, n := range []int{0, 1, recordSize, 2 * recordSize} {
		dir := filepath.Join(t.TempDir(), "d")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, fileUnconsumed), make([]byte, n), 0o644); err != nil {
			t.Fatal(err)
		}
		r, w := pipeWith(t, "a\n")
		if e := runOnPipe(t, []string{dir}, r, w); e != "" {
			t.Errorf("%d zeros: stderr %q", n, e)
		}
	}
}
