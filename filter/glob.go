package filter

import (
	"fmt"
	"regexp"
	"strings"
	"unsafe"

	"github.com/gobwas/glob"
	"github.com/gobwas/glob/syntax"
)

// Glob is a compiled glob: see the package documentation for its syntax
// and how it differs from multilog's patterns. A Glob is safe for
// concurrent use.
//
// Speed depends on where the stars are. A star before a literal jumps
// between the literal's occurrences, and a glob's literal suffix and
// minimum length are checked up front: "*pid*" and "@4*" take nanoseconds
// on a full 1000-byte window. A star before a class or a group tries every
// position in turn, at tens of nanoseconds a byte: "*[0-9]*" takes about
// 40µs and "*{error,warn}*" over 100µs on 1000 bytes. gobwas/glob
// backtracks polynomially on stars inside groups ("{*a,*b}{*a,*b}c*" took
// seconds on 1000 bytes), and the lines come from the logged program, which
// must not be able to stall its logger: a glob with a star inside a group
// is therefore matched by Go's regexp package instead, in time linear in
// the line (a few microseconds on 1000 bytes).
type Glob struct {
	src string
	p   *glob.Pattern
	re  *regexp.Regexp // set for globs with a star inside a group
}

// CompileGlob compiles pattern into a Glob matched against whole windows,
// with no separators: '*' matches any run of bytes, newlines and slashes
// included. A malformed pattern (an unclosed '[' or '{', an empty class, a
// trailing '\') is an error wrapping a *glob.SyntaxError.
func CompileGlob(pattern string) (*Glob, error) {
	p, err := glob.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("filter: bad glob %q: %w", pattern, err)
	}
	g := &Glob{src: pattern, p: p}
	if expr, risky := globRegexp(pattern); risky {
		if g.re, err = regexp.Compile(expr); err != nil {
			return nil, fmt.Errorf("filter: glob %q: %w", pattern, err)
		}
	}
	return g, nil
}

// globRegexp translates a glob gobwas/glob has accepted into an anchored
// regular expression with the same meaning, reading the glob with
// gobwas/glob's own lexer so that both agree on its syntax; risky reports
// a star inside a group. Both read the line as UTF-8 characters, an
// invalid byte counting as one character (U+FFFD).
func globRegexp(pattern string) (expr string, risky bool) {
	var b strings.Builder
	b.WriteString(`(?s)\A`)
	depth, inRange := 0, false
	lex := syntax.NewLexer(pattern)
	for {
		tok := lex.Next()
		switch tok.Type {
		case syntax.EOF:
			b.WriteString(`\z`)
			return b.String(), risky
		case syntax.Text:
			if !inRange {
				b.WriteString(regexp.QuoteMeta(tok.Data))
				break
			}
			for _, r := range tok.Data { // a set of characters
				fmt.Fprintf(&b, `\x{%x}`, r)
			}
		case syntax.Single:
			b.WriteString(`.`)
		case syntax.Any, syntax.Super:
			b.WriteString(`.*`)
			risky = risky || depth > 0
		case syntax.TermsOpen:
			depth++
			b.WriteString(`(?:`)
		case syntax.TermSeparator:
			b.WriteString(`|`)
		case syntax.TermsClose:
			depth--
			b.WriteString(`)`)
		case syntax.RangeOpen:
			inRange = true
			b.WriteString(`[`)
		case syntax.Not:
			b.WriteString(`^`)
		case syntax.RangeLo, syntax.RangeHi:
			for _, r := range tok.Data {
				fmt.Fprintf(&b, `\x{%x}`, r)
			}
		case syntax.RangeBetween:
			b.WriteString(`-`)
		case syntax.RangeClose:
			inRange = false
			b.WriteString(`]`)
		default:
			return "", false // not reached for a glob that compiled
		}
	}
}

// Match reports whether the whole of line matches the glob. It does not
// keep line. It does not allocate in the steady state: the matcher's
// backtracking state is pooled (a garbage collection may empty the pool,
// and the first matches after it grow a new one).
func (g *Glob) Match(line []byte) bool {
	// The matcher neither keeps nor changes the string: it may share the
	// bytes of line for the duration of the call.
	if g.re != nil {
		return g.re.Match(line)
	}
	return g.p.Match(unsafe.String(unsafe.SliceData(line), len(line)))
}

// String returns the pattern the glob was compiled from.
func (g *Glob) String() string { return g.src }

// matchesAll reports whether the glob matches every line: it is one or more
// stars (with no separators, "*" and "**" match anything).
func (g *Glob) matchesAll() bool {
	if g.src == "" {
		return false
	}
	for i := 0; i < len(g.src); i++ {
		if g.src[i] != '*' {
			return false
		}
	}
	return true
}
