package logcat

import (
	"fmt"
	"testing"
)

// A regular expression that is a literal with anchors is not a search for
// the literal anywhere in the line.
func TestAnchoredLiteralRegexp(t *testing.T) {
	cases := []struct {
		re         string
		line       string
		wantSelect bool
	}{
		{`^1$`, "1", true},
		{`^1$`, "10", false},
		{`\A1\z`, "21", false},
		{`^1`, "21", false},
		{`1`, "21", true},
		{`(?i)ab`, "xABx", true},
	}
	for _, c := range cases {
		s := mustSelector(t, nil, []string{c.re}, false)
		if got := s.Match([]byte(c.line)); got != c.wantSelect {
			t.Errorf("-E %q on %q: %v, want %v", c.re, c.line, got, c.wantSelect)
		}
	}
}

// What colour shows of a line: every match of every regular expression,
// in order, overlapping and touching ones joined, empty ones left out;
// nothing with -v.
func TestSelectorMatches(t *testing.T) {
	cases := []struct {
		res    []string
		invert bool
		line   string
		want   [][2]int
	}{
		{[]string{"500"}, false, "GET 500 in 500 ms", [][2]int{{4, 7}, {11, 14}}},
		{[]string{"50", "00"}, false, "x 500", [][2]int{{2, 5}}},
		{[]string{"ab", "cd"}, false, "abcd ab", [][2]int{{0, 4}, {5, 7}}},
		{[]string{"x*"}, false, "abc", nil},
		{[]string{"500"}, true, "GET 404", nil},
	}
	for _, c := range cases {
		s := mustSelector(t, nil, c.res, c.invert)
		got := s.Matches([]byte(c.line), nil)
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("-E %q (-v %v) on %q: %v, want %v", c.res, c.invert, c.line, got, c.want)
		}
	}
}
