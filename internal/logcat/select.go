package logcat

import (
	"bytes"
	"fmt"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"

	"github.com/taikit/taikit/filter"
)

// Selector decides which lines are selected: a multilog script of
// "+pattern", "-pattern", "g+glob" and "g-glob" words walked as multilog
// walks them (package filter) over the line's first 1000 bytes, stamp
// included, and Go regular expressions searched in the whole line (stamp
// included, newline excluded). A line is selected when the script selects
// it and, if there are regular expressions, one of them matches; -v
// inverts the result.
//
// A Selector is not safe for concurrent use.
type Selector struct {
	walk     *filter.Walk // nil when there are no words
	regexps  []*regexp.Regexp
	literals [][]byte // for each regexp, the bytes it is exactly equal to, else nil
	invert   bool
	required []byte
	marks    []bool
	fields   []FieldCond
	scratch  []byte // Field's, reused
}

// NewSelector compiles a selection.
//
// As in multilog, a line starts selected and each word can change that, so a
// script that begins with a selecting word ("+pattern" or "g+glob") would
// select everything. logcat reads such a script as a search and starts every
// line deselected instead, as if "-*" came first: "-p '+* error: *'" keeps
// only the errors. Scripts that begin with a deselecting word are walked
// exactly as multilog walks them.
func NewSelector(words, regexps []string, invert bool) (*Selector, error) {
	return NewFieldSelector(words, regexps, nil, invert)
}

// NewFieldSelector is NewSelector with --field conditions as well: a line
// is selected when the script and the regular expressions select it and
// every condition holds on its fields (see Field), before -v inverts the
// whole. A line without one of the fields is not selected.
func NewFieldSelector(words, regexps []string, fields []FieldCond, invert bool) (*Selector, error) {
	s := &Selector{invert: invert, fields: fields}
	if len(fields) > 0 {
		s.scratch = make([]byte, 0, 4096)
	}
	var steps []filter.Step
	startDeselected := false
	for i, w := range words {
		r, err := parseWord(w)
		if err != nil {
			return nil, err
		}
		if i == 0 && r.Select {
			startDeselected = true
			steps = append(steps, filter.Step{Rule: &filter.Rule{Select: false, Pattern: []byte("*")}})
		}
		if i == 0 && !r.Select && isStar(r) {
			startDeselected = true
		}
		steps = append(steps, filter.Step{Rule: r})
	}
	if len(steps) > 0 {
		steps = append(steps, filter.Step{}) // the mark: logcat's output
		s.walk = filter.NewWalk(steps)
		s.marks = make([]bool, 0, s.walk.Marks())
	}
	for _, src := range regexps {
		re, err := regexp.Compile(src)
		if err != nil {
			return nil, fmt.Errorf("-E %q: %w", src, err)
		}
		s.regexps = append(s.regexps, re)
		s.literals = append(s.literals, exactLiteral(re))
	}
	if !invert {
		s.required = requiredOf(steps, startDeselected, s.regexps)
	}
	return s, nil
}

// parseWord reads one script word.
func parseWord(w string) (*filter.Rule, error) {
	switch {
	case strings.HasPrefix(w, "g+"), strings.HasPrefix(w, "g-"):
		g, err := filter.CompileGlob(w[2:])
		if err != nil {
			return nil, fmt.Errorf("-p %q: %w", w, err)
		}
		return &filter.Rule{Select: w[1] == '+', Glob: g}, nil
	case strings.HasPrefix(w, "+"), strings.HasPrefix(w, "-"):
		return &filter.Rule{Select: w[0] == '+', Pattern: []byte(w[1:])}, nil
	}
	return nil, fmt.Errorf("-p %q: a selection word starts with +, -, g+ or g-", w)
}

func isStar(r *filter.Rule) bool {
	if r.Glob != nil {
		return r.Glob.String() == "*"
	}
	return string(r.Pattern) == "*"
}

