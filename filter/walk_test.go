package filter_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/taikit/taikit/filter"
	"github.com/taikit/taikit/internal/conformance"
	"github.com/taikit/taikit/internal/testref"
)

// stamp stands for a TAI64N label; conformance.Mask masks it.
const stamp = "@4000000065a1b2c3d4e5f607"

// script is what the walk needs of a multilog command line: whether lines
// are stamped, the steps, and the word of each mark.
type script struct {
	stamped bool
	steps   []filter.Step
	actions []string
}

// parseScript classifies multilog's words by their first byte (spec §1):
// t first stamps, + and - are rules, e, =, . and / are marks, and g+ and g-
// are taikit's glob rules; the rest does not concern the walk.
func parseScript(t testing.TB, args []string) script {
	t.Helper()
	var s script
	for i, w := range args {
		switch {
		case w == "":
		case i == 0 && w[0] == 't':
			s.stamped = true
		case w[0] == '+' || w[0] == '-':
			s.steps = append(s.steps, filter.Step{Rule: &filter.Rule{Select: w[0] == '+', Pattern: []byte(w[1:])}})
		case strings.HasPrefix(w, "g+") || strings.HasPrefix(w, "g-"):
			g, err := filter.CompileGlob(w[2:])
			if err != nil {
				t.Fatal(err)
			}
			s.steps = append(s.steps, filter.Step{Rule: &filter.Rule{Select: w[1] == '+', Glob: g}})
		case strings.ContainsRune("e=./", rune(w[0])):
			s.steps = append(s.steps, filter.Step{})
			s.actions = append(s.actions, w)
		}
	}
	return s
}

// simulate runs the walk of args over the lines of in as multilog would
// use it: the window is the first 1000 bytes of the (stamped) line; e
// prints the window (200 bytes and "..." when longer); a directory gets
// the whole line. It returns each directory's content (by name, without
// "./") and standard error.
func simulate(t testing.TB, args []string, in []byte) (dirs map[string][]byte, stderr []byte) {
	t.Helper()
	s := parseScript(t, args)
	w := filter.NewWalk(s.steps)
	if w.Marks() != len(s.actions) {
		t.Fatalf("%d marks, want %d", w.Marks(), len(s.actions))
	}
	dirs = map[string][]byte{}
	lines := bytes.SplitAfter(in, []byte("\n"))
	if len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1]
	}
	var sel []bool
	for _, l := range lines {
		l = bytes.TrimSuffix(l, []byte("\n"))
		if s.stamped {
			l = append([]byte(stamp+" "), l...)
		}
		window := l[:min(len(l), filter.WindowSize)]
		sel = w.Eval(window, sel[:0])
		if w.Trivial() && !all(sel) {
			t.Fatalf("a trivial walk deselects %q: %v", window, sel)
		}
		for i, a := range s.actions {
			if !sel[i] {
				continue
			}
			switch a[0] {
			case 'e':
				if len(window) > 200 {
					stderr = append(append(stderr, window[:200]...), "...\n"...)
				} else {
					stderr = append(append(stderr, window...), '\n')
				}
			case '.', '/':
				name := strings.TrimPrefix(a, "./")
				dirs[name] = append(append(dirs[name], l...), '\n')
			}
		}
	}
	return dirs, stderr
}

func all(sel []bool) bool {
	for _, s := range sel {
		if !s {
			return false
		}
	}
	return true
}

// checkSimulation compares simulate's result with what the real multilog
// left in a case.
func checkSimulation(t *testing.T, c conformance.Case) {
	t.Helper()
	dirs, stderr := simulate(t, c.Args(), c.Stdin())
	for _, d := range c.Dirs {
		e, ok := d.Entry("current")
		if !ok || !e.HasContent {
			t.Fatalf("%s: dir %s has no current with a content", c.ID, d.Name)
		}
		if got := conformance.Mask(dirs[d.Name], false); !bytes.Equal(got, e.Content) {
			t.Errorf("%s: dir %s: walk gives %q, multilog wrote %q", c.ID, d.Name, got, e.Content)
		}
	}
	if err := c.Stderr.Check(stderr); err != nil {
		t.Errorf("%s: stderr: %v", c.ID, err)
	}
}

// TestWalkConformance: the walk reproduces ML08 (selection per position),
// ML09 (patterns see the stamp), ML15 (e honours the selection at its
// position) and every MP case.
func TestWalkConformance(t *testing.T) {
	ids := []string{"ML08", "ML09", "ML15"}
	for _, c := range mpCases(t) {
		ids = append(ids, c.ID)
	}
	for _, id := range ids {
		checkSimulation(t, conformance.Get(t, id))
	}
}

