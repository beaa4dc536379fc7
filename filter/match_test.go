package filter_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/taikit/taikit/filter"
	"github.com/taikit/taikit/internal/conformance"
	"github.com/taikit/taikit/internal/testref"
)

const multilog = "/usr/bin/multilog"

// refMatch is match.c from daemontools 0.76, transliterated with indices:
// an oracle written in the shape of the original, not of Match.
//
//	for (;;) {
//	  ch = *pattern++;
//	  if (!ch) return !len;
//	  if (ch == '*') {
//	    ch = *pattern;
//	    if (!ch) return 1;
//	    for (;;) {
//	      if (!len) return 0;
//	      if (*buf == ch) break;
//	      ++buf; --len;
//	    }
//	    continue;
//	  }
//	  if (!len) return 0;
//	  if (*buf != ch) return 0;
//	  ++buf; --len;
//	}
func refMatch(pattern, buf []byte) bool {
	p, b := 0, 0
	for {
		if p == len(pattern) {
			return b == len(buf)
		}
		ch := pattern[p]
		p++
		if ch == '*' {
			if p == len(pattern) {
				return true
			}
			ch = pattern[p]
			for {
				if b == len(buf) {
					return false
				}
				if buf[b] == ch {
					break
				}
				b++
			}
			continue
		}
		if b == len(buf) || buf[b] != ch {
			return false
		}
		b++
	}
}

