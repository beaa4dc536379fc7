package tai64n

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// tickingClock returns a clock that advances one second per reading, so
// tests can see how many times it was read and for which lines.
func tickingClock(start int64) func() time.Time {
	now := start
	return func() time.Time {
		now++
		return time.Unix(now, 500)
	}
}

func stampOf(unix int64, c Convention) string {
	return FromUnix(unix, 500, c).String() + " "
}

func TestStamperOneReadOneStamp(t *testing.T) {
	s := NewStamper(tickingClock(1000), Daemontools)
	var out bytes.Buffer
	if _, err := s.Copy(&out, strings.NewReader("a\n\nb")); err != nil {
		t.Fatal(err)
	}
	st := stampOf(1001, Daemontools)
	// TN01: every line stamped, the partial last line without a newline added.
	if want := st + "a\n" + st + "\n" + st + "b"; out.String() != want {
		t.Fatalf("got %q\nwant %q", out.String(), want)
	}
}

func TestStamperStampsWhenTheFirstByteArrives(t *testing.T) {
	// One byte per read: a line is stamped with the clock of the read that
	// delivered its first byte, and later reads of the same line add nothing.
	s := NewStamper(tickingClock(0), LeapAware)
	var out bytes.Buffer
	if _, err := s.Copy(&out, iotest.OneByteReader(strings.NewReader("ab\ncd\n"))); err != nil {
		t.Fatal(err)
	}
	want := stampOf(1, LeapAware) + "ab\n" + stampOf(4, LeapAware) + "cd\n"
	if out.String() != want {
		t.Fatalf("got %q\nwant %q", out.String(), want)
	}
}

func TestStamperWritesBeforeEachRead(t *testing.T) {
	// A reader that checks, at each read, that everything before it has been
	// written: an interactive pipe must see a stamped partial line at once.
	var out bytes.Buffer
	parts := []string{"abc", "def\ng", "h"}
	wantSoFar := []string{"", stampOf(1, Daemontools) + "abc", stampOf(1, Daemontools) + "abcdef\n" + stampOf(2, Daemontools) + "g"}
	i := 0
	r := readerFunc(func(p []byte) (int, error) {
		if i < len(wantSoFar) && out.String() != wantSoFar[i] {
			t.Errorf("before read %d the output was %q, want %q", i, out.String(), wantSoFar[i])
		}
		if i == len(parts) {
			return 0, io.EOF
		}
		n := copy(p, parts[i])
		i++
		return n, nil
	})
	if _, err := NewStamper(tickingClock(0), Daemontools).Copy(&out, r); err != nil {
		t.Fatal(err)
	}
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

func TestStamperLongLinesAndManyEmptyLines(t *testing.T) {
	// More output than the write buffer in one read, both ways: a line longer
	// than every buffer, and a read of nothing but newlines (27× expansion).
	long := strings.Repeat("x", 3*writeSize+17) + "\n"
	empty := strings.Repeat("\n", readSize)
	for _, in := range []string{long, empty, long + empty + "tail"} {
		var out bytes.Buffer
		if _, err := NewStamper(func() time.Time { return time.Unix(7, 500) }, Daemontools).Copy(&out, strings.NewReader(in)); err != nil {
			t.Fatal(err)
		}
		st := stampOf(7, Daemontools)
		want := st + strings.ReplaceAll(in, "\n", "\n"+st)
		if strings.HasSuffix(in, "\n") {
			want = strings.TrimSuffix(want, st)
		}
		if out.String() != want {
			t.Fatalf("input of %d bytes: output of %d bytes differs (want %d)", len(in), out.Len(), len(want))
		}
	}
}

func TestStamperErrors(t *testing.T) {
	boom := errors.New("boom")
	_, err := NewStamper(time.Now, Daemontools).Copy(io.Discard, iotest.ErrReader(boom))
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "read") {
		t.Fatalf("read error: %v", err)
	}
	_, err = NewStamper(time.Now, Daemontools).Copy(failWriter{boom}, strings.NewReader("x\n"))
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "write") {
		t.Fatalf("write error: %v", err)
	}
}

type failWriter struct{ err error }

func (f failWriter) Write(p []byte) (int, error) { return 0, f.err }

