package logcat

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// stampSpace is a TAI64N stamp and its space at the start of a line.
var stampSpace = regexp.MustCompile(`^@[0-9a-f]{24} `)

// markAt returns where a label goes in line: after its stamp and the space,
// if it starts with them, else first.
func markAt(line string) int { return len(stampSpace.FindString(line)) }

// contextModel is what grep -B before -A after (and -m first) writes of
// lines, as plainly as it can be said, with -n last: the selected lines
// (sel; the first first of them when first > 0; of those, the last last
// when last ≥ 0), each with the lines around it, "--" between groups that
// are not next to each other. A line is marked "x: " when it is one of
// those selected lines, "x- " when it is only context, after its stamp
// (markAt).
func contextModel(lines []string, sel func(string) bool, before, after, first, last int) string {
	var chosen []int
	for i, l := range lines {
		if sel(l) {
			chosen = append(chosen, i)
			if first > 0 && len(chosen) == first {
				break
			}
		}
	}
	if last >= 0 && len(chosen) > last {
		chosen = chosen[len(chosen)-last:]
	}
	selected, shown := map[int]bool{}, map[int]bool{}
	for _, s := range chosen {
		selected[s] = true
		for j := max(0, s-before); j <= min(len(lines)-1, s+after); j++ {
			shown[j] = true
		}
	}
	var b strings.Builder
	prev := -1
	for i, l := range lines {
		if !shown[i] {
			continue
		}
		if prev >= 0 && i > prev+1 && before+after > 0 {
			b.WriteString("--\n")
		}
		prev = i
		mark := "x- "
		if selected[i] {
			mark = "x: "
		}
		at := markAt(l)
		b.WriteString(l[:at] + mark + l[at:] + "\n")
	}
	return b.String()
}

// Context lines, -m and -n, over random logs, against the model: the
// stream read in uneven pieces, the lines given one by one and in blocks of
// every size, with selections that the search for a literal speeds up and
// ones it cannot.
func TestContextAgainstModel(t *testing.T) {
	selections := []struct {
		res    []string
		invert bool
		sel    func(string) bool
	}{
		{[]string{"hit"}, false, func(l string) bool { return strings.Contains(l, "hit") }},
		{[]string{"hit", "zap"}, false, func(l string) bool { return strings.Contains(l, "hit") || strings.Contains(l, "zap") }},
		{[]string{"hit"}, true, func(l string) bool { return !strings.Contains(l, "hit") }},
	}
	rng := rand.New(rand.NewPCG(18, 18))
	for round := range 300 {
		var lines []string
		for i := range rng.IntN(30) {
			word := []string{"hit", "miss", "zap", "plain"}[rng.IntN(4)]
			if rng.IntN(4) == 0 {
				lines = append(lines, fmt.Sprintf("  unstamped %s %d", word, i))
			} else {
				lines = append(lines, stamped(int64(1000+i), fmt.Sprintf("%s %d", word, i)))
			}
		}
		input := ""
		for _, l := range lines {
			input += l + "\n"
		}
		s := selections[round%len(selections)]
		before, after := rng.IntN(4), rng.IntN(4)
		if round%5 == 0 {
			before, after = 0, max(after, 1)
		}
		first := []int{0, 0, 1, 2, 3}[rng.IntN(5)]
		last := []int{-1, -1, 0, 1, 2, 4}[rng.IntN(6)]
		q := Query{Before: before, After: after, First: first, Last: last, Labels: []string{"x"},
			Selector: mustSelector(t, nil, s.res, s.invert)}
		want := contextModel(lines, s.sel, before, after, first, last)
		name := fmt.Sprintf("round %d: -B%d -A%d -m%d -n%d -E %q (-v %v)", round, before, after, first, last, s.res, s.invert)
		if got := runQuery(t, q, input); got != want {
			t.Fatalf("%s, stream: got\n%s\nwant\n%s\ninput\n%s", name, got, want, input)
		}
		if got := addQuery(t, q, input); got != want {
			t.Fatalf("%s, by line: got\n%s\nwant\n%s", name, got, want)
		}
		if got := linesQuery(t, q, input); got != want {
			t.Fatalf("%s, in blocks: got\n%s\nwant\n%s", name, got, want)
		}
	}
}