// TestWalkConformanceReference replays ML08, ML09 and ML15 through the real
// multilog.
func TestWalkConformanceReference(t *testing.T) {
	testref.Need(t, multilog)
	for _, id := range []string{"ML08", "ML09", "ML15"} {
		runReference(t, conformance.Get(t, id))
	}
}

func rule(word string) filter.Step {
	return filter.Step{Rule: &filter.Rule{Select: word[0] == '+', Pattern: []byte(word[1:])}}
}

func globRule(t testing.TB, sel bool, pattern string) filter.Step {
	g, err := filter.CompileGlob(pattern)
	if err != nil {
		t.Fatal(err)
	}
	return filter.Step{Rule: &filter.Rule{Select: sel, Glob: g}}
}

var mark = filter.Step{}

func TestWalkExamples(t *testing.T) {
	for _, c := range []struct {
		words   string // space-separated (no space in a pattern); "|" is a mark
		line    string
		want    string // one 1/0 per mark
		trivial bool
	}{
		{"|", "x", "1", true},
		{"", "x", "", true},
		{"| |", "x", "11", true},
		{"+a |", "b", "1", true},                 // a select rule where all is selected
		{"| -a", "a", "1", true},                 // rules after the last mark
		{"-a |", "a", "0", false},                //
		{"-a |", "b", "1", false},                //
		{"-* +a |", "a", "1", false},             //
		{"-* +a |", "b", "0", false},             //
		{"-* -a +b |", "b", "1", false},          // "-a" is dropped: nothing is selected there
		{"-a | +a -b | -* |", "a", "010", false}, // ML08
		{"-a | +a -b | -* |", "b", "100", false},
		{"-a | +a -b | -* |", "c", "110", false},
		{"-* | +* |", "x", "01", false},
		{"-* +* |", "x", "1", true}, // every mark is selected, though rules remain
		{"-* +* -x |", "x", "0", false},
		{"- |", "", "0", false},     // §1.3: "-" deselects empty lines only
		{"- |", "x", "1", false},    //
		{"-* + |", "", "1", false},  // the empty pattern
		{"-* + |", "a", "0", false}, //
		{"-*pid* |", "tcpsvd: info: pid 1977", "1", false},
		{"-*:_*:_pid_* |", "tcpsvd:_info:_pid_1977", "0", false},
	} {
		var steps []filter.Step
		for _, w := range strings.Fields(c.words) {
			if w == "|" {
				steps = append(steps, mark)
			} else {
				steps = append(steps, rule(w))
			}
		}
		w := filter.NewWalk(steps)
		var got strings.Builder
		for _, s := range w.Eval([]byte(c.line), nil) {
			got.WriteString(map[bool]string{true: "1", false: "0"}[s])
		}
		if got.String() != c.want {
			t.Errorf("walk %q on %q = %s, want %s", c.words, c.line, got.String(), c.want)
		}
		if w.Trivial() != c.trivial {
			t.Errorf("walk %q: Trivial() = %v, want %v", c.words, w.Trivial(), c.trivial)
		}
	}
}

// TestWalkGlobRules: glob rules select and deselect like pattern rules,
// and their windows see the stamp too.
func TestWalkGlobRules(t *testing.T) {
	steps := []filter.Step{
		rule("-*"), globRule(t, true, "*pid*"), mark,
		globRule(t, false, "*[0-9]"), mark,
		globRule(t, true, "**"), mark,
	}
	w := filter.NewWalk(steps)
	for _, c := range []struct{ line, want string }{
		{"tcpsvd: info: pid 1977", "101"},
		{"tcpsvd: info: pid x", "111"},
		{"other", "001"},
	} {
		got := fmt.Sprint(w.Eval([]byte(c.line), nil))
		want := strings.NewReplacer("1", "true ", "0", "false ").Replace(c.want)
		want = "[" + strings.TrimSpace(want) + "]"
		if got != want {
			t.Errorf("walk on %q = %s, want %s", c.line, got, want)
		}
	}
	// Stamped: as ML09, with g+ words.
	dirs, _ := simulate(t, []string{"t", "-*", "g+hello", "./d1", "-*", "g+* hello", "./d2", "-*", "g+@4*", "./d3", "-*", "g+@[0-9]*", "./d4"}, []byte("hello\n"))
	for name, want := range map[string]string{"d1": "", "d2": stamp + " hello\n", "d3": stamp + " hello\n", "d4": stamp + " hello\n"} {
		if string(dirs[name]) != want {
			t.Errorf("stamped glob walk: %s gets %q, want %q", name, dirs[name], want)
		}
	}
}

