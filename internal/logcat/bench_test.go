package logcat

import (
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/taikit/taikit/tai64n"
)

// benchInput is about 1 MiB of stamped lines, one in 500 holding "needle".
func benchInput() []byte {
	var b strings.Builder
	for i := 0; b.Len() < ChunkSize-200; i++ {
		word := "haystack"
		if i%500 == 0 {
			word = "needle"
		}
		fmt.Fprintf(&b, "%s worker %d: request %d done in %d ms, %s\n", label(int64(i)), i%7, i, i%300, word)
	}
	return []byte(b.String())
}

// benchPipeline runs q over one block the size a Reader gives, as logcat
// does for each block of a directory.
func benchPipeline(b *testing.B, q Query) {
	in := benchInput()
	p := NewPipeline(q, io.Discard)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		p.AddLines(in, tai64n.Label{})
	}
	if err := p.Flush(); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkPipelineSearch(b *testing.B) {
	s, _ := NewSelector(nil, []string{"needle"}, false)
	benchPipeline(b, Query{Last: -1, Selector: s})
}

func BenchmarkPipelineRegexp(b *testing.B) {
	s, _ := NewSelector(nil, []string{`in [0-9]+ ms, n`}, false)
	benchPipeline(b, Query{Last: -1, Selector: s})
}

func BenchmarkPipelineJSON(b *testing.B) {
	benchPipeline(b, Query{Last: -1, Format: FormatJSON})
}

func BenchmarkPipelineLast(b *testing.B) {
	s, _ := NewSelector(nil, []string{"needle"}, true)
	benchPipeline(b, Query{Last: 100, Selector: s})
}

// The same search with two lines of context on each side and a label.
func BenchmarkPipelineContextLabel(b *testing.B) {
	s, _ := NewSelector(nil, []string{"needle"}, false)
	benchPipeline(b, Query{Last: -1, Selector: s, Before: 2, After: 2, Labels: []string{"web"}})
}
