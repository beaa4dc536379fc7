package logcat

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/taikit/taikit/logread"
	"github.com/taikit/taikit/tai64n"
	"github.com/taikit/taikit/tzlocal"
)

// stamped returns "@<label of unix sec> text".
func stamped(sec int64, text string) string {
	return tai64n.FromUnix(sec, 0, tai64n.Daemontools).String() + " " + text
}

func label(sec int64) tai64n.Label { return tai64n.FromUnix(sec, 0, tai64n.Daemontools) }

// feed runs the query over src to its end, as logcat does.
func feed(t *testing.T, p *Pipeline, src logread.Source) {
	t.Helper()
	defer src.Close()
	for !p.Done() {
		b, err := src.NextLines()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		p.AddLines(b.Bytes, b.Stamp)
	}
	if errs := src.Errors(); len(errs) > 0 {
		t.Fatal(errs)
	}
}

// runQuery runs q over input read as a stream, in small pieces so that
// lines cross read boundaries, and returns the output.
func runQuery(t *testing.T, q Query, input string) string {
	t.Helper()
	var out bytes.Buffer
	p := NewPipeline(q, &out)
	feed(t, p, logread.NewStream(iotest.HalfReader(strings.NewReader(input)), logread.Options{}))
	if err := p.Flush(); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// addQuery runs q over input with AddLines, line by line, the stamps
// carried in as a logread.Reader computes them.
func addQuery(t *testing.T, q Query, input string) string {
	t.Helper()
	var out bytes.Buffer
	p := NewPipeline(q, &out)
	var carry tai64n.Label
	for l := range strings.Lines(input) {
		p.AddLines([]byte(l), carry)
		if st, ok := stampOf([]byte(l)); ok {
			carry = st
		}
	}
	if err := p.Flush(); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func mustSelector(t *testing.T, words, res []string, invert bool) *Selector {
	t.Helper()
	s, err := NewSelector(words, res, invert)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestPipelineRangeAndSelection(t *testing.T) {
	input := "unstamped first\n" +
		stamped(100, "a one") + "\n" +
		"continuation of one\n" +
		stamped(200, "b two") + "\n" +
		stamped(300, "a three") + "\n" +
		"continuation of three\n" +
		stamped(400, "b four") + "\n"
	cases := []struct {
		name string
		q    Query
		want []string // the lines' texts, by their content after the stamp
	}{
		{"all", Query{Last: -1}, []string{"unstamped first", "a one", "continuation of one", "b two", "a three", "continuation of three", "b four"}},
		{"since 200", Query{Last: -1, Since: label(200), HasSince: true}, []string{"b two", "a three", "continuation of three", "b four"}},
		{"until 300 (exclusive)", Query{Last: -1, Until: label(300), HasUntil: true}, []string{"a one", "continuation of one", "b two"}},
		{"since 150 until 350", Query{Last: -1, Since: label(150), HasSince: true, Until: label(350), HasUntil: true}, []string{"b two", "a three", "continuation of three"}},
		{"empty range", Query{Last: -1, Since: label(300), HasSince: true, Until: label(300), HasUntil: true}, nil},
		{"before everything", Query{Last: -1, Until: label(50), HasUntil: true}, nil},
		{"after everything", Query{Last: -1, Since: label(500), HasSince: true}, nil},
		{"pattern", Query{Last: -1, Selector: mustSelector(t, []string{"+* a *"}, nil, false)}, []string{"a one", "a three"}},
		{"pattern inverted", Query{Last: -1, Selector: mustSelector(t, []string{"+* a *"}, nil, true)}, []string{"unstamped first", "continuation of one", "b two", "continuation of three", "b four"}},
		{"regexp", Query{Last: -1, Selector: mustSelector(t, nil, []string{"of (one|three)"}, false)}, []string{"continuation of one", "continuation of three"}},
		{"literal regexp and range", Query{Last: -1, Since: label(250), HasSince: true, Selector: mustSelector(t, nil, []string{"continuation"}, false)}, []string{"continuation of three"}},
		{"first 2", Query{Last: -1, First: 2}, []string{"unstamped first", "a one"}},
		{"last 2", Query{Last: 2}, []string{"continuation of three", "b four"}},
		{"last 0", Query{Last: 0}, nil},
		{"first 3 last 2", Query{Last: 2, First: 3}, []string{"a one", "continuation of one"}},
	}
	for _, c := range cases {
		var want strings.Builder
		for _, w := range c.want {
			for l := range strings.Lines(input) {
				if strings.HasSuffix(l, w+"\n") {
					want.WriteString(l)
				}
			}
		}
		if got := runQuery(t, c.q, input); got != want.String() {
			t.Errorf("%s (stream): got\n%s\nwant\n%s", c.name, got, want.String())
		}
		if got := addQuery(t, c.q, input); got != want.String() {
			t.Errorf("%s (by line): got\n%s\nwant\n%s", c.name, got, want.String())
		}
	}
}

func TestPipelineCount(t *testing.T) {
	input := stamped(1, "x") + "\n" + stamped(2, "y") + "\n" + stamped(3, "x") + "\n"
	q := Query{Last: -1, Count: true, Selector: mustSelector(t, nil, []string{"x$"}, false)}
	if got := runQuery(t, q, input); got != "2\n" {
		t.Errorf("count: %q", got)
	}
	q.First = 1
	if got := runQuery(t, q, input); got != "1\n" {
		t.Errorf("count with first 1: %q", got)
	}
}

func TestPipelineLastLineWithoutNewline(t *testing.T) {
	input := stamped(1, "x") + "\n" + stamped(2, "partial")
	if got := runQuery(t, Query{Last: -1, Format: FormatTAI64N}, input); got != "1970-01-01 00:00:01.000000000 x\n1970-01-01 00:00:02.000000000 partial" {
		t.Errorf("got %q", got)
	}
	if got := addQuery(t, Query{Last: -1, Selector: mustSelector(t, []string{"+*partial"}, nil, false)}, input); got != stamped(2, "partial") {
		t.Errorf("by line: got %q", got)
	}
}

// Lines longer than ChunkSize are decided on their first piece and written
// whole.
func TestPipelineLongLines(t *testing.T) {
	long := stamped(5, "long "+strings.Repeat("x", 3*ChunkSize+17))
	input := stamped(4, "short") + "\n" + long + "\n" + stamped(6, "after") + "\n"
	if got := runQuery(t, Query{Last: -1, Selector: mustSelector(t, []string{"+* long *"}, nil, false)}, input); got != long+"\n" {
		t.Errorf("long line selected: got %d bytes, want %d", len(got), len(long)+1)
	}
	if got := runQuery(t, Query{Last: -1, Selector: mustSelector(t, []string{"-* long *"}, nil, false)}, input); got != stamped(4, "short")+"\n"+stamped(6, "after")+"\n" {
		t.Errorf("long line deselected: got %.200q", got)
	}
	if got := runQuery(t, Query{Last: -1}, input); got != input {
		t.Errorf("everything: %d bytes, want %d", len(got), len(input))
	}
	if got := runQuery(t, Query{Last: -1, Count: true, Since: label(5), HasSince: true}, input); got != "2\n" {
		t.Errorf("count since 5: %q", got)
	}
	// AddLines: the same line in pieces of other sizes than a stream gives.
	var out bytes.Buffer
	p := NewPipeline(Query{Last: -1, Format: FormatTAI64N}, &out)
	p.AddLines([]byte(stamped(4, "short")+"\n"), tai64n.Label{})
	for i := 0; i < len(long); i += 700001 {
		piece := long[i:min(i+700001, len(long))]
		p.AddLines([]byte(piece), label(4))
	}
	p.AddLines([]byte("\n"), label(5))
	if err := p.Flush(); err != nil {
		t.Fatal(err)
	}
	want := "1970-01-01 00:00:04.000000000 short\n1970-01-01 00:00:05.000000000" + long[25:] + "\n"
	if out.String() != want {
		t.Errorf("AddLines in pieces: got %d bytes, want %d", out.Len(), len(want))
	}
}

// A line longer than ChunkSize that comes whole in a block (from a mapped
// archive: logread.Options.Map) is handled as the same line in pieces: it
// is decided on its first ChunkSize bytes (a word only after them does not
// select it), and written the same way in every format.
func TestPipelineLongLineWholeAsInPieces(t *testing.T) {
	long := stamped(5, "long "+strings.Repeat("x", 2*ChunkSize+17)+" tailmark")
	input := stamped(4, "short tailmark") + "\n" + long + "\n" + "unstamped\n" + stamped(6, "after long") + "\n"
	queries := map[string]Query{
		"all":           {Last: -1},
		"long":          {Last: -1, Selector: mustSelector(t, nil, []string{"long"}, false)},
		"not long":      {Last: -1, Selector: mustSelector(t, nil, []string{"long"}, true)},
		"tail only":     {Last: -1, Selector: mustSelector(t, nil, []string{"tailmark"}, false)},
		"json":          {Last: -1, Format: FormatJSON},
		"tai64n":        {Last: -1, Format: FormatTAI64N, Selector: mustSelector(t, nil, []string{"long"}, false)},
		"last 2":        {Last: 2},
		"count":         {Last: -1, Count: true, Selector: mustSelector(t, nil, []string{"long"}, false)},
		"context":       {Last: -1, Before: 1, After: 1, Selector: mustSelector(t, nil, []string{"short|after"}, false)},
		"since":         {Last: -1, Since: label(5), HasSince: true},
		"labels, color": {Last: -1, Labels: []string{"svc"}, Color: true, Selector: mustSelector(t, nil, []string{"x"}, false)},
	}
	for name, q := range queries {
		pieces := runQuery(t, q, input)
		var out bytes.Buffer
		p := NewPipeline(q, &out)
		p.AddLines([]byte(input), tai64n.Label{})
		if err := p.Flush(); err != nil {
			t.Fatal(err)
		}
		if out.String() != pieces {
			t.Errorf("%s: whole in a block %d bytes %.120q, in pieces %d bytes %.120q", name, out.Len(), out.String(), len(pieces), pieces)
		}
	}
	// The word after the first ChunkSize bytes does not select the line.
	if got := runQuery(t, queries["tail only"], input); got != stamped(4, "short tailmark")+"\n" {
		t.Errorf("tail only: got %.120q", got)
	}
}

func TestPipelineFormats(t *testing.T) {
	input := stamped(1700000000, "hello \"world\"") + "\n" + "no stamp\n"
	zone := tzlocal.Load("Europe/Berlin", true, tzlocal.SystemSource())
	cases := []struct {
		format Format
		zone   tai64n.Zone
		want   string
	}{
		{FormatRaw, nil, input},
		{FormatTAI64N, nil, "2023-11-14 22:13:20.000000000 hello \"world\"\nno stamp\n"},
		{FormatTAI64N, zone, "2023-11-14 23:13:20.000000000 hello \"world\"\nno stamp\n"},
		{FormatRFC3339, nil, "2023-11-14T22:13:20.000000000Z hello \"world\"\nno stamp\n"},
		{FormatRFC3339, zone, "2023-11-14T23:13:20.000000000+01:00 hello \"world\"\nno stamp\n"},
		{FormatJSON, nil, `{"time":"2023-11-14T22:13:20.000000000Z","tai64n":"` + label(1700000000).String() + `","line":"hello \"world\""}` + "\n" +
			`{"time":null,"tai64n":null,"line":"no stamp"}` + "\n"},
		{FormatJSON, zone, `{"time":"2023-11-14T23:13:20.000000000+01:00","tai64n":"` + label(1700000000).String() + `","line":"hello \"world\""}` + "\n" +
			`{"time":null,"tai64n":null,"line":"no stamp"}` + "\n"},
	}
	for _, c := range cases {
		q := Query{Last: -1, Format: c.format, Zone: c.zone}
		if got := runQuery(t, q, input); got != c.want {
			t.Errorf("format %d zone %v: got\n%s\nwant\n%s", c.format, c.zone != nil, got, c.want)
		}
	}
}

// A selection through the whole-chunk search finds the same lines as one
// that looks at every line.
func TestRequiredLiteralSearch(t *testing.T) {
	var in strings.Builder
	for i := range 5000 {
		switch i % 7 {
		case 0:
			fmt.Fprintf(&in, "%s worker-%d: job=%d state=failed\n", label(int64(i)), i%13, i)
		case 3:
			fmt.Fprintf(&in, "continuation state=failed %d\n", i)
		default:
			fmt.Fprintf(&in, "%s worker-%d: job=%d state=done\n", label(int64(i)), i%13, i)
		}
	}
	input := in.String()
	for _, c := range []struct {
		words, res []string
	}{
		{[]string{"+* worker-*: job=* state=failed"}, nil},
		{[]string{"-*", "+* worker-*: *", "-* worker-1: *"}, nil},
		{nil, []string{"state=failed"}},
		{nil, []string{`job=\d+ state=failed`}},
		{[]string{"g+*state=failed*"}, nil},
		{[]string{"+* worker-*"}, []string{"failed"}},
	} {
		for _, ranged := range []bool{false, true} {
			fast := mustSelector(t, c.words, c.res, false)
			if fast.Required() == nil {
				t.Errorf("%q %q: no required literal", c.words, c.res)
			}
			slow := mustSelector(t, c.words, c.res, false)
			slow.required = nil
			q := Query{Last: -1, Since: label(1000), HasSince: ranged, Until: label(4000), HasUntil: ranged}
			q.Selector = fast
			a := runQuery(t, q, input)
			q.Selector = slow
			b := runQuery(t, q, input)
			if a != b || a == "" {
				t.Errorf("%q %q ranged=%v: with the search %d bytes, line by line %d", c.words, c.res, ranged, len(a), len(b))
			}
		}
	}
}

func TestPipelineAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	var in strings.Builder
	for i := range 2000 {
		fmt.Fprintf(&in, "%s worker-%d: job=%d state=done\n", label(int64(i)), i%13, i)
	}
	input := []byte(in.String())
	zone := tzlocal.Load("Europe/Berlin", true, tzlocal.SystemSource())
	for _, q := range []Query{
		{Last: -1},
		{Last: -1, Format: FormatJSON, Zone: zone, Selector: mustSelector(t, []string{"-* worker-3:*"}, []string{"job"}, false)},
		{Last: -1, Format: FormatTAI64N, Zone: zone, Since: label(100), HasSince: true},
		{Last: -1, Selector: mustSelector(t, nil, []string{`state=(done|x)`}, false)},
	} {
		p := NewPipeline(q, io.Discard)
		p.AddLines(input, tai64n.Label{}) // warm up: buffers reach their size
		allocs := testing.AllocsPerRun(20, func() {
			p.AddLines(input, tai64n.Label{})
		})
		if allocs > 0 {
			t.Errorf("%+v: %.1f allocations per 2000 lines", q, allocs)
		}
		var carry tai64n.Label
		allocs = testing.AllocsPerRun(5, func() {
			for l := range bytes.Lines(input) {
				p.AddLines(l, carry)
				if st, ok := stampOf(l); ok {
					carry = st
				}
			}
		})
		if allocs > 0 {
			t.Errorf("%+v: by line: %.1f allocations per 2000 lines", q, allocs)
		}
	}
}

// The stamp of the last stamped line carries across inputs: a file that
// begins with unstamped lines continues the one before it, as if the two
// were one (cat a b | logcat).
func TestPipelineCarryAcrossInputs(t *testing.T) {
	var out bytes.Buffer
	p := NewPipeline(Query{Last: -1, Since: label(200), HasSince: true}, &out)
	feed(t, p, logread.NewStream(strings.NewReader(stamped(100, "a")+"\n"+stamped(300, "b")+"\n"), logread.Options{}))
	feed(t, p, logread.NewStream(strings.NewReader("continued\n"+stamped(400, "c")+"\n"), logread.Options{}))
	if err := p.Flush(); err != nil {
		t.Fatal(err)
	}
	if want := stamped(300, "b") + "\ncontinued\n" + stamped(400, "c") + "\n"; out.String() != want {
		t.Fatalf("got %q, want %q", out.String(), want)
	}
}

// A block large enough to be searched on two cores (chunkHits): the lines
// selected, and with -m where the query stopped, are those that looking at
// every line gives, wherever the literal falls (at a line's start or end,
// several times in a line, in a line across the middle of the block), and
// whichever of its bytes the search leads with.
func TestTwoCoreSearch(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 18))
	lit := "state=failed"
	for round := range 40 {
		var b strings.Builder
		var want []string
		for b.Len() < 2*searchHalf+rng.IntN(3*searchHalf) {
			var l string
			switch rng.IntN(9) {
			case 0:
				l = lit + " at the start"
			case 1:
				l = "at the end " + lit
			case 2:
				l = lit + lit + " twice " + lit
			case 3:
				l = strings.Repeat("x", rng.IntN(3*searchHalf/2)) + " long " + lit + strings.Repeat("y", rng.IntN(searchHalf))
			case 4:
				l = "state=faile almost"
			default:
				l = fmt.Sprintf("%s worker: job=%d state=done", label(int64(b.Len())), b.Len())
			}
			if strings.Contains(l, lit) {
				want = append(want, l)
			}
			b.WriteString(l + "\n")
		}
		block := []byte(b.String())
		for _, first := range []int{0, 1, 7} {
			var out bytes.Buffer
			q := Query{Last: -1, First: first, Selector: mustSelector(t, nil, []string{lit}, false)}
			p := NewPipeline(q, &out)
			if round%2 == 1 {
				// Lead with another byte than the rarest in the data.
				p.find = finder{lit: []byte(lit), k: round % len(lit), c: lit[round%len(lit)]}
			}
			n := p.AddLines(block, tai64n.Label{})
			if err := p.Flush(); err != nil {
				t.Fatal(err)
			}
			w := want
			wantN := len(block)
			if first > 0 && len(w) >= first {
				w = w[:first]
				last := w[first-1] + "\n"
				wantN = 0
				for range first {
					// The end of the first-th selected line.
					i := strings.Index(b.String()[wantN:], lit)
					wantN += i
					wantN += strings.IndexByte(b.String()[wantN:], '\n') + 1
				}
				if !strings.HasSuffix(b.String()[:wantN], last) {
					t.Fatalf("round %d: the model's end is wrong", round)
				}
			}
			wantOut := ""
			for _, l := range w {
				wantOut += l + "\n"
			}
			if out.String() != wantOut || n != wantN {
				t.Fatalf("round %d, -m %d: %d lines, handled %d; want %d lines, %d", round, first,
					strings.Count(out.String(), "\n"), n, len(w), wantN)
			}
		}
	}
}

