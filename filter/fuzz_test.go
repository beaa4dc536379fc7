package filter_test

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gobwas/glob"
	"github.com/taikit/taikit/filter"
)

// quoteStars returns the glob that matches what pattern would match if its
// stars backtracked: every byte literal but '*'.
func quoteStars(pattern []byte) string {
	parts := bytes.Split(pattern, []byte("*"))
	quoted := make([]string, len(parts))
	for i, p := range parts {
		quoted[i] = glob.QuoteMeta(string(p))
	}
	return strings.Join(quoted, "*")
}

// FuzzMatch checks Match against match.c transliterated (refMatch) and
// against what can be said of any pattern and line:
//
//   - a pattern without '*' matches exactly the line equal to it;
//   - "*" matches every line;
//   - a literal prefix is consumed byte for byte: Match(x+p, x+l) is
//     Match(p, l) for x without '*';
//   - when p does not end in '*' and matches l, p+"*" matches l+anything;
//   - what Match accepts the glob with the same stars accepts (multilog's
//     stars stop at one of the places a glob's may stop).
func FuzzMatch(f *testing.F) {
	for _, c := range matchCases {
		f.Add([]byte(c.pattern), []byte(c.line))
	}
	f.Fuzz(func(t *testing.T, pattern, line []byte) {
		got := filter.Match(pattern, line)
		if want := refMatch(pattern, line); got != want {
			t.Fatalf("Match(%q, %q) = %v, match.c says %v", pattern, line, got, want)
		}
		if bytes.IndexByte(pattern, '*') < 0 && got != bytes.Equal(pattern, line) {
			t.Fatalf("Match(%q, %q) = %v for a pattern without '*'", pattern, line, got)
		}
		if !filter.Match([]byte("*"), line) {
			t.Fatalf(`Match("*", %q) = false`, line)
		}
		x := []byte("x\x00[?\\")
		if filter.Match(append(x[:len(x):len(x)], pattern...), append(x[:len(x):len(x)], line...)) != got {
			t.Fatalf("Match(%q, %q) = %v, but not with a literal prefix", pattern, line, got)
		}
		if got && !bytes.HasSuffix(pattern, []byte("*")) {
			p := append(bytes.Clone(pattern), '*')
			l := append(bytes.Clone(line), "*tail"...)
			if !filter.Match(p, l) {
				t.Fatalf("Match(%q, %q) but not Match(%q, %q)", pattern, line, p, l)
			}
		}
		if got && utf8.Valid(pattern) {
			q := quoteStars(pattern)
			g, err := filter.CompileGlob(q)
			if err != nil {
				t.Fatalf("CompileGlob(%q): %v", q, err)
			}
			if !g.Match(line) {
				t.Fatalf("Match(%q, %q), but the glob %q does not match", pattern, line, q)
			}
		}
	})
}

// FuzzGlob checks that CompileGlob and Match never panic, that Match gives
// the same answer twice (its pooled state is clean), that a glob without
// metacharacters matches only itself, and that a quoted line matches
// itself, also between stars.
func FuzzGlob(f *testing.F) {
	for _, c := range docTable {
		f.Add(c.text, []byte(c.line))
	}
	f.Add("{a,b}*[!c]?\\*", []byte("bzd?*"))
	f.Add("[", []byte("["))
	f.Fuzz(func(t *testing.T, pattern string, line []byte) {
		if len(pattern) > 256 || len(line) > 2*filter.WindowSize {
			// Longer inputs find nothing new and only slow the
			// minimization of interesting ones (during which the
			// fuzzer reports 0 execs/sec: golang/go#51484).
			t.Skip()
		}
		g, err := filter.CompileGlob(pattern)
		if err == nil {
			got := g.Match(line)
			if again := g.Match(line); again != got {
				t.Fatalf("glob %q on %q: %v, then %v", pattern, line, got, again)
			}
			if utf8.ValidString(pattern) && !strings.ContainsAny(pattern, `*?[]{}\`) &&
				got != (pattern == string(line)) {
				t.Fatalf("glob %q without metacharacters on %q = %v", pattern, line, got)
			}
		}
		if !utf8.Valid(line) {
			return
		}
		q := glob.QuoteMeta(string(line))
		for _, c := range []struct {
			glob string
			want bool
		}{
			{q, true},
			{"*" + q + "*", true},
			{q + "?", false},
		} {
			g, err := filter.CompileGlob(c.glob)
			if err != nil {
				t.Fatalf("CompileGlob(%q): %v", c.glob, err)
			}
			if g.Match(line) != c.want {
				t.Fatalf("glob %q on %q = %v", c.glob, line, !c.want)
			}
		}
		if pattern != "" && utf8.ValidString(pattern) {
			// "*quoted*" is bytes.Contains.
			g, err := filter.CompileGlob("*" + glob.QuoteMeta(pattern) + "*")
			if err != nil {
				t.Fatal(err)
			}
			if got, want := g.Match(line), bytes.Contains(line, []byte(pattern)); got != want {
				t.Fatalf("glob *%s* on %q = %v, bytes.Contains says %v", glob.QuoteMeta(pattern), line, got, want)
			}
		}
	})
}