// TestWalkCopiesPatterns: changing a rule after NewWalk changes nothing.
func TestWalkCopiesPatterns(t *testing.T) {
	r := &filter.Rule{Select: false, Pattern: []byte("abc")}
	w := filter.NewWalk([]filter.Step{{Rule: r}, mark})
	r.Pattern[0] = 'x'
	r.Select = true
	if got := w.Eval([]byte("abc"), nil); got[0] {
		t.Error("the walk follows a rule changed after NewWalk")
	}
}

// naiveWalk is the walk as spec §3.1 states it, every rule evaluated.
func naiveWalk(steps []filter.Step, window []byte) []bool {
	sel, out := true, []bool(nil)
	for _, s := range steps {
		switch {
		case s.Rule == nil:
			out = append(out, sel)
		case s.Rule.Select && !sel && s.Rule.Match(window):
			sel = true
		case !s.Rule.Select && sel && s.Rule.Match(window):
			sel = false
		}
	}
	return out
}

// TestWalkRandom compares Walk (with its dropped rules) with the naive walk
// on random scripts, and checks Trivial against what the lines get.
func TestWalkRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	words := []string{"+*", "-*", "+a*", "-a*", "+*b", "-*b", "+", "-", "+**", "-**", "+a", "-b", "+*a*", "-*c*"}
	globs := []string{"*", "**", "a*", "*b", "[ab]*", "*c*", "?", ""}
	lines := [][]byte{nil, []byte("a"), []byte("b"), []byte("ab"), []byte("a*b"), []byte("cab"), []byte("abc"), []byte("ba"), []byte("c")}
	for i := 0; i < 3000; i++ {
		var steps []filter.Step
		for n := r.IntN(8); n > 0; n-- {
			switch r.IntN(4) {
			case 0:
				steps = append(steps, mark)
			case 1:
				steps = append(steps, globRule(t, r.IntN(2) == 0, globs[r.IntN(len(globs))]))
			default:
				steps = append(steps, rule(words[r.IntN(len(words))]))
			}
		}
		w := filter.NewWalk(steps)
		allSelected := true
		for _, l := range lines {
			want := naiveWalk(steps, l)
			got := w.Eval(l, nil)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("walk %s on %q = %v, want %v", describe(steps), l, got, want)
			}
			allSelected = allSelected && all(got)
		}
		if w.Trivial() && !allSelected {
			t.Fatalf("walk %s is trivial but deselects", describe(steps))
		}
	}
}