// A literal across the middle of the block, where the two cores' parts
// meet (the middle, for a first block), is found once, and its line is
// written once.
func TestFindLinesAtTheMiddle(t *testing.T) {
	lit := []byte("state=failed")
	const size = 2*searchHalf + 100
	for d := -2; d <= len(lit)+1; d++ {
		mid := size / 2
		b := append(bytes.Repeat([]byte("x"), mid-d-1), '\n')
		b = append(b, lit...)
		b = append(b, bytes.Repeat([]byte("y"), size-len(b)-1)...)
		b = append(b, '\n')
		var out bytes.Buffer
		p := NewPipeline(Query{Last: -1, Selector: mustSelector(t, nil, []string{string(lit)}, false)}, &out)
		if n := p.AddLines(b, tai64n.Label{}); n != len(b) {
			t.Fatalf("handled %d of %d", n, len(b))
		}
		if err := p.Flush(); err != nil {
			t.Fatal(err)
		}
		if want := string(b[mid-d:]); out.String() != want {
			t.Errorf("the literal at the middle %+d: wrote %d lines (%d bytes), want the one of %d bytes", -d, strings.Count(out.String(), "\n"), out.Len(), len(want))
		}
	}
}

// What Scanner's function finds in a whole archive ahead (logread.Options.Scan)
// gives, through AddBlock, the output a search of each block gives: over
// blocks that are parts of the archive (ScanOff), with a line the search
// found in two parts' worth of text, with Count, a time range (the stamps
// of the lines passed over), First, and blocks that came without it.
func TestAddBlockFoundAhead(t *testing.T) {
	var b strings.Builder
	for i := 0; b.Len() < 3<<20; i++ {
		switch {
		case i%97 == 5:
			fmt.Fprintf(&b, "unstamped state=failed continuation %d\n", i)
		case i%13 == 0:
			b.WriteString(stamped(int64(1000+i), fmt.Sprintf("worker: job=%d state=failed twice state=failed", i)) + "\n")
		default:
			b.WriteString(stamped(int64(1000+i), fmt.Sprintf("worker: job=%d state=done", i)) + "\n")
		}
	}
	text := []byte(b.String())
	// Blocks of whole lines, of irregular sizes.
	var cuts []int
	for off := 0; off < len(text); {
		end := min(off+700001+len(cuts)*99991, len(text))
		end = bytes.LastIndexByte(text[:end], '\n') + 1
		if end <= off {
			end = off + bytes.IndexByte(text[off:], '\n') + 1
		}
		cuts = append(cuts, end)
		off = end
	}
	sel := func() *Selector { return mustSelector(t, nil, []string{"state=failed"}, false) }
	queries := map[string]Query{
		"lines": {Last: -1, Selector: sel()},
		"count": {Last: -1, Count: true, Selector: sel()},
		"range": {Last: -1, Since: label(5000), HasSince: true, Until: label(20000), HasUntil: true, Format: FormatTAI64N, Selector: sel()},
		"first": {Last: -1, First: 100, Selector: sel()},
		"last":  {Last: 7, Selector: sel()},
	}
	for name, q := range queries {
		want := runQuery(t, q, string(text))
		for _, everyOther := range []bool{false, true} {
			var out bytes.Buffer
			p := NewPipeline(q, &out)
			scan := p.Scanner()
			if scan == nil {
				t.Fatalf("%s: no Scanner", name)
			}
			found := scan(text)
			off, stamp := 0, tai64n.Label{}
			for i, end := range cuts {
				l := logread.Lines{Bytes: text[off:end], Stamp: stamp, Scan: found, ScanOff: off}
				if everyOther && i%2 == 1 {
					l.Scan = nil
				}
				p.AddBlock(l)
				for line := range strings.Lines(string(text[off:end])) {
					if st, ok := stampOf([]byte(line)); ok {
						stamp = st
					}
				}
				off = end
			}
			if err := p.Flush(); err != nil {
				t.Fatal(err)
			}
			if out.String() != want {
				t.Errorf("%s (every other block without: %v): %d bytes, want %d", name, everyOther, out.Len(), len(want))
			}
		}
	}
	var out bytes.Buffer
	if NewPipeline(Query{Last: -1, Before: 1, Selector: sel()}, &out).Scanner() != nil {
		t.Error("a Scanner for a query with context, which does not use one")
	}
}

