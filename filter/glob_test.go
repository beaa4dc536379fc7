package filter_test

import (
	"errors"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/glob"
	"github.com/taikit/taikit/filter"
)

// docTable is the table of the package documentation: the same text as a
// multilog pattern and as a glob.
var docTable = []struct {
	text, line  string
	match, glob bool
}{
	{"*pid*", "tcpsvd: info: pid 1977", false, true},
	{"h*o", "hello", true, true},
	{"h*o", "hellooo", false, true},
	{"a*c", "abcbc", false, true},
	{"*o", "foo", false, true},
	{"**", "a*b", true, true},
	{"**", "ab", false, true},
	{"?", "a", false, true},
	{"?", "?", true, true},
	{"[ab]", "a", false, true},
	{"[ab]", "[ab]", true, false},
	{`\*`, `\x`, true, false},
	{"{a,b}", "a", false, true},
}

func TestDocTable(t *testing.T) {
	for _, c := range docTable {
		if got := filter.Match([]byte(c.text), []byte(c.line)); got != c.match {
			t.Errorf("Match(%q, %q) = %v, want %v", c.text, c.line, got, c.match)
		}
		g, err := filter.CompileGlob(c.text)
		if err != nil {
			t.Fatal(err)
		}
		if got := g.Match([]byte(c.line)); got != c.glob {
			t.Errorf("glob %q on %q = %v, want %v", c.text, c.line, got, c.glob)
		}
	}
}

func TestGlobExamples(t *testing.T) {
	for _, c := range []struct {
		glob, line string
		want       bool
	}{
		{"", "", true},
		{"", "x", false},
		{"*", "", true},
		{"*", "a/b\nc", true}, // no separators: '*' crosses anything
		{"**", "a/b.c", true},
		{"a*", "a", true},
		{"a*", "ba", false}, // anchored at the start
		{"*a", "ab", false}, // and at the end
		{"*pid*", "tcpsvd: info: pid 1977", true},
		{"*: *: pid [0-9]*", "tcpsvd: info: pid 1977", true},
		{"*: *: pid [0-9]*", "tcpsvd: info: pid x", false},
		{"?", "", false},
		{"?", "ab", false},
		{"?", "é", true},      // one rune, two bytes
		{"??", "é", false},    //
		{"?", "\xff", true},   // an invalid byte is one character
		{"??", "\xc3", false}, // a lone lead byte too
		{"[ab]", "b", true},
		{"[ab]", "c", false},
		{"[!ab]", "c", true},
		{"[!ab]", "a", false},
		{"[!ab]", "", false},
		{"[a-c]x", "bx", true},
		{"[a-c]x", "dx", false},
		{"{[0-9],[a-f]}", "7", true},
		{"{[0-9],[a-f]}", "e", true},
		{"{[0-9],[a-f]}", "g", false},
		{"{foo,bar}*", "bar baz", true},
		{"{foo,bar}*", "baz", false},
		{"x{,y}", "x", true},
		{`\*`, "*", true},
		{`\*`, "x", false},
		{`\?\[\{`, "?[{", true},
		{`a\\b`, `a\b`, true},
		{"@4*", stamp + " hello", true},
		{"@[0-9]* hello", stamp + " hello", true},
		{"@[!0-3]* hello", stamp + " hello", true},
		{"h*o", "hellooo", true},
		{"a*a*a*b", strings.Repeat("a", 2000), false},
		{"*a*a*a*b", strings.Repeat("a", 2000) + "b", true},
		{"a\x00b", "a\x00b", true},
	} {
		g, err := filter.CompileGlob(c.glob)
		if err != nil {
			t.Errorf("CompileGlob(%q): %v", c.glob, err)
			continue
		}
		if got := g.Match([]byte(c.line)); got != c.want {
			t.Errorf("glob %q on %q = %v, want %v", c.glob, c.line, got, c.want)
		}
		if g.String() != c.glob {
			t.Errorf("String() = %q, want %q", g.String(), c.glob)
		}
	}
}

