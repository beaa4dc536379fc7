package filter

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// refAdvance is advance as Match goes, a byte of the pattern at a time:
// the reference for prog.advance.
func refAdvance(pattern, window []byte, pos int) int {
	for len(pattern) > 0 {
		c := pattern[0]
		pattern = pattern[1:]
		if c != '*' {
			if pos == len(window) || window[pos] != c {
				return -1
			}
			pos++
			continue
		}
		i := bytes.IndexByte(window[pos:], pattern[0])
		if i < 0 {
			return -1
		}
		pos += i
	}
	return pos
}

// TestProgRandom checks compiled patterns against Match and the
// byte-at-a-time advance, on random patterns and windows over a small
// alphabet (so that stars find their bytes, or not, in every way), with
// segments compiled into a shared arena as Prepare does.
func TestProgRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(47, 48))
	// A third of the bytes stars, or one in twelve: short literals, or
	// literals longer than the eight bytes compared in a word.
	alpha := []byte("ab*")
	starEvery := 3
	randBytes := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = alpha[r.IntN(2)]
			if r.IntN(starEvery) == 0 {
				b[i] = '*'
			}
		}
		return b
	}
	var arena []seg
	matched, advanced := 0, 0
	for round := 0; round < 20000; round++ {
		starEvery = []int{3, 12}[round%2]
		pattern := randBytes(r.IntN(9 + 12*(round%2)))
		if round%100 == 0 {
			arena = arena[:0]
		}
		var p prog
		p, arena = compile(pattern, arena)
		for l := 0; l < 20; l++ {
			window := randBytes(r.IntN(12 + 14*(round%2)))
			want := Match(pattern, window)
			if got := p.match(window); got != want {
				t.Fatalf("pattern %q, window %q: compiled %v, Match %v", pattern, window, got, want)
			}
			if want {
				matched++
			}
			if n := len(pattern); n > 0 && pattern[n-1] == '*' {
				continue
			}
			pos := r.IntN(len(window) + 1)
			want2 := refAdvance(pattern, window, pos)
			if got := p.advance(window, pos); got != want2 {
				t.Fatalf("pattern %q, window %q from %d: compiled advance %d, byte by byte %d", pattern, window, pos, got, want2)
			}
			if want2 >= 0 {
				advanced++
			}
		}
	}
	if matched < 10000 || advanced < 10000 {
		t.Errorf("too few matches to tell: %d matched, %d advanced", matched, advanced)
	}
	never := prog{never: true}
	if never.match(nil) || never.advance([]byte("x"), 0) != -1 {
		t.Errorf("a never prog matches")
	}
}