// slowWriter takes its time over each write, as a pipe whose reader is
// behind, and fails from the failAt-th write on (0: never).
type slowWriter struct {
	out    bytes.Buffer
	writes int
	failAt int
	gate   chan struct{} // each write waits for a receive from it... or not, when nil
}

func (w *slowWriter) Write(b []byte) (int, error) {
	if w.gate != nil {
		<-w.gate
	}
	w.writes++
	if w.failAt > 0 && w.writes >= w.failAt {
		return 0, io.ErrClosedPipe
	}
	return w.out.Write(b)
}

// With WriteBehind, the output is the same and in the same order, also
// where a large block of a copy goes out directly between buffered ones;
// a write that fails is the Pipeline's error, and Flush returns it.
func TestWriteBehind(t *testing.T) {
	var b strings.Builder
	for i := 0; b.Len() < 8*flushAt; i++ {
		b.WriteString(stamped(int64(1000+i), fmt.Sprintf("worker: job=%d state=%s", i, []string{"done", "failed"}[i%3/2])) + "\n")
	}
	text := b.String()
	for name, q := range map[string]Query{
		"selected": {Last: -1, Selector: mustSelector(t, nil, []string{"state=done"}, false)},
		"copied":   {Last: -1},
		"tai64n":   {Last: -1, Format: FormatTAI64N},
	} {
		want := runQuery(t, q, text)
		gate, stop := make(chan struct{}), make(chan struct{})
		w := &slowWriter{gate: gate}
		go func() { // lets the writes through one by one, late; ends with stop
			for {
				runtime.Gosched()
				select {
				case gate <- struct{}{}:
				case <-stop:
					return
				}
			}
		}()
		q.WriteBehind = true
		p := NewPipeline(q, w)
		// Small blocks and whole ones, so that both buffered output and
		// direct writes of large blocks happen.
		lines := strings.SplitAfter(text, "\n")
		for i := 0; i < len(lines); {
			n := 1 + i%5000
			if i%3 == 0 {
				n = 7
			}
			p.AddLines([]byte(strings.Join(lines[i:min(i+n, len(lines))], "")), tai64n.Label{})
			i += n
		}
		err := p.Flush()
		close(stop)
		if err != nil {
			t.Fatal(err)
		}
		if w.out.String() != want {
			t.Errorf("%s: %d bytes written behind, want %d", name, w.out.Len(), len(want))
		}
		if w.writes < 3 {
			t.Errorf("%s: %d writes: nothing was written behind", name, w.writes)
		}
	}
	w := &slowWriter{failAt: 2}
	p := NewPipeline(Query{Last: -1, Format: FormatTAI64N, WriteBehind: true}, w)
	p.AddLines([]byte(text), tai64n.Label{})
	var we *WriteError
	if err := p.Flush(); !errors.As(err, &we) || !errors.Is(err, io.ErrClosedPipe) {
		t.Errorf("Flush after a failed write: %v", err)
	}
}