// matchCases are the examples of the spec (§3.2-§3.9) and of the package
// documentation, with a few more around "**" and the skip.
var matchCases = []struct {
	pattern, line string
	want          bool
}{
	// §3.2, §3.3: anchored, byte-exact, case-sensitive, no other metacharacters.
	{"hello", "hello", true},
	{"hello", "hello world", false},
	{"hello", "Hello", false},
	{"hello", "hell", false},
	{"ello", "hello", false},
	{"?", "a", false},
	{"?", "?", true},
	{"[ab]", "a", false},
	{"[ab]", "[ab]", true},
	{`\*`, `\x`, true},
	{`\*`, `*`, false},
	{`\`, `\`, true},
	{"+a", "+a", true},
	{"a\x00b", "a\x00b", true},
	{"\xff", "\xff", true},
	{"{a,b}", "a", false},
	// §3.4: a final star matches any rest, including nothing.
	{"hello*", "hello world", true},
	{"hello*", "hello", true},
	{"hello*", "hell", false},
	{"*", "", true},
	{"*", "anything at all", true},
	// §3.5: a star followed by c skips to the first c; no backtracking.
	{"*world", "hello world", true},
	{"h*o", "hello", true},
	{"h*o", "hellooo", false},
	{"*o", "foo", false},
	{"*o*", "foo", true},
	{"a*b*c", "abbc", true},
	{"a*c", "abcbc", false},
	{"a*c", "abc", true},
	{"*pid*", "tcpsvd: info: pid 1977", false},
	{"*: *: pid *", "tcpsvd: info: pid 1977 from x", true},
	{"named[*]: Cleaned cache *", "named[135]: Cleaned cache of 3121 RRs.", true},
	{"*x", "", false},
	{"a*", "", false},
	{"*a*a", "aa", true},
	{"*a*a", "aba", true},
	{"*a*a", "a", false},
	// §3.6: "**" skips to the first literal star, then the second star
	// (still a wildcard) goes on from there.
	{"**", "a*b", true},
	{"**", "ab", false},
	{"**", "*", true},
	{"**", "", false},
	{"***", "x*", true},
	{"**x", "a*x", true},
	{"**x", "ax*", false},
	{"**x", "a*yx", true}, // the second star skips from the '*' to the first 'x'
	{"**x", "a*xy", false},
	{"a**", "a*", true},
	{"a**", "ab", false},
	// §3.7: the empty pattern matches only the empty window.
	{"", "", true},
	{"", "x", false},
	{"", " ", false},
	// §3.8: with t the window starts with the stamp.
	{"hello", "@4000000065a1b2c3d4e5f607 hello", false},
	{"* hello", "@4000000065a1b2c3d4e5f607 hello", true},
	{"*hello", "@4000000065a1b2c3d4e5f607 hello", true},
	{"@4*", "@4000000065a1b2c3d4e5f607 hello", true},
	{"@*", "@4000000065a1b2c3d4e5f607 hello", true},
	{"", "@4000000065a1b2c3d4e5f607 ", false},
}

func TestMatchExamples(t *testing.T) {
	for _, c := range matchCases {
		if got := filter.Match([]byte(c.pattern), []byte(c.line)); got != c.want {
			t.Errorf("Match(%q, %q) = %v, want %v", c.pattern, c.line, got, c.want)
		}
		if got := refMatch([]byte(c.pattern), []byte(c.line)); got != c.want {
			t.Errorf("refMatch(%q, %q) = %v, want %v (the table is wrong)", c.pattern, c.line, got, c.want)
		}
	}
}

// TestMatchNilArguments: nil and empty slices are the same.
func TestMatchNilArguments(t *testing.T) {
	if !filter.Match(nil, nil) || !filter.Match(nil, []byte{}) || !filter.Match([]byte{}, nil) {
		t.Error("the empty pattern does not match the empty line")
	}
	if filter.Match(nil, []byte("x")) {
		t.Error("the empty pattern matches a non-empty line")
	}
	if !filter.Match([]byte("*"), nil) {
		t.Error(`"*" does not match a nil line`)
	}
}

// TestMatchWindowIsTheCallers: Match sees all it is given, however long;
// multilog's window of WindowSize bytes is cut by the caller.
func TestMatchWindowIsTheCallers(t *testing.T) {
	line := []byte(strings.Repeat("a", 5000) + "end")
	if !filter.Match([]byte("*end"), line) {
		t.Error(`"*end" does not see the end of a 5003-byte window`)
	}
	if filter.Match([]byte("*end"), line[:filter.WindowSize]) {
		t.Error(`"*end" matches the first 1000 bytes of a line that ends in "end" at byte 5000`)
	}
}

func TestMatchAllocs(t *testing.T) {
	pattern := []byte("*: *: pid *")
	line := []byte("tcpsvd: info: pid 1977 from 10.0.0.1")
	long := bytes.Repeat([]byte("x"), filter.WindowSize)
	var ok bool
	n := testing.AllocsPerRun(1000, func() {
		ok = filter.Match(pattern, line)
		ok = filter.Match([]byte("*y"), long) || ok
	})
	if n != 0 {
		t.Errorf("Match allocates %v times per run", n)
	}
	if !ok {
		t.Error("no match")
	}
}

// mpCases returns the MP cases: multilog "-*" "+pattern" ./d on one line.
func mpCases(t *testing.T) []conformance.Case {
	t.Helper()
	f, err := conformance.LoadDefault()
	if err != nil {
		t.Fatal(err)
	}
	var cs []conformance.Case
	for _, c := range f.Cases {
		if strings.HasPrefix(c.ID, "MP") {
			cs = append(cs, c)
		}
	}
	if len(cs) < 21 {
		t.Fatalf("%d MP cases, want at least 21", len(cs))
	}
	return cs
}

// mpPattern returns the pattern, line and expectation of an MP case.
func mpPattern(t *testing.T, c conformance.Case) (pattern, line []byte, want bool) {
	t.Helper()
	args := c.Args()
	if len(args) != 3 || args[0] != "-*" || !strings.HasPrefix(args[1], "+") || args[2] != "./d" {
		t.Fatalf("%s: argv %q is not multilog -* +pattern ./d", c.ID, c.Argv)
	}
	in := c.Stdin()
	if !bytes.HasSuffix(in, []byte("\n")) || bytes.Count(in, []byte("\n")) != 1 {
		t.Fatalf("%s: stdin %q is not one line", c.ID, in)
	}
	switch {
	case strings.HasSuffix(c.Title, "-> NO MATCH"):
		want = false
	case strings.HasSuffix(c.Title, "-> MATCH"):
		want = true
	default:
		t.Fatalf("%s: title %q says neither MATCH nor NO MATCH", c.ID, c.Title)
	}
	return []byte(args[1][1:]), in[:len(in)-1], want
}

// TestMatchConformance runs every MP case through Match.
func TestMatchConformance(t *testing.T) {
	for _, c := range mpCases(t) {
		pattern, line, want := mpPattern(t, c)
		if got := filter.Match(pattern, line); got != want {
			t.Errorf("%s %s: Match(%q, %q) = %v", c.ID, c.Title, pattern, line, got)
		}
		// The directory's content follows from the verdict.
		current := ""
		if want {
			current = string(line) + "\n"
		}
		e, ok := c.Dirs[0].Entry("current")
		if !ok || string(e.Content) != current {
			t.Errorf("%s: the case's current is %q, want %q", c.ID, e.Content, current)
		}
	}
}

// TestMatchConformanceReference replays the MP cases through the real
// multilog, proving the expectations TestMatchConformance holds Match to.
func TestMatchConformanceReference(t *testing.T) {
	testref.Need(t, multilog)
	for _, c := range mpCases(t) {
		runReference(t, c)
	}
}

// runReference runs a case through the real multilog and checks it.
func runReference(t *testing.T, c conformance.Case) {
	t.Helper()
	dir := t.TempDir()
	if err := c.Prepare(dir); err != nil {
		t.Fatal(err)
	}
	r, err := c.Exec(multilog, dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Check(dir, r); err != nil {
		t.Errorf("%s %s (real multilog): %v", c.ID, c.Title, err)
	}
}
