package logcat

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/taikit/taikit/tai64n"
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

// A selected line without a stamp of its own inherits the stamp of the
// last stamped line before it, passed over or not, when the block is
// searched on two cores as when it is searched line by line: the time
// range and the counts over time agree.
func TestHitsInheritStamps(t *testing.T) {
	var b bytes.Buffer
	for i := 0; b.Len() < 3*searchHalf; i++ {
		switch i % 7 {
		case 0, 1, 4:
			fmt.Fprintf(&b, "%s worker %d: state=done\n", label(int64(i)), i)
		case 2:
			fmt.Fprintf(&b, "%s worker %d: state=failed\n", label(int64(i)), i)
		case 3, 5:
			// Inherits the stamp of the line before: selected or not.
			fmt.Fprintf(&b, "  continued %d state=failed\n", i)
		default:
			fmt.Fprintf(&b, "  continued %d\n", i)
		}
	}
	block := b.Bytes()
	since, until := label(2000), label(9000)
	queries := map[string]Query{
		"range": {Last: -1, Since: since, HasSince: true, Until: until, HasUntil: true},
		"rate":  {Last: -1, Rate: &Rate{Interval: time.Second, Width: 80}},
	}
	for name, q := range queries {
		q.Selector = mustSelector(t, nil, []string{"state=failed"}, false)
		var whole, small bytes.Buffer
		p := NewPipeline(q, &whole)
		p.AddLines(block, tai64n.Label{})
		if err := p.Flush(); err != nil {
			t.Fatal(err)
		}
		// Blocks of a few lines each: searched line by line.
		p = NewPipeline(q, &small)
		for rest := block; len(rest) > 0; {
			n := 0
			for k := 0; k < 5 && n < len(rest); k++ {
				n += bytes.IndexByte(rest[n:], '\n') + 1
			}
			p.AddLines(rest[:n], tai64n.Label{})
			rest = rest[n:]
		}
		if err := p.Flush(); err != nil {
			t.Fatal(err)
		}
		if whole.String() != small.String() || whole.Len() == 0 {
			t.Errorf("%s: the whole block gives %d bytes, line by line %d", name, whole.Len(), small.Len())
		}
	}
}

// The pair searched for is the one of the rarest bytes that occurs
// together least often in the data, not the two rarest bytes: here "f"
// and "l" three apart fill the log, "=" and "f" side by side do not.
func TestFinderPairFromTheData(t *testing.T) {
	var b strings.Builder
	for i := 0; b.Len() < 64<<10; i++ {
		fmt.Fprintf(&b, "fool fill fall %d state=done\n", i)
		if i%50 == 0 {
			b.WriteString("x state=failed\n")
		}
	}
	sample := []byte(b.String())
	f := newFinder([]byte("state=failed"), sample)
	together := 0
	for p := 0; p+f.i2 < len(sample); p++ {
		if sample[p+f.i1] == f.lit[f.i1] && sample[p+f.i2] == f.lit[f.i2] {
			together++
		}
	}
	if want := strings.Count(b.String(), "state=failed"); hasPairSearch && together != want {
		t.Errorf("the pair %q at %d and %q at %d occurs %d times, the literal %d", f.lit[f.i1], f.i1, f.lit[f.i2], f.i2, together, want)
	}
	if i := f.index(sample); i < 0 || string(sample[i:i+12]) != "state=failed" {
		t.Errorf("index = %d", i)
	}
}
