package logcat

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// The finder agrees with bytes.Index on every length of haystack around
// the vector steps (32 and 64 positions), with the literal at every place,
// near misses (one of the pair's bytes, or both without the rest) strewn
// about, and whichever bytes lead the search.
func TestFinderAgreesWithIndex(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 18))
	lits := [][]byte{[]byte("state=failed"), []byte("ab"), []byte("x"), []byte("aaaa"), []byte("=f")}
	for _, lit := range lits {
		fs := []finder{newFinder(lit, nil), {lit: lit, k: len(lit) - 1, c: lit[len(lit)-1]}}
		if len(lit) >= 2 && hasPairSearch {
			fs = append(fs, finder{lit: lit, k: 0, c: lit[0], i1: 0, i2: len(lit) - 1})
		}
		for size := 0; size < 400; size++ {
			for round := 0; round < 8; round++ {
				h := make([]byte, size)
				for i := range h {
					// Mostly the literal's own bytes (many false starts), or
					// none of them (the vectors' steps without a stop).
					switch {
					case round >= 4:
						h[i] = "xyz\n"[rng.IntN(4)]
					case rng.IntN(3) == 0:
						h[i] = "abxyz=\n"[rng.IntN(7)]
					default:
						h[i] = lit[rng.IntN(len(lit))]
					}
				}
				if size >= len(lit) && round%2 == 0 {
					copy(h[rng.IntN(size-len(lit)+1):], lit)
				}
				want := bytes.Index(h, lit)
				for k, f := range fs {
					if got := f.index(h); got != want {
						t.Fatalf("literal %q, finder %d (%+v), %d bytes %q: index %d, want %d", lit, k, f, size, h, got, want)
					}
				}
			}
		}
	}
}

// A literal in the last bytes of a long haystack, where the vectors stop
// and the byte search takes over, is found; one cut short by the end is
// not.
func TestFinderAtTheEnd(t *testing.T) {
	lit := []byte("state=failed")
	f := newFinder(lit, []byte("state state ===== faaaa"))
	for size := 100; size < 400; size++ {
		for cut := 0; cut <= 2; cut++ {
			h := bytes.Repeat([]byte("state=faile "), size/12+1)[:size]
			copy(h[size-len(lit)+cut:], lit)
			want := bytes.Index(h, lit)
			if got := f.index(h); got != want {
				t.Fatalf("%d bytes, cut %d: index %d, want %d", size, cut, got, want)
			}
		}
	}
}