func describe(steps []filter.Step) string {
	var b strings.Builder
	for _, s := range steps {
		switch {
		case s.Rule == nil:
			b.WriteString(" |")
		case s.Rule.Glob != nil:
			fmt.Fprintf(&b, " g%c%s", "-+"[btoi(s.Rule.Select)], s.Rule.Glob)
		default:
			fmt.Fprintf(&b, " %c%s", "-+"[btoi(s.Rule.Select)], s.Rule.Pattern)
		}
	}
	return fmt.Sprintf("%q", strings.TrimSpace(b.String()))
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestWalkAllocs(t *testing.T) {
	w := filter.NewWalk([]filter.Step{
		rule("-*"), rule("+*error*"), globRule(t, true, "*warn*"), mark,
		rule("-*debug*"), mark, rule("+*"), mark,
	})
	window := []byte("@4000000065a1b2c3d4e5f607 service[12]: warn: disk 91% full")
	sel := make([]bool, 0, w.Marks())
	w.Eval(window, sel) // warm the glob's pool
	n := testing.AllocsPerRun(1000, func() {
		sel = w.Eval(window, sel[:0])
	})
	if n != 0 {
		t.Errorf("Eval allocates %v times per run", n)
	}
	if fmt.Sprint(sel) != "[true true true]" {
		t.Errorf("Eval = %v", sel)
	}
}

func TestWalkEmpty(t *testing.T) {
	for _, w := range []*filter.Walk{filter.NewWalk(nil), filter.NewWalk([]filter.Step{rule("-*")})} {
		if !w.Trivial() || w.Marks() != 0 {
			t.Errorf("empty walk: Trivial %v, Marks %d", w.Trivial(), w.Marks())
		}
		if got := w.Eval([]byte("x"), nil); len(got) != 0 {
			t.Errorf("empty walk: Eval = %v", got)
		}
	}
}

// TestWalkRunsSharingABeginning checks the merged runs of same-sign rules
// against rule-by-rule evaluation, on patterns that share beginnings with
// stars in them (the shape of real scripts: "-* * kernel: *", "-* * sshd[*]*").
func TestWalkRunsSharingABeginning(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	alpha := "ab *:"
	randBytes := func(n int) []byte { return randomBytes(r, n, alpha) }
	for round := 0; round < 3000; round++ {
		shared := randBytes(r.IntN(6))
		var steps []filter.Step
		var rules []filter.Rule
		sel := r.IntN(2) == 0
		for k := 0; k < 2+r.IntN(5); k++ {
			rule := filter.Rule{Select: sel, Pattern: append(append([]byte{}, shared...), randBytes(r.IntN(5))...)}
			rules = append(rules, rule)
		}
		if sel {
			steps = append(steps, filter.Step{Rule: &filter.Rule{Select: false, Pattern: []byte("*")}})
		}
		for i := range rules {
			steps = append(steps, filter.Step{Rule: &rules[i]})
		}
		steps = append(steps, filter.Step{})
		w := filter.NewWalk(steps)
		for l := 0; l < 40; l++ {
			line := randBytes(r.IntN(14))
			want := !sel
			for _, rule := range rules {
				if filter.Match(rule.Pattern, line) {
					want = sel
				}
			}
			if got := w.Eval(line, nil); len(got) != 1 || got[0] != want {
				t.Fatalf("rules %q (select %v), line %q: walk says %v, rule by rule %v", patternsOf(rules), sel, line, got, want)
			}
		}
	}
}

func patternsOf(rules []filter.Rule) []string {
	var s []string
	for _, r := range rules {
		s = append(s, string(r.Pattern))
	}
	return s
}

// TestWalkSharedBeginningsAcrossRules: a later rule whose beginning
// extends an earlier one's continues from where that one got, even when
// the earlier one was not evaluated for the line.
func TestWalkSharedBeginningsAcrossRules(t *testing.T) {
	r := rand.New(rand.NewPCG(43, 44))
	alpha := "ab *:"
	randBytes := func(n int) []byte { return randomBytes(r, n, alpha) }
	for round := 0; round < 3000; round++ {
		shared := randBytes(1 + r.IntN(5))
		var rules []filter.Rule
		var steps []filter.Step
		for k := 0; k < 3+r.IntN(6); k++ {
			switch r.IntN(4) {
			case 0:
				steps = append(steps, filter.Step{})
				continue
			case 1:
				rules = append(rules, filter.Rule{Select: r.IntN(2) == 0, Pattern: []byte("*")})
			default:
				p := append(append([]byte{}, shared...), randBytes(r.IntN(5))...)
				rules = append(rules, filter.Rule{Select: r.IntN(2) == 0, Pattern: p})
			}
			rule := rules[len(rules)-1]
			steps = append(steps, filter.Step{Rule: &rule})
		}
		steps = append(steps, filter.Step{})
		w := filter.NewWalk(steps)
		for l := 0; l < 40; l++ {
			line := randBytes(r.IntN(14))
			want := ruleByRule(steps, line)
			if got := w.Eval(line, nil); !slices.Equal(got, want) {
				t.Fatalf("round %d, line %q: walk %v, rule by rule %v", round, line, got, want)
			}
			if got := w.EvalBits(line); got != bitsOf(want) {
				t.Fatalf("round %d, line %q: EvalBits %b, rule by rule %v", round, line, got, want)
			}
		}
	}
}

// ruleByRule is the selection walk as section 3.1 says it, for pattern
// rules: every rule matched in turn, every mark appending the selection.
func ruleByRule(steps []filter.Step, line []byte) []bool {
	var sel []bool
	selected := true
	for _, s := range steps {
		if s.Rule == nil {
			sel = append(sel, selected)
		} else if s.Rule.Select != selected && filter.Match(s.Rule.Pattern, line) {
			selected = s.Rule.Select
		}
	}
	return sel
}

// bitsOf is sel's first 64 values as EvalBits gives them.
func bitsOf(sel []bool) uint64 {
	var b uint64
	for k, s := range sel[:min(len(sel), 64)] {
		if s {
			b |= 1 << k
		}
	}
	return b
}

// TestWalkManyMarks: a walk of more marks than a word has bits (a script
// of many status files and alerts) gives every mark its selection, rule by
// rule, and EvalBits the first 64.
func TestWalkManyMarks(t *testing.T) {
	r := rand.New(rand.NewPCG(47, 48))
	alpha := "ab *"
	randBytes := func(n int) []byte { return randomBytes(r, n, alpha) }
	for round := 0; round < 200; round++ {
		var steps []filter.Step
		marks := 0
		for marks < 65+r.IntN(140) {
			if r.IntN(2) == 0 {
				steps = append(steps, mark)
				marks++
				continue
			}
			pat := append(randBytes(r.IntN(3)), '*')
			steps = append(steps, filter.Step{Rule: &filter.Rule{Select: r.IntN(2) == 0, Pattern: append(pat, randBytes(r.IntN(3))...)}})
		}
		w := filter.NewWalk(steps)
		if w.Marks() != marks {
			t.Fatalf("round %d: Marks() = %d, want %d", round, w.Marks(), marks)
		}
		for l := 0; l < 30; l++ {
			line := randBytes(r.IntN(8))
			want := ruleByRule(steps, line)
			if got := w.Eval(line, []bool{true}); !slices.Equal(got[1:], want) || !got[0] {
				t.Fatalf("round %d, line %q, walk %s:\nwalk        %v\nrule by rule %v", round, line, describe(steps), got[1:], want)
			}
			if got := w.EvalBits(line); got != bitsOf(want) {
				t.Fatalf("round %d, line %q: EvalBits %b, rule by rule %v", round, line, got, want[:64])
			}
		}
	}
}

// TestWalkEvalText checks EvalText against Eval on the whole window, for
// random scripts whose patterns share beginnings and reach into the
// prefix, random prefixes (stamps, with and without the bytes the stars
// look for) and random texts; and that a stamp-skipping script is OK.
func TestWalkEvalText(t *testing.T) {
	r := rand.New(rand.NewPCG(45, 46))
	alpha := "ab *:"
	randBytes := func(n int) []byte { return randomBytes(r, n, alpha) }
	globs := []string{"*", "a*", "*b*", "?*"}
	var p filter.Prefix
	var sel []bool
	oks, evals := 0, 0
	for round := 0; round < 3000; round++ {
		shared := randBytes(r.IntN(5))
		var steps []filter.Step
		for k := 0; k < 1+r.IntN(7); k++ {
			switch r.IntN(6) {
			case 0:
				steps = append(steps, mark)
			case 1:
				if r.IntN(4) == 0 {
					steps = append(steps, globRule(t, r.IntN(2) == 0, globs[r.IntN(len(globs))]))
					continue
				}
				steps = append(steps, filter.Step{Rule: &filter.Rule{Select: r.IntN(2) == 0, Pattern: []byte("*")}})
			default:
				pat := append(append([]byte{}, shared...), randBytes(r.IntN(5))...)
				steps = append(steps, filter.Step{Rule: &filter.Rule{Select: r.IntN(2) == 0, Pattern: pat}})
			}
		}
		steps = append(steps, mark)
		w := filter.NewWalk(steps)
		for l := 0; l < 10; l++ {
			prefix := randBytes(r.IntN(6))
			w.Prepare(&p, prefix)
			if !p.OK() {
				continue
			}
			oks++
			for m := 0; m < 10; m++ {
				text := randBytes(r.IntN(12))
				want := w.Eval(append(append([]byte{}, prefix...), text...), nil)
				sel = w.EvalText(&p, text, sel[:0])
				evals++
				if !slices.Equal(sel, want) {
					t.Fatalf("round %d: walk %s, prefix %q, text %q: EvalText %v, Eval %v", round, describe(steps), prefix, text, sel, want)
				}
				if got := w.EvalTextBits(&p, text); got != bitsOf(want) {
					t.Fatalf("round %d: walk %s, prefix %q, text %q: EvalTextBits %b, Eval %v", round, describe(steps), prefix, text, got, want)
				}
			}
		}
	}
	if oks < 10000 {
		t.Errorf("only %d of 30000 prefixes were OK", oks)
	}
	w := filter.NewWalk([]filter.Step{rule("-* * kernel: *"), rule("-* * tick"), mark, rule("-*"), rule("+* * worker-*: job=* state=failed *"), mark})
	w.Prepare(&p, []byte(stamp+" "))
	if !p.OK() {
		t.Fatalf("a script skipping the stamp with '* ' cannot use EvalText")
	}
	text := []byte(stamp + " worker-1: job=3 state=failed try=2")
	if got := w.EvalText(&p, text, nil); fmt.Sprint(got) != "[true true]" {
		t.Errorf("EvalText = %v, want [true true]", got)
	}
	n := testing.AllocsPerRun(1000, func() {
		w.Prepare(&p, []byte(stamp+" "))
		sel = w.EvalText(&p, text, sel[:0])
		w.EvalTextBits(&p, text)
	})
	if n != 0 {
		t.Errorf("Prepare and EvalText allocate %v times per run", n)
	}
	t.Logf("%d prefixes OK, %d texts compared", oks, evals)
}
