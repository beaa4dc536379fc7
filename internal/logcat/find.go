package logcat

import (
	"bytes"
	"slices"
)

// finder searches for a literal by the bytes of it that are rarest in the
// data. bytes.Index, led by the literal's first byte, stops at every
// common letter. IndexByte on the rarest byte runs at memory speed between
// stops, but in logs even that byte is common (the "f" of "state=failed"
// comes every 80 bytes), and a call per stop cost more than the search.
// Where the processor has vectors (AVX2), two of the literal's bytes are
// looked for at once, at their distance in the literal, 64 positions a
// step: a pair such as "=" and "f" one apart comes every few kilobytes.
type finder struct {
	lit []byte
	k   int  // the offset in lit of the byte searched for alone
	c   byte // lit[k]
	// i1 < i2 are the offsets of the pair searched for; i1 == i2 when
	// there is none (a literal of one byte, or no vectors).
	i1, i2 int
}

// newFinder returns a finder of lit, its bytes chosen as the rarest of
// lit's bytes in sample (the first data searched: logs are alike all the
// way through).
func newFinder(lit, sample []byte) finder {
	var freq [256]int
	for _, c := range sample[:min(len(sample), 64<<10)] {
		freq[c]++
	}
	order := make([]int, len(lit))
	for i := range order {
		order[i] = i
	}
	// Stable: of bytes equally rare, the first in the literal.
	slices.SortStableFunc(order, func(a, b int) int { return freq[lit[a]] - freq[lit[b]] })
	f := finder{lit: lit, k: order[0], c: lit[order[0]]}
	if len(lit) >= 2 && hasPairSearch {
		f.i1, f.i2 = bestPair(lit, order[:min(len(order), pairCandidates)], sample[:min(len(sample), 64<<10)])
	}
	return f
}

// pairCandidates is how many of the literal's rarest bytes bestPair pairs.
const pairCandidates = 6

// bestPair returns the offsets i1 < i2, among those of cand, of the two
// bytes of lit that occur together, at their distance in lit, least often
// in sample. The two rarest bytes alone can be a poor pair: in a log the
// "f" and "l" of "state=failed" are three apart five times as often as the
// literal occurs, where "=" and "f" side by side occur only in it.
func bestPair(lit []byte, cand []int, sample []byte) (int, int) {
	b1, b2 := min(cand[0], cand[1]), max(cand[0], cand[1])
	best := -1
	for x := 0; x < len(cand); x++ {
		for y := x + 1; y < len(cand); y++ {
			i1, i2 := min(cand[x], cand[y]), max(cand[x], cand[y])
			c1, c2, n := lit[i1], lit[i2], 0
			for p := 0; p+i2 < len(sample); p++ {
				if sample[p+i1] == c1 && sample[p+i2] == c2 {
					n++
				}
			}
			if best < 0 || n < best {
				b1, b2, best = i1, i2, n
			}
		}
	}
	return b1, b2
}

// index returns the offset of the first lit in b, or -1.
func (f *finder) index(b []byte) int {
	if f.i1 == f.i2 {
		return f.indexByte(b)
	}
	n := len(f.lit)
	c1, c2 := f.lit[f.i1], f.lit[f.i2]
	for i := 0; ; {
		p, next := indexPair(b[i:], f.i1, f.i2, c1, c2)
		if p < 0 {
			// The last positions, too few for a vector.
			if j := f.indexByte(b[i+next:]); j >= 0 {
				return i + next + j
			}
			return -1
		}
		p += i
		if p+n > len(b) {
			return -1 // and so for every later position
		}
		if bytes.Equal(b[p:p+n], f.lit) {
			return p
		}
		i = p + 1
	}
}

// indexByte is index by the single byte c.
func (f *finder) indexByte(b []byte) int {
	n := len(f.lit)
	for i := f.k; i < len(b); {
		j := bytes.IndexByte(b[i:], f.c)
		if j < 0 {
			return -1
		}
		p := i + j - f.k
		if p+n > len(b) {
			return -1
		}
		if bytes.Equal(b[p:p+n], f.lit) {
			return p
		}
		i += j + 1
	}
	return -1
}