func TestGlobErrors(t *testing.T) {
	for _, p := range []string{"[", "[ab", "{a,b", `a\`, "[]", "[!]", "[0-9a-f]"} {
		g, err := filter.CompileGlob(p)
		if err == nil {
			t.Errorf("CompileGlob(%q) = %v, want an error", p, g)
			continue
		}
		var se *glob.SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("CompileGlob(%q): %v is not a *glob.SyntaxError", p, err)
		}
		if !strings.Contains(err.Error(), p) {
			t.Errorf("CompileGlob(%q): %q does not name the pattern", p, err)
		}
	}
}

func TestGlobAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector, which empties sync.Pool at random")
	}
	line := []byte(stamp + " tcpsvd: info: pid 1977 from 10.0.0.1")
	for _, p := range []string{"*pid*", "*: *: pid [0-9]*", "{*error*,*warn*}", "@4*", "*a*b*c*d", "?*[0-9]", "exact"} {
		g, err := filter.CompileGlob(p)
		if err != nil {
			t.Fatal(err)
		}
		g.Match(line) // warm the matcher's pool
		if n := testing.AllocsPerRun(1000, func() { g.Match(line) }); n != 0 {
			t.Errorf("glob %q: Match allocates %v times per run", p, n)
		}
	}
}

// globToRegexp translates the globs genGlob makes into an anchored
// regular expression, independently of gobwas/glob. Like the glob, the
// regexp reads the line as UTF-8 with each invalid byte one character.
func globToRegexp(p []string) string {
	var b strings.Builder
	b.WriteString(`(?s)\A`)
	for _, tok := range p {
		switch {
		case tok == "*":
			b.WriteString(`.*`)
		case tok == "?":
			b.WriteString(`.`)
		case strings.HasPrefix(tok, "["):
			// genGlob's classes are plain letters, ranges or negated sets.
			b.WriteString(strings.Replace(tok, "[!", "[^", 1))
		case strings.HasPrefix(tok, "{"):
			alts := strings.Split(tok[1:len(tok)-1], ",")
			for i := range alts {
				alts[i] = regexp.QuoteMeta(alts[i])
			}
			b.WriteString("(?:" + strings.Join(alts, "|") + ")")
		case strings.HasPrefix(tok, `\`):
			b.WriteString(regexp.QuoteMeta(tok[1:]))
		default:
			b.WriteString(regexp.QuoteMeta(tok))
		}
	}
	b.WriteString(`\z`)
	return b.String()
}

// genGlob returns a random glob as tokens over a small alphabet.
func genGlob(r *rand.Rand) []string {
	toks := []string{"*", "*", "?", "a", "b", "c", " ", "ab", "[ab]", "[!ab]", "[a-b]", "{a,bc}", "{,a}", `\*`, `\?`, `\[`, "é"}
	var p []string
	for n := r.IntN(7); n > 0; n-- {
		p = append(p, toks[r.IntN(len(toks))])
	}
	return p
}

// TestGlobRegexp compares Glob with regexp on random globs and lines,
// so that a fault of the glob library shows here.
func TestGlobRegexp(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	alphabet := []string{"a", "b", "c", " ", "*", "?", "[", "é", "\xff", "\xc3"}
	for i := 0; i < 2000; i++ {
		toks := genGlob(r)
		p := strings.Join(toks, "")
		g, err := filter.CompileGlob(p)
		if err != nil {
			t.Fatalf("CompileGlob(%q): %v", p, err)
		}
		re := regexp.MustCompile(globToRegexp(toks))
		for j := 0; j < 50; j++ {
			var l strings.Builder
			for n := r.IntN(10); n > 0; n-- {
				l.WriteString(alphabet[r.IntN(len(alphabet))])
			}
			line := []byte(l.String())
			if got, want := g.Match(line), re.Match(line); got != want {
				t.Fatalf("glob %q on %q = %v, regexp %s says %v", p, line, got, re, want)
			}
		}
	}
}

// TestGlobRiskyShapesUseRegexp: globs with a star inside a group are
// matched by the regexp translation. It must agree with gobwas/glob on
// every line (checked here on short lines, where gobwas is still quick),
// and stay quick on the windows where gobwas backtracks for seconds.
func TestGlobRiskyShapesUseRegexp(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	toks := []string{"*", "?", "a", "b", " ", "[ab]", "[!a]", "[a-b]", `\*`, "é", "{a,*b}", "{*a,b*}", "{*,}", "{a{*b,c},d}"}
	alphabet := []string{"a", "b", "c", " ", "*", "é", "\xff"}
	for i := 0; i < 2000; i++ {
		var p strings.Builder
		for n := 1 + r.IntN(5); n > 0; n-- {
			p.WriteString(toks[r.IntN(len(toks))])
		}
		g, err := filter.CompileGlob(p.String())
		if err != nil {
			continue // an unsupported nesting: both refuse alike
		}
		ref := glob.MustCompile(p.String())
		for j := 0; j < 40; j++ {
			var l strings.Builder
			for n := r.IntN(9); n > 0; n-- {
				l.WriteString(alphabet[r.IntN(len(alphabet))])
			}
			if got, want := g.Match([]byte(l.String())), ref.Match(l.String()); got != want {
				t.Fatalf("glob %q on %q: %v, gobwas/glob says %v", p.String(), l.String(), got, want)
			}
		}
	}
	g, err := filter.CompileGlob("{*a,*b}{*a,*b}{*a,*b}c*")
	if err != nil {
		t.Fatal(err)
	}
	window := []byte(strings.Repeat("a", 1000))
	done := make(chan bool, 1)
	go func() { done <- g.Match(window) }()
	select {
	case m := <-done:
		if m {
			t.Fatal("matched a window with no c")
		}
	case <-time.After(20 * time.Second): // gobwas/glob needs about 36 s here; the regexp, microseconds
		t.Fatal("a glob with stars in groups still backtracks on a 1000-byte window")
	}
}