func TestContextCases(t *testing.T) {
	lines := func(ns ...int) string {
		var b strings.Builder
		for _, n := range ns {
			fmt.Fprintf(&b, "%d\n", n)
		}
		return b.String()
	}
	var in strings.Builder
	for i := 1; i <= 20; i++ {
		fmt.Fprintf(&in, "%d\n", i)
	}
	input := in.String()
	cases := []struct {
		name          string
		re            string
		before, after int
		first, last   int
		count         bool
		want          string
	}{
		{"groups apart", `^(5|15)$`, 1, 1, 0, -1, false, lines(4, 5, 6) + "--\n" + lines(14, 15, 16)},
		{"groups that touch join", `^(5|8)$`, 1, 1, 0, -1, false, lines(4, 5, 6, 7, 8, 9)},
		{"groups that overlap join", `^(5|7)$`, 2, 2, 0, -1, false, lines(3, 4, 5, 6, 7, 8, 9)},
		{"first line", `^1$`, 3, 1, 0, -1, false, lines(1, 2)},
		{"last line", `^20$`, 1, 3, 0, -1, false, lines(19, 20)},
		{"every line", `.`, 2, 2, 0, -1, false, input},
		{"no line", `x`, 2, 2, 0, -1, false, ""},
		{"after only", `^(3|10)$`, 0, 1, 0, -1, false, lines(3, 4) + "--\n" + lines(10, 11)},
		{"before only", `^(3|10)$`, 1, 0, 0, -1, false, lines(2, 3) + "--\n" + lines(9, 10)},
		{"-m: the context after the last", `^(3|5|10)$`, 0, 3, 2, -1, false, lines(3, 4, 5, 6, 7, 8)},
		{"-n: the last groups whole", `^(3|10|17)$`, 1, 1, 0, 2, false, lines(9, 10, 11) + "--\n" + lines(16, 17, 18)},
		{"-n: a line selected before the last is its context", `^(9|10)$`, 1, 1, 0, 1, false, lines(9, 10, 11)},
		{"-c counts selected lines only", `^(3|10)$`, 2, 2, 0, -1, true, "2\n"},
	}
	for _, c := range cases {
		q := Query{Before: c.before, After: c.after, First: c.first, Last: c.last, Count: c.count,
			Selector: mustSelector(t, nil, []string{c.re}, false)}
		if got := runQuery(t, q, input); got != c.want {
			t.Errorf("%s: got\n%s\nwant\n%s", c.name, got, c.want)
		}
	}
}

