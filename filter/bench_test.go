package filter_test

import (
	"bytes"
	"os"
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

// qmailSteps is the bench suite's qmail-style script (bench/suites.go):
// seven deselections that share the beginning "* * ", the main log, "-*",
// one selection and the status file.
var qmailSteps = []filter.Step{
	rule("-* * -- MARK --"), rule("-* * tick"), rule("-* * kernel: *"), rule("-* * systemd[1]: Started *"),
	rule("-* * cron[*]: (*) CMD *"), rule("-* * sshd[*]: Accepted publickey for *"), rule("-* * api[*]: level=debug *"),
	mark, rule("-*"), rule("+* * worker-*: job=* queue=* state=failed *"), mark,
}

// logLines returns testdata/loglines.txt, the first 400 lines of the bench
// suite's corpus (each with the corpus's own stamp), without newlines.
func logLines(b *testing.B) [][]byte {
	in, err := os.ReadFile("testdata/loglines.txt")
	if err != nil {
		b.Fatal(err)
	}
	var lines [][]byte
	for l := range bytes.Lines(in) {
		lines = append(lines, bytes.TrimSuffix(l, []byte("\n")))
	}
	return lines
}

// BenchmarkWalkQmail is the qmail-style script's walk on the corpus's lines,
// as multilog runs it: after its own stamp, worked out once per read
// (Prepare), on the text of each line, its selections in a word
// (EvalTextBits); "bools" is the same walk appending them to a slice
// (EvalText).
func BenchmarkWalkQmail(b *testing.B) {
	lines := logLines(b)
	w := filter.NewWalk(qmailSteps)
	var p filter.Prefix
	w.Prepare(&p, []byte(stamp+" "))
	perLine := func(b *testing.B) {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(lines)), "ns/line")
	}
	b.Run("bits", func(b *testing.B) {
		b.ReportAllocs()
		var n uint64
		for b.Loop() {
			for _, l := range lines {
				n += w.EvalTextBits(&p, l)
			}
		}
		perLine(b)
	})
	b.Run("bools", func(b *testing.B) {
		sel := make([]bool, 0, w.Marks())
		b.ReportAllocs()
		for b.Loop() {
			for _, l := range lines {
				sel = w.EvalText(&p, l, sel[:0])
			}
		}
		perLine(b)
	})
}

// BenchmarkWalkQmailByHand is the floor BenchmarkWalkQmail is measured
// against: the same decisions by code written for exactly this script.
func BenchmarkWalkQmailByHand(b *testing.B) {
	lines := logLines(b)
	for _, l := range lines { // the hand-written code must decide as the walk does
		want := filter.NewWalk(qmailSteps).Eval(append([]byte(stamp+" "), l...), nil)
		if main, status := qmailByHand(l); main != want[0] || status != want[1] {
			b.Fatalf("%q: by hand %v %v, the walk %v", l, main, status, want)
		}
	}
	var n int
	for b.Loop() {
		for _, l := range lines {
			if main, status := qmailByHand(l); main || status {
				n++
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(lines)), "ns/line")
}

// qmailByHand decides a line of text (after multilog's stamp) for the main
// log and the status file of qmailSteps.
func qmailByHand(l []byte) (main, status bool) {
	i := bytes.IndexByte(l, ' ')
	if i < 0 {
		return true, false
	}
	r := l[i+1:]
	main = !qmailNoise(r)
	status = bytes.HasPrefix(r, []byte("worker-")) && matchAt(r, "worker-*: job=* queue=* state=failed *")
	return main, status
}

func qmailNoise(r []byte) bool {
	if len(r) == 0 {
		return false
	}
	switch r[0] {
	case 'k':
		return bytes.HasPrefix(r, []byte("kernel: "))
	case 's':
		return bytes.HasPrefix(r, []byte("systemd[1]: Started ")) || bytes.HasPrefix(r, []byte("sshd[")) && matchAt(r, "sshd[*]: Accepted publickey for *")
	case 'a':
		return bytes.HasPrefix(r, []byte("api[")) && matchAt(r, "api[*]: level=debug *")
	case 'c':
		return bytes.HasPrefix(r, []byte("cron[")) && matchAt(r, "cron[*]: (*) CMD *")
	case 't':
		return string(r) == "tick"
	case '-':
		return string(r) == "-- MARK --"
	}
	return false
}

// matchAt is filter.Match with the pattern as a string.
func matchAt(r []byte, pattern string) bool { return filter.Match([]byte(pattern), r) }
