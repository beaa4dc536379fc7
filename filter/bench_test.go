package filter_test

import (
	"bytes"
	"testing"

	"github.com/taikit/taikit/filter"
)

// benchLines are windows as multilog's selector sees them: a stamped log
// line, and a full 1000-byte window.
var (
	benchLine   = []byte(stamp + " tcpsvd: info: pid 1977 from 10.0.0.1")
	benchWindow = append(bytes.Repeat([]byte("x"), filter.WindowSize-4), " end"...)
)

var benchCases = []struct {
	name, pattern string
	line          []byte
}{
	{"literal-mismatch", "hello", benchLine},
	{"prefix", "@4*", benchLine},
	{"skips", "*: *: pid *", benchLine},
	{"contains-nobacktrack", "*pid*", benchLine},
	{"suffix-1000", "* end", benchWindow},
	{"skip-miss-1000", "*y", benchWindow},
}

func BenchmarkMatch(b *testing.B) {
	for _, c := range benchCases {
		b.Run(c.name, func(b *testing.B) {
			p := []byte(c.pattern)
			b.SetBytes(int64(len(c.line)))
			b.ReportAllocs()
			for b.Loop() {
				filter.Match(p, c.line)
			}
		})
	}
}

func BenchmarkGlobMatch(b *testing.B) {
	type benchCase = struct {
		name, pattern string
		line          []byte
	}
	cases := append(benchCases[:len(benchCases):len(benchCases)],
		benchCase{"class-alt", "@[0-9]*{error,warn,info}: *pid [0-9]*", benchLine},
		benchCase{"suffix-precheck-1000", "*x*x*y", benchWindow}, // fails on the required suffix "y"
		// A star before a class or a group tries every position through
		// the matcher's checkpoints: tens of nanoseconds a byte.
		benchCase{"star-class-1000", "*[0-9]*", benchWindow},
		benchCase{"star-alt", "*{error,warn}*", benchLine},
		benchCase{"star-alt-1000", "*{error,warn}*", benchWindow},
		// The same as alternatives of literals between stars: fast.
		benchCase{"alt-stars-1000", "{*error*,*warn*}", benchWindow},
	)
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			g, err := filter.CompileGlob(c.pattern)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(c.line)))
			b.ReportAllocs()
			for b.Loop() {
				g.Match(c.line)
			}
		})
	}
}

func BenchmarkWalkEval(b *testing.B) {
	g, err := filter.CompileGlob("{*error*,*warn*}")
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		steps []filter.Step
	}{
		// multilog t ./main: no rules.
		{"trivial", []filter.Step{mark}},
		// multilog t -*debug* ./main '-*' '+*: *: pid *' ./pids e
		{"three-rules", []filter.Step{rule("-*debug*"), mark, rule("-*"), rule("+*: *: pid *"), mark, mark}},
		// ... and a glob.
		{"with-glob", []filter.Step{rule("-*debug*"), mark, rule("-*"), {Rule: &filter.Rule{Select: true, Glob: g}}, mark}},
	} {
		b.Run(c.name, func(b *testing.B) {
			w := filter.NewWalk(c.steps)
			sel := make([]bool, 0, w.Marks())
			b.SetBytes(int64(len(benchLine)))
			b.ReportAllocs()
			for b.Loop() {
				sel = w.Eval(benchLine, sel[:0])
			}
		})
	}
}
