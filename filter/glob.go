package filter

import (
	"fmt"
	"unsafe"

	"github.com/gobwas/glob"
)

// Glob is a compiled glob: see the package documentation for its syntax
// and how it differs from multilog's patterns. A Glob is safe for
// concurrent use.
//
// Speed depends on where the stars are. A star before a literal jumps
// between the literal's occurrences, and a glob's literal suffix and
// minimum length are checked up front: "*pid*", "@4*" and
// "{*error*,*warn*}" take nanoseconds on a full 1000-byte window. A star
// before a class or a group tries every position in turn, at tens of
// nanoseconds a byte: "*[0-9]*" takes about 40µs and "*{error,warn}*" over
// 100µs on 1000 bytes (write "{*error*,*warn*}", which means the same).
// Stars inside groups that more of the glob follows backtrack
// polynomially, one degree per group: "{*a,*b}{*a,*b}{*a,*b}c*" takes 25ms
// on a window of 100 "a"s and about 36s on 1000. The lines come from the
// logged program: keep such globs out of scripts.
type Glob struct {
	src string
	p   *glob.Pattern
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
	return &Glob{src: pattern, p: p}, nil
}

// Match reports whether the whole of line matches the glob. It does not
// keep line. It does not allocate in the steady state: the matcher's
// backtracking state is pooled (a garbage collection may empty the pool,
// and the first matches after it grow a new one).
func (g *Glob) Match(line []byte) bool {
	// The matcher neither keeps nor changes the string: it may share the
	// bytes of line for the duration of the call.
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