func convert(t *testing.T, conv Convention, layout Layout, in string, r func(io.Reader) io.Reader) string {
	t.Helper()
	var out bytes.Buffer
	var src io.Reader = strings.NewReader(in)
	if r != nil {
		src = r(src)
	}
	if _, err := NewConverter(NewFormatter(nil, conv, layout)).Copy(&out, src); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func TestConverterConformance(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"TN03", "@4000000037c219bf2ef02e94 mark\nno stamp\n @4000000037c219bf2ef02e94 lead\n@400000000000000a00000000 epoch\n",
			"1999-08-24 04:04:05.787492500 mark\nno stamp\n @4000000037c219bf2ef02e94 lead\n1970-01-01 00:00:00.000000000 epoch\n"},
		{"TN05", "@4000000037c219bf2ef02e94x\n@4000000037c219bf2ef02e94 partial",
			"1999-08-24 04:04:05.787492500x\n1999-08-24 04:04:05.787492500 partial"},
		{"TN06", "@400000003b9aca00ffffffff big\n", "2001-09-09 01:46:30.4294967295 big\n"},
		// Where daemontools crashes, malformed stamps pass through and uppercase converts (TN07).
		{"TN07", "fine\n@4000000037C219BF2EF02E94 up\n@\n@zz\n@0\n@4000000037c219bf x\n",
			"fine\n1999-08-24 04:04:05.787492500 up\n@\n@zz\n@0\n@4000000037c219bf x\n"},
		// Where daemontools drops a last line that is only a stamp, it is converted (TN08).
		{"TN08", "x\n@4000000037c219bf2ef02e94", "x\n1999-08-24 04:04:05.787492500"},
		{"empty lines", "\n\n@400000000000000a00000000\n\n", "\n\n1970-01-01 00:00:00.000000000\n\n"},
		{"NUL and high bytes", "@400000000000000a00000000\x00\xff\n\xff@\n", "1970-01-01 00:00:00.000000000\x00\xff\n\xff@\n"},
		{"run too long", "@" + strings.Repeat("0", 300) + "400000000000000a00000000 x\n", "@" + strings.Repeat("0", 300) + "400000000000000a00000000 x\n"},
		{"leading zeros as daemontools", "@00400000000000000a00000000 x\n", "1970-01-01 00:00:00.000000000 x\n"},
	}
	for _, c := range cases {
		for name, wrap := range map[string]func(io.Reader) io.Reader{"whole": nil, "byte by byte": iotest.OneByteReader, "halves": iotest.HalfReader} {
			if got := convert(t, Daemontools, LayoutTAI64NLocal, c.in, wrap); got != c.want {
				t.Errorf("%s (%s):\n got %q\nwant %q", c.name, name, got, c.want)
			}
		}
	}
}

func TestConverterLongInput(t *testing.T) {
	// Lines longer than the buffers, and stamps split at every buffer edge.
	var in, want strings.Builder
	for i := 0; in.Len() < 3*readSize; i++ {
		in.WriteString("@400000000000000a00000000 ")
		want.WriteString("1970-01-01 00:00:00.000000000 ")
		pad := strings.Repeat("y", i%97)
		in.WriteString(pad + "\n")
		want.WriteString(pad + "\n")
	}
	huge := strings.Repeat("z", 2*writeSize) + "\n"
	got := convert(t, Daemontools, LayoutTAI64NLocal, in.String()+huge+in.String(), nil)
	if got != want.String()+huge+want.String() {
		t.Fatalf("long input converted wrongly (got %d bytes, want %d)", len(got), len(want.String())*2+len(huge))
	}
}

func TestConverterRFC3339AndLeapAware(t *testing.T) {
	got := convert(t, LeapAware, LayoutRFC3339, "@4000000037c219bf2ef02e94 up\n@400000000000000aFFFFFFFF x\n", nil)
	want := "1999-08-24T04:03:43.787492500Z up\n@400000000000000aFFFFFFFF x\n"
	if got != want {
		t.Fatalf("got %q want %q", got, want)
	}
}

func TestConverterErrors(t *testing.T) {
	boom := errors.New("boom")
	r := io.MultiReader(strings.NewReader("@400000000000000a00000000 a\n@4000"), iotest.ErrReader(boom))
	var out bytes.Buffer
	_, err := NewConverter(NewFormatter(nil, Daemontools, LayoutTAI64NLocal)).Copy(&out, r)
	if !errors.Is(err, boom) {
		t.Fatalf("read error: %v", err)
	}
	// What arrived before the error is still written.
	if out.String() != "1970-01-01 00:00:00.000000000 a\n@4000" {
		t.Fatalf("output before the error: %q", out.String())
	}
	_, err = NewConverter(NewFormatter(nil, Daemontools, LayoutTAI64NLocal)).Copy(failWriter{boom}, strings.NewReader("x\n"))
	if !errors.Is(err, boom) {
		t.Fatalf("write error: %v", err)
	}
}

func TestStreamsNoAllocs(t *testing.T) {
	in := []byte(strings.Repeat("@4000000037c219bf2ef02e94 some line of text\n", 1000))
	rd := bytes.NewReader(in)
	c := NewConverter(NewFormatter(nil, Daemontools, LayoutTAI64NLocal))
	s := NewStamper(time.Now, Daemontools)
	if n := testing.AllocsPerRun(20, func() {
		rd.Reset(in)
		c.Copy(io.Discard, rd)
		rd.Reset(in)
		s.Copy(io.Discard, rd)
	}); n != 0 {
		t.Fatalf("Copy allocates %v times per run", n)
	}
}

