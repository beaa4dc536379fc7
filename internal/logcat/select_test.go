package logcat

import "testing"

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
