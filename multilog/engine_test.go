package multilog

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

type memStatus struct{ records [][]byte }

func (m *memStatus) WriteStatus(r []byte) error {
	m.records = append(m.records, append([]byte(nil), r...))
	return nil
}

func fixedClock() time.Time { return time.Unix(1700000000, 123456789) }

func run(t *testing.T, script string, chunks ...string) (dirs []*bytes.Buffer, status []*memStatus, stdout, stderr *bytes.Buffer) {
	t.Helper()
	p := Parse(strings.Fields(script))
	var s Sinks
	for _, a := range p.Actions {
		switch a.Kind {
		case Dir:
			b := &bytes.Buffer{}
			dirs = append(dirs, b)
			s.Dirs = append(s.Dirs, b)
		case Status:
			m := &memStatus{}
			status = append(status, m)
			s.Status = append(s.Status, m)
		}
	}
	stdout, stderr = &bytes.Buffer{}, &bytes.Buffer{}
	s.Stdout, s.Stderr, s.Clock = stdout, stderr, fixedClock
	e := NewEngine(p, s)
	for _, c := range chunks {
		if err := e.Process([]byte(c)); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Finish(); err != nil {
		t.Fatal(err)
	}
	return
}

const st = "@400000006553f10a075bcd15 " // fixedClock in daemontools' convention

func TestEngineLinesAcrossChunks(t *testing.T) {
	// However the input is split, the output is the same; a partial last
	// line gets a newline; stamps are those of the chunk a line began in.
	in := "one\ntwo\n\nthree"
	for _, split := range [][]string{{in}, strings.SplitAfter(in, ""), {"on", "e\ntw", "o\n\nthr", "ee"}} {
		dirs, _, _, _ := run(t, "t ./d", split...)
		if want := st + "one\n" + st + "two\n" + st + "\n" + st + "three\n"; dirs[0].String() != want {
			t.Fatalf("split %q: %q", split, dirs[0].String())
		}
	}
}

func TestEngineWindowAlertsStatus(t *testing.T) {
	long := strings.Repeat("B", 1500)
	dirs, status, _, stderr := run(t, "t e =st ./d", long+"\nshort\n")
	if dirs[0].String() != st+long+"\n"+st+"short\n" {
		t.Fatal("the whole long line must be logged")
	}
	// ML12: the window is 1000 bytes with the stamp; e cuts at 200.
	if r := status[0].records[len(status[0].records)-1]; string(r) != st+"short"+strings.Repeat("\n", 1001-len(st)-5) {
		t.Fatalf("status %q", r[:40])
	}
	if want := (st + long)[:200] + "...\n" + st + "short\n"; stderr.String() != want {
		t.Fatalf("alerts %q", stderr.String())
	}
	// Status is written once per chunk, with the last selected line.
	if len(status[0].records) != 1 {
		t.Fatalf("%d status writes for one chunk", len(status[0].records))
	}
	_, status, _, _ = run(t, "=st", long+"\n")
	if r := status[0].records[0]; string(r) != long[:1000]+"\n" {
		t.Fatalf("ML11: status %q", r[990:])
	}
}

func TestEngineSelection(t *testing.T) {
	// ML08: the selection at each directory's position.
	dirs, _, _, _ := run(t, "-a ./d1 +a -b ./d2 -* ./d3", "a\nb\nc\n")
	if dirs[0].String() != "b\nc\n" || dirs[1].String() != "a\nc\n" || dirs[2].String() != "" {
		t.Fatalf("%q %q %q", dirs[0], dirs[1], dirs[2])
	}
	// Prefixes and stdout.
	dirs, _, stdout, _ := run(t, "pweb ./d p 1", "x\n")
	if dirs[0].String() != "web x\n" || stdout.String() != "x\n" {
		t.Fatalf("%q %q", dirs[0], stdout)
	}
	// A glob sees what patterns see: the stamp too.
	dirs, _, _, _ = run(t, "t -* g+*[eE]rror* ./d", "an error\nfine\nError!\n")
	if dirs[0].String() != st+"an error\n"+st+"Error!\n" {
		t.Fatalf("%q", dirs[0])
	}
}

func TestEngineRFC3339Stamps(t *testing.T) {
	dirs, _, _, _ := run(t, "Tu ./d", "x\n")
	if dirs[0].String() != "2023-11-14T22:13:20.123456789Z x\n" {
		t.Fatalf("%q", dirs[0])
	}
}

func TestEngineNoAllocsPerLine(t *testing.T) {
	// A script of more than 64 actions keeps its selections in a slice
	// rather than a word: reused too.
	wide := []string{"t", "-*.debug*"}
	for i := range 70 {
		wide = append(wide, fmt.Sprintf("=st%d", i))
	}
	wide = append(wide, "./d1", "./d2")
	for _, script := range [][]string{{"t", "-*.debug*", "e", "+*", "=st", "./d1", "./d2"}, wide} {
		p := Parse(script)
		var d1, d2 bytes.Buffer
		status := make([]StatusWriter, 70)
		for i := range status {
			status[i] = nopStatus{}
		}
		e := NewEngine(p, Sinks{Dirs: writers{&d1, &d2}.w(), Status: status, Stdout: &d1, Stderr: &d2, Clock: fixedClock})
		chunk := []byte(strings.Repeat("sshd[123]: Accepted publickey for deploy from 10.0.0.1 port 22\nx.debug y\n", 500))
		e.Process(chunk) // grow the batches once
		if n := testing.AllocsPerRun(50, func() {
			d1.Reset()
			d2.Reset()
			e.Process(chunk)
		}); n != 0 {
			t.Fatalf("%d words: Process allocates %v times per chunk of 1000 lines", len(script), n)
		}
	}
}

type nopStatus struct{}

func (nopStatus) WriteStatus([]byte) error { return nil }

type writer = *bytes.Buffer

type writers []writer

func (w writers) w() []io.Writer {
	out := make([]io.Writer, len(w))
	for i := range w {
		out[i] = w[i]
	}
	return out
}

// TestEngineInPlaceSameAsWindow runs random scripts (stamped or not, with
// patterns that skip the stamp, look into it or are cut by it, globs, e and
// =) over random lines twice: as one chunk, where a line is evaluated where
// it lies in the chunk beside the stamp, and a byte per chunk, where every
// line is built in the window behind its stamp. Every output must be the
// same.
func TestEngineInPlaceSameAsWindow(t *testing.T) {
	r := rand.New(rand.NewPCG(49, 50))
	pats := []string{"*", "* *", "* a*", "* *b", "* * a*", "*a", "@4*", "@4000*", "*5*", "a*", "* **", "* a", "*", "*:*"}
	texts := []string{"a", "b", "a b", "ab: c", "a:b", "@4 a", "* a", "5", "", "b a b"}
	inPlace := 0
	for round := 0; round < 400; round++ {
		var words []string
		if k := r.IntN(3); k > 0 {
			words = append(words, []string{"", "t", "T"}[k])
		}
		for n := 1 + r.IntN(6); n > 0; n-- {
			switch r.IntN(5) {
			case 0:
				words = append(words, []string{"e", "=st", "./d"}[r.IntN(3)])
			case 1:
				words = append(words, "g"+"+-"[r.IntN(2):][:1]+[]string{"*a*", "@*", "?*"}[r.IntN(3)])
			default:
				words = append(words, "+-"[r.IntN(2):][:1]+pats[r.IntN(len(pats))])
			}
		}
		words = append(words, "./d")
		var in []byte
		for n := r.IntN(30); n > 0; n-- {
			in = append(in, texts[r.IntN(len(texts))]...)
			if r.IntN(3) == 0 {
				in = append(in, texts[r.IntN(len(texts))]...)
			}
			in = append(in, '\n')
		}
		whole, e := runWords(t, words, [][]byte{in})
		if e.prefix.OK() {
			inPlace++
		}
		var bytewise [][]byte
		for i := range in {
			bytewise = append(bytewise, in[i:i+1])
		}
		split, _ := runWords(t, words, bytewise)
		if whole != split {
			t.Fatalf("script %q on %q:\nas one chunk:\n%s\na byte at a time:\n%s", words, in, whole, split)
		}
	}
	if inPlace < 100 {
		t.Errorf("only %d of 400 scripts were evaluated in place", inPlace)
	}
}

// runWords runs the script words over chunks and describes every output.
func runWords(t *testing.T, words []string, chunks [][]byte) (string, *Engine) {
	t.Helper()
	return runWordsWith(t, words, chunks, nil)
}

// runWordsWith is runWords with set, when not nil, given the engine first.
func runWordsWith(t *testing.T, words []string, chunks [][]byte, set func(*Engine)) (string, *Engine) {
	t.Helper()
	p := Parse(words)
	var s Sinks
	var dirs []*bytes.Buffer
	var status []*memStatus
	for _, a := range p.Actions {
		switch a.Kind {
		case Dir:
			b := &bytes.Buffer{}
			dirs = append(dirs, b)
			s.Dirs = append(s.Dirs, b)
		case Status:
			m := &memStatus{}
			status = append(status, m)
			s.Status = append(s.Status, m)
		}
	}
	var stdout, stderr bytes.Buffer
	s.Stdout, s.Stderr, s.Clock, s.Zone = &stdout, &stderr, fixedClock, nil
	e := NewEngine(p, s)
	if set != nil {
		set(e)
	}
	for _, c := range chunks {
		if err := e.Process(c); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Finish(); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	for i, d := range dirs {
		fmt.Fprintf(&out, "dir %d: %q\n", i, d.String())
	}
	for i, m := range status {
		var last []byte
		if n := len(m.records); n > 0 {
			last = m.records[n-1]
		}
		fmt.Fprintf(&out, "status %d: %q\n", i, bytes.TrimRight(last, "\n"))
	}
	fmt.Fprintf(&out, "stderr: %q\n", stderr.String())
	return out.String(), e
}

// TestCutBoundsAJobsOutput: a read whose lines would give a directory more
// than maxJobOutput (empty lines stamped: 27 bytes each) is processed in
// pieces of whole lines that stay within it; a read of log lines is
// processed whole.
func TestCutBoundsAJobsOutput(t *testing.T) {
	e := NewEngine(Parse([]string{"t", "pweb", "./d"}), Sinks{Dirs: []io.Writer{io.Discard}, Clock: fixedClock})
	logs := []byte(strings.Repeat("sshd[123]: Accepted publickey for deploy from 10.0.0.1 port 22\n", readSize/64))
	if k := e.cut(logs, -1); k != len(logs) {
		t.Fatalf("a read of log lines cut at %d of %d", k, len(logs))
	}
	flood := append(bytes.Repeat([]byte("\n"), readSize-10), "partial.."...)
	per := len(e.stamp) + len("web ")
	pieces := 0
	for rest := flood; len(rest) > 0; pieces++ {
		k := e.cut(rest, -1)
		if k <= 0 {
			t.Fatalf("cut %d", k)
		}
		if k < len(rest) && rest[k-1] != '\n' {
			t.Fatalf("piece %d ends inside a line", pieces)
		}
		if lines := bytes.Count(rest[:k], []byte{'\n'}); k < len(rest) && k+per*lines > maxJobOutput {
			t.Fatalf("piece %d: %d bytes, %d lines: more than %d of output", pieces, k, lines, maxJobOutput)
		}
		rest = rest[k:]
	}
	if min := (readSize - 10) * (per + 1) / maxJobOutput; pieces < min {
		t.Fatalf("%d pieces, want at least %d", pieces, min)
	}
	// A count given is used as it is.
	if k := e.cut(flood, 0); k != len(flood) {
		t.Fatalf("with no newlines counted: cut at %d", k)
	}
}