// FuzzConverter checks, on arbitrary input, that conversion does not depend
// on how reads split the input, and that lines not starting with "@" are
// copied unchanged.
func FuzzConverter(f *testing.F) {
	for _, s := range []string{
		"@4000000037c219bf2ef02e94 mark\nno stamp\n",
		"@4000000037C219BF2EF02E94x\n@\n@zz\n@0\n",
		"@400000003b9aca00ffffffff big\n@4000000037c219bf2ef02e94",
		"\x00\xff@\n\n",
	} {
		f.Add([]byte(s), uint8(3))
	}
	f.Fuzz(func(t *testing.T, in []byte, split uint8) {
		conv := func(r io.Reader) []byte {
			var out bytes.Buffer
			c := NewConverter(NewFormatter(nil, Daemontools, LayoutTAI64NLocal))
			if _, err := c.Copy(&out, r); err != nil {
				t.Fatal(err)
			}
			return out.Bytes()
		}
		whole := conv(bytes.NewReader(in))
		pieces := conv(&pieceReader{b: in, n: 1 + int(split)%16})
		if !bytes.Equal(whole, pieces) {
			t.Fatalf("read in pieces of %d: %q, whole: %q", 1+int(split)%16, pieces, whole)
		}
		inLines, outLines := bytes.SplitAfter(in, []byte("\n")), bytes.SplitAfter(whole, []byte("\n"))
		if len(inLines) != len(outLines) {
			t.Fatalf("%d lines in, %d out", len(inLines), len(outLines))
		}
		for i, l := range inLines {
			if !bytes.HasPrefix(l, []byte("@")) && !bytes.Equal(l, outLines[i]) {
				t.Fatalf("line %d changed: %q -> %q", i, l, outLines[i])
			}
		}
	})
}

// pieceReader returns at most n bytes per read.
type pieceReader struct {
	b []byte
	n int
}

func (p *pieceReader) Read(b []byte) (int, error) {
	if len(p.b) == 0 {
		return 0, io.EOF
	}
	k := copy(b[:min(len(b), p.n)], p.b)
	p.b = p.b[k:]
	return k, nil
}

// repeatReader yields n bytes of c, then end, without holding them.
type repeatReader struct {
	c    byte
	n    int64
	end  []byte
	fill [64 << 10]byte
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		if len(r.end) == 0 {
			return 0, io.EOF
		}
		k := copy(p, r.end)
		r.end = r.end[k:]
		return k, nil
	}
	if r.fill[0] != r.c {
		for i := range r.fill {
			r.fill[i] = r.c
		}
	}
	k := copy(p[:min(int64(len(p)), r.n)], r.fill[:])
	r.n -= int64(k)
	return k, nil
}

// countWriter counts bytes and remembers the first and last 64, in fixed
// arrays so that it allocates nothing itself.
type countWriter struct {
	n          int64
	head, tail [64]byte
}

func (w *countWriter) Write(p []byte) (int, error) {
	if w.n < 64 {
		copy(w.head[w.n:], p)
	}
	keep := min(len(p), 64)
	copy(w.tail[:], w.tail[keep:])
	copy(w.tail[64-keep:], p[len(p)-keep:])
	w.n += int64(len(p))
	return len(p), nil
}

// TestGigabyteLine streams a 1 GiB line through both filters and checks that
// memory does not grow with it: lines are never held whole.
func TestGigabyteLine(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the 1 GiB line")
	}
	const size = 1 << 30
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	var out countWriter
	s := NewStamper(func() time.Time { return time.Unix(1, 0) }, Daemontools)
	if _, err := s.Copy(&out, &repeatReader{c: 'x', n: size, end: []byte("\nnext")}); err != nil {
		t.Fatal(err)
	}
	st := FromUnix(1, 0, Daemontools).String() + " "
	if out.n != int64(size+2*len(st)+len("\nnext")) || string(out.head[:len(st)]) != st ||
		!strings.HasSuffix(string(out.tail[:]), "x\n"+st+"next") {
		t.Fatalf("tai64n: %d bytes out, head %q tail %q", out.n, out.head, out.tail)
	}

	// A stamped gigabyte line, and one of a gigabyte of hex digits after "@".
	for _, in := range []*repeatReader{
		{c: 'y', n: size, end: []byte("\n")},
		{c: 'a', n: size, end: []byte(" x\n")},
	} {
		prefix := "@400000000000000a00000000 "
		if in.c == 'a' {
			prefix = "@"
		}
		want := int64(len(prefix) + size + len(in.end))
		if in.c == 'y' {
			want += int64(len("1970-01-01 00:00:00.000000000 ") - len(prefix))
		}
		var out countWriter
		c := NewConverter(NewFormatter(nil, Daemontools, LayoutTAI64NLocal))
		if _, err := c.Copy(&out, io.MultiReader(strings.NewReader(prefix), in)); err != nil {
			t.Fatal(err)
		}
		if out.n != want {
			t.Fatalf("tai64nlocal, line of %q: %d bytes out, want %d; head %q", in.c, out.n, want, out.head)
		}
	}
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 4<<20 {
		t.Fatalf("streaming 1 GiB lines allocated %d bytes; lines must not be held whole", grew)
	}
}