// Match reports whether line (without its newline) is selected.
func (s *Selector) Match(line []byte) bool {
	ok := true
	if s.walk != nil {
		window := line
		if len(window) > filter.WindowSize {
			window = window[:filter.WindowSize]
		}
		s.marks = s.walk.Eval(window, s.marks[:0])
		ok = s.marks[0]
	}
	if ok && len(s.regexps) > 0 {
		ok = false
		for i, re := range s.regexps {
			if lit := s.literals[i]; lit != nil {
				ok = bytes.Contains(line, lit)
			} else {
				ok = re.Match(line)
			}
			if ok {
				break
			}
		}
	}
	if ok && len(s.fields) > 0 {
		body := fieldBody(line)
		for i := range s.fields {
			c := &s.fields[i]
			v, found := Field(body, c.Key, s.scratch[:0])
			if !found || !c.holds(v) {
				ok = false
				break
			}
		}
	}
	return ok != s.invert
}

// Matches appends to dst the parts of line that the regular expressions
// match, as [start, end) offsets in order, overlapping ones joined: what
// colour shows of a selected line. With -v, or without regular
// expressions, there are none.
func (s *Selector) Matches(line []byte, dst [][2]int) [][2]int {
	if s == nil || s.invert {
		return dst
	}
	n := len(dst)
	for _, re := range s.regexps {
		for _, m := range re.FindAllIndex(line, -1) {
			if m[1] > m[0] {
				dst = append(dst, [2]int{m[0], m[1]})
			}
		}
	}
	ms := dst[n:]
	slices.SortFunc(ms, func(a, b [2]int) int { return a[0] - b[0] })
	out := ms[:0]
	for _, m := range ms {
		if k := len(out) - 1; k >= 0 && m[0] <= out[k][1] {
			out[k][1] = max(out[k][1], m[1])
			continue
		}
		out = append(out, m)
	}
	return dst[:n+len(out)]
}

// Required returns bytes that every selected line contains, or nil when
// there are none to rely on. The pipeline searches whole chunks for them
// and looks only at the lines where they occur.
func (s *Selector) Required() []byte { return s.required }

// requiredOf finds the longest literal that a selected line must contain:
// one from the script when it starts deselected and has a single selecting
// word (the line is selected only if that word matched, and a match
// contains each of its literal runs), and one from a single regular
// expression.
func requiredOf(steps []filter.Step, startDeselected bool, res []*regexp.Regexp) []byte {
	var best []byte
	if startDeselected {
		var only *filter.Rule
		selecting := 0
		for _, st := range steps {
			if st.Rule != nil && st.Rule.Select {
				selecting++
				only = st.Rule
			}
		}
		if selecting == 1 {
			best = ruleLiteral(only)
		}
	}
	if len(res) == 1 {
		if re, err := syntax.Parse(res[0].String(), syntax.Perl); err == nil {
			if lit := regexpLiteral(re.Simplify()); len(lit) > len(best) {
				best = lit
			}
		}
	}
	if len(best) == 0 {
		return nil
	}
	return best
}

// ruleLiteral returns the longest run of literal bytes in a pattern or in a
// glob whose only metacharacter is '*'.
func ruleLiteral(r *filter.Rule) []byte {
	p := r.Pattern
	if r.Glob != nil {
		g := r.Glob.String()
		if strings.ContainsAny(g, `?[]{}\`) {
			return nil
		}
		p = []byte(g)
	}
	var best []byte
	for _, run := range bytes.Split(p, []byte("*")) {
		if len(run) > len(best) {
			best = run
		}
	}
	return bytes.Clone(best)
}

// regexpLiteral returns the longest literal that every match of re
// contains, or nil.
func regexpLiteral(re *syntax.Regexp) []byte {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return nil
		}
		return []byte(string(re.Rune))
	case syntax.OpCapture, syntax.OpPlus:
		return regexpLiteral(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return regexpLiteral(re.Sub[0])
		}
	case syntax.OpConcat:
		var best []byte
		for _, sub := range re.Sub {
			if lit := regexpLiteral(sub); len(lit) > len(best) {
				best = lit
			}
		}
		return best
	}
	return nil
}

// exactLiteral returns the bytes re matches exactly, when it is nothing but
// a case-sensitive literal, so that bytes.Contains can stand in for it.
func exactLiteral(re *regexp.Regexp) []byte {
	prefix, complete := re.LiteralPrefix()
	if !complete || prefix == "" {
		return nil
	}
	// LiteralPrefix calls "^x$" complete too, anchors and all, which a
	// search for "x" anywhere in the line would not honour.
	sre, err := syntax.Parse(re.String(), syntax.Perl)
	if err != nil || sre.Simplify().Op != syntax.OpLiteral {
		return nil
	}
	return []byte(prefix)
}