// Context lines are within the time range: a line outside it is no one's
// context and parts groups.
func TestContextTimeRange(t *testing.T) {
	input := stamped(1, "a") + "\n" + stamped(2, "b") + "\n" + "  b more\n" + stamped(3, "hit c") + "\n" +
		stamped(4, "d") + "\n" + stamped(5, "e") + "\n"
	q := Query{Last: -1, Before: 3, After: 3, Since: label(2), HasSince: true, Until: label(5), HasUntil: true,
		Selector: mustSelector(t, nil, []string{"hit"}, false)}
	want := stamped(2, "b") + "\n" + "  b more\n" + stamped(3, "hit c") + "\n" + stamped(4, "d") + "\n"
	if got := runQuery(t, q, input); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// In JSON, a context line has "context":true and no "--" parts groups; a
// label is a field.
func TestContextAndLabelsJSON(t *testing.T) {
	input := stamped(1, "a") + "\n" + stamped(2, "hit") + "\n" + stamped(3, "c") + "\n" + stamped(4, "d") + "\n" + stamped(5, "hit \"e\"") + "\n"
	q := Query{Last: -1, Format: FormatJSON, Before: 1, Labels: []string{"web \"1\""}, Selector: mustSelector(t, nil, []string{"hit"}, false)}
	rec := func(sec int64, ctx bool, line string) string {
		c := ""
		if ctx {
			c = `"context":true,`
		}
		return `{"label":"web \"1\"",` + c + fmt.Sprintf(`"time":"1970-01-01T00:00:%02d.000000000Z","tai64n":"%s","line":%s}`, sec, label(sec), line) + "\n"
	}
	want := rec(1, true, `"a"`) + rec(2, false, `"hit"`) + rec(4, true, `"d"`) + rec(5, false, `"hit \"e\""`)
	if got := runQuery(t, q, input); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// Labels are padded to the longest, after ':' for a selected line and '-'
// for a context line, whatever the format; they come after the time, and
// first on a line without a stamp.
func TestLabelAlignment(t *testing.T) {
	var out strings.Builder
	p := NewPipeline(Query{Last: -1, After: 1, Format: FormatRFC3339, Labels: []string{"db", "worker", "-"},
		Selector: mustSelector(t, nil, []string{"hit"}, false)}, &out)
	for i, l := range []string{stamped(1, "hit one"), stamped(2, "two"), stamped(3, "three"), "hit four"} {
		p.SetSource(i % 3)
		p.AddLines([]byte(l+"\n"), label(int64(i)))
	}
	if err := p.Flush(); err != nil {
		t.Fatal(err)
	}
	want := "1970-01-01T00:00:01.000000000Z db:     hit one\n" +
		"1970-01-01T00:00:02.000000000Z worker- two\n" +
		"--\n" +
		"db:     hit four\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}

func TestShortNames(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		inputs []string
		kinds  []inputKind
		want   []string
	}{
		{[]string{"/service/web/log/main", "/service/db/log/main"}, []inputKind{inputDir, inputDir}, []string{"web", "db"}},
		{[]string{"/etc/s6/web/log", "/var/log/db/", "./x/main"}, []inputKind{inputDir, inputDir, inputDir}, []string{"web", "db", "main"}},
		{[]string{"/a/log/main", "/b/log/main", "/c/log/main"}, []inputKind{inputDir, inputMissing, inputDir}, []string{"a", "b", "c"}},
		{[]string{"/x/web/log/main", "/y/web/log/main", "-"}, []inputKind{inputDir, inputDir, inputStdin}, []string{"/x/web/log/main", "/y/web/log/main", "stdin"}},
		{[]string{"/x/stdin", "-"}, []inputKind{inputDir, inputStdin}, []string{"/x/stdin", "stdin"}},
		{[]string{dir + "/log/main/current", dir + "/@4000.s"}, []inputKind{inputFile, inputFile}, []string{"current", "@4000.s"}},
	}
	for _, c := range cases {
		if got := labelsOf(c.inputs, c.kinds); strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("%q: %q, want %q", c.inputs, got, c.want)
		}
	}
}

func TestParseContextOptions(t *testing.T) {
	cases := []struct {
		args          []string
		before, after int
		label         LabelMode
	}{
		{nil, 0, 0, LabelAuto},
		{[]string{"-A", "2"}, 0, 2, LabelAuto},
		{[]string{"-B2", "--context=5"}, 2, 5, LabelAuto},
		{[]string{"--context", "3", "-A", "1", "-H"}, 3, 1, LabelAlways},
		{[]string{"-H", "--no-label"}, 0, 0, LabelNever},
	}
	for _, c := range cases {
		o, err := Parse(c.args)
		if err != nil {
			t.Fatalf("%q: %v", c.args, err)
		}
		if o.Before != c.before || o.After != c.after || o.Label != c.label {
			t.Errorf("%q: -B %d -A %d label %d, want %d %d %d", c.args, o.Before, o.After, o.Label, c.before, c.after, c.label)
		}
	}
	for _, args := range [][]string{{"-A", "-1"}, {"--context", "x"}, {"-B"}} {
		if _, err := Parse(args); err == nil {
			t.Errorf("%q: no error", args)
		}
	}
}

// A context line longer than ChunkSize is written whole after a selected
// line, and as its first ChunkSize bytes, ended, before one.
func TestContextLongLines(t *testing.T) {
	long := stamped(2, "long "+strings.Repeat("x", 2*ChunkSize+5))
	input := stamped(1, "hit one") + "\n" + long + "\n" + stamped(3, "hit three") + "\n"
	q := Query{Last: -1, After: 1, Selector: mustSelector(t, nil, []string{"hit one"}, false)}
	if got := runQuery(t, q, input); got != stamped(1, "hit one")+"\n"+long+"\n" {
		t.Errorf("after: got %d bytes, want %d", len(got), len(stamped(1, "hit one"))+len(long)+2)
	}
	q = Query{Last: -1, Before: 1, Selector: mustSelector(t, nil, []string{"hit three"}, false)}
	if got, want := runQuery(t, q, input), long[:ChunkSize]+"\n"+stamped(3, "hit three")+"\n"; got != want {
		t.Errorf("before: got %d bytes %.40q, want %d", len(got), got, len(want))
	}
	q = Query{Last: -1, After: 1, Format: FormatJSON, Selector: mustSelector(t, nil, []string{"hit one"}, false)}
	got := runQuery(t, q, input)
	if n := strings.Count(got, `"context":true`); n != 3 || strings.Count(got, "\n") != 4 {
		t.Errorf("JSON after: %d context records in %d lines, want 3 in 4", n, strings.Count(got, "\n"))
	}
}

// Following after -n: the last groups held back are written, and the
// lines that come next are context of the last one, or a group apart.
func TestContextLastThenLive(t *testing.T) {
	var out strings.Builder
	p := NewPipeline(Query{Last: 1, After: 1, Before: 1, Selector: mustSelector(t, nil, []string{"hit"}, false)}, &out)
	for _, l := range []string{"a", "hit b", "c", "d", "hit e"} {
		p.AddLines([]byte(l+"\n"), label(0))
	}
	if err := p.StartLive(); err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"f", "g", "h", "hit i", "j"} {
		p.AddLines([]byte(l+"\n"), label(0))
	}
	if err := p.Flush(); err != nil {
		t.Fatal(err)
	}
	if want := "d\nhit e\nf\n--\nh\nhit i\nj\n"; out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}
