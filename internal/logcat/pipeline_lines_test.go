package logcat

import (
	"bytes"
	"strings"
	"testing"

	"github.com/taikit/taikit/tai64n"
)

// linesQuery runs q over input with AddLines, in blocks of every size from
// one line to all of them, the stamp carried into each block computed as
// logread.Reader.NextLines computes it. Every block size must give the same
// output, which is returned.
func linesQuery(t *testing.T, q Query, input string) string {
	t.Helper()
	lines := splitLines(input)
	var first string
	for size := 1; size <= max(1, len(lines)); size++ {
		var out bytes.Buffer
		p := NewPipeline(q, &out)
		var carry tai64n.Label
		for i := 0; i < len(lines); i += size {
			block := strings.Join(lines[i:min(i+size, len(lines))], "")
			p.AddLines([]byte(block), carry)
			for _, l := range lines[i:min(i+size, len(lines))] {
				if st, ok := stampOf([]byte(l)); ok {
					carry = st
				}
			}
		}
		if err := p.Flush(); err != nil {
			t.Fatal(err)
		}
		if size == 1 {
			first = out.String()
		} else if out.String() != first {
			t.Fatalf("blocks of %d lines give\n%s\nblocks of one give\n%s", size, out.String(), first)
		}
	}
	return first
}

func splitLines(input string) []string {
	var out []string
	for l := range strings.Lines(input) {
		out = append(out, l)
	}
	return out
}

func TestPipelineAddLinesQueries(t *testing.T) {
	input := "unstamped first\n" +
		stamped(100, "a one") + "\n" +
		"continuation of one\n" +
		stamped(200, "b two") + "\n" +
		stamped(300, "a three") + "\n" +
		"continuation of three\n" +
		stamped(400, "b four") + "\n"
	sel := func(words, res []string, inv bool) *Selector { return mustSelector(t, words, res, inv) }
	for _, q := range []Query{
		{Last: -1},
		{Last: -1, Since: label(200), HasSince: true},
		{Last: -1, Until: label(300), HasUntil: true},
		{Last: -1, Since: label(150), HasSince: true, Until: label(350), HasUntil: true},
		{Last: -1, Selector: sel([]string{"+* a *"}, nil, false)},
		{Last: -1, Selector: sel(nil, []string{"continuation"}, false), Since: label(250), HasSince: true},
		{Last: -1, Selector: sel(nil, []string{"of (one|three)"}, false), Format: FormatJSON},
		{Last: -1, Format: FormatTAI64N},
		{Last: -1, First: 2},
		{Last: 2},
		{Last: -1, Count: true, Selector: sel(nil, []string{"continuation"}, true)},
	} {
		want := runQuery(t, q, input)
		if got := linesQuery(t, q, input); got != want {
			t.Errorf("%+v: AddLines gives\n%s\nReadFrom gives\n%s", q, got, want)
		}
	}
}

// AddLines says how much of a block it handled when the query completes
// inside it: up to the end of the line that completed it, for a cursor.
func TestPipelineAddLinesHandled(t *testing.T) {
	block := stamped(1, "x one") + "\n" + stamped(2, "y") + "\n" + stamped(3, "x two") + "\n" + stamped(4, "x three") + "\n"
	var out bytes.Buffer
	p := NewPipeline(Query{Last: -1, First: 2, Selector: mustSelector(t, nil, []string{"x"}, false)}, &out)
	n := p.AddLines([]byte(block), tai64n.Label{})
	if want := strings.Index(block, "x two") + len("x two\n"); n != want {
		t.Fatalf("handled %d bytes, want %d", n, want)
	}
	if n := p.AddLines([]byte(block), tai64n.Label{}); n != 0 || !p.Done() {
		t.Fatalf("after the query completed: handled %d, done %v", n, p.Done())
	}
	p.Flush()
	if want := stamped(1, "x one") + "\n" + stamped(3, "x two") + "\n"; out.String() != want {
		t.Fatalf("output %q, want %q", out.String(), want)
	}
	// Without a limit, all of it.
	p = NewPipeline(Query{Last: -1}, &out)
	if n := p.AddLines([]byte(block), tai64n.Label{}); n != len(block) {
		t.Fatalf("copy: handled %d of %d", n, len(block))
	}
}

// A block large enough to be written without a copy, and a piece of a line
// followed by its rest, pass through exactly.
func TestPipelineAddLinesLargeAndPieces(t *testing.T) {
	var big strings.Builder
	for i := 0; big.Len() < 2*flushAt; i++ {
		big.WriteString(stamped(int64(i), "a line of the big block") + "\n")
	}
	var out bytes.Buffer
	p := NewPipeline(Query{Last: -1}, &out)
	p.AddLines([]byte("small\n"), tai64n.Label{})
	p.AddLines([]byte(big.String()), tai64n.Label{})
	p.AddLines([]byte(stamped(7, "a piece")), label(6))
	p.AddLines([]byte(" and its rest\n"), label(6))
	p.AddLines([]byte("last\n"), label(7))
	if err := p.Flush(); err != nil {
		t.Fatal(err)
	}
	want := "small\n" + big.String() + stamped(7, "a piece") + " and its rest\nlast\n"
	if out.String() != want {
		t.Fatalf("got %d bytes, want %d", out.Len(), len(want))
	}
	// The same with a selection: the piece and its rest are one line.
	out.Reset()
	p = NewPipeline(Query{Last: -1, Selector: mustSelector(t, nil, []string{"rest$"}, false)}, &out)
	p.AddLines([]byte(stamped(7, "a piece")), label(6))
	p.AddLines([]byte(" and its rest\n"), label(6))
	p.Flush()
	if out.String() != stamped(7, "a piece")+" and its rest\n" {
		t.Fatalf("selected piece: %q", out.String())
	}
}
