package multilog

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
)

// TestSharedSameAsAlone: a chunk decided with a helper gives every output
// the engine alone gives, whoever takes which blocks: the helper all of
// them (it runs to the end before the engine starts), some, none (it
// starts after the engine took the last), or a real goroutine; with lines
// too long to be decided apart in the engine's blocks and in the helper's,
// empty lines, and a partial last line.
func TestSharedSameAsAlone(t *testing.T) {
	r := rand.New(rand.NewPCG(14, 1))
	scripts := [][]string{
		{"t", "-* * -- MARK --", "-* * kernel: *", "-* * sshd[*]: Accepted *", "./main", "-*", "+* * worker-*: job=* state=failed *", "=status"},
		{"t", "-*debug*", "e", "+*", "=st", "./d1", "-*", "+* *: pid *", "./d2", "1"},
		{"-a*", "+ab*", "./d", "-*", "g+*[0-9]x*", "=s"}, // a glob: no deciding apart, the engine's usual way
		{"T", "-* *", "+* *e*", "./d", "e"},
	}
	texts := []string{"kernel: up", "sshd[1]: Accepted key", "worker-3: job=9 state=failed x", "worker-3: job=9 state=done",
		"-- MARK --", "x.debug y", "a: b: pid 7", "ab", "a", "", "9x", "e"}
	for round := 0; round < 24; round++ {
		words := scripts[round%len(scripts)]
		var in []byte
		for len(in) < helpMin+r.IntN(6*helpBlock) {
			switch r.IntN(200) {
			case 0:
				in = append(in, bytes.Repeat([]byte("l"), windowSize+r.IntN(3*windowSize))...)
			case 1:
				in = append(in, bytes.Repeat([]byte("z"), helpBlock+r.IntN(helpBlock))...)
			default:
				in = append(in, fmt.Sprintf("@40000000671d666a%08x ", r.Uint32())...)
				in = append(in, texts[r.IntN(len(texts))]...)
			}
			in = append(in, '\n')
		}
		if r.IntN(2) == 0 {
			in = append(in, "partial"...)
		}
		chunks := [][]byte{in}
		if r.IntN(2) == 0 { // a chunk that begins in a line
			k := 1 + r.IntN(200)
			chunks = [][]byte{in[:k], in[k:]}
		}
		alone, _ := runWordsWith(t, words, chunks, func(e *Engine) { e.alone = true })
		for _, mode := range []struct {
			name string
			set  func(a *sharing)
		}{
			{"helper all", func(a *sharing) { a.start = func(help func()) { help() } }},
			{"helper one", func(a *sharing) { a.start, a.most = func(help func()) { help() }, 1 }},
			{"helper three", func(a *sharing) { a.start, a.most = func(help func()) { help() }, 3 }},
			{"helper none", func(a *sharing) { a.start = func(func()) {} }},
			{"goroutine", func(*sharing) {}},
		} {
			shared, e := runWordsWith(t, words, chunks, func(e *Engine) {
				e.share = &sharing{walk: e.walk, prefix: &e.prefix}
				mode.set(e.share)
			})
			if shared != alone {
				t.Fatalf("round %d, %s, script %q on %d bytes:\nalone:\n%.2000s\nshared:\n%.2000s", round, mode.name, words, len(in), alone, shared)
			}
			if mode.name == "helper all" && e.prefix.OK() && e.share.gen == 0 {
				t.Fatalf("round %d: script %q: no chunk was shared", round, words)
			}
		}
	}
}

// TestSharedHelperDecides: with the helper taking every block, the engine
// delivers lines it never decided itself — what makes the test above a
// test of the helper's work, not of the engine's.
func TestSharedHelperDecides(t *testing.T) {
	in := strings.Repeat("keep me\ndrop me\n", 2*helpMin/16)
	out, _ := runWordsWith(t, []string{"-drop*", "./d"}, [][]byte{[]byte(in)}, func(e *Engine) {
		e.share = &sharing{walk: e.walk, prefix: &e.prefix, start: func(help func()) {
			help()
			// Everything was taken by the helper: the engine has no block left.
			if _, lo, hi := splitClaim(e.share.claim.Load()); lo != hi || hi != 0 {
				t.Errorf("after the helper: blocks [%d, %d) left", lo, hi)
			}
		}}
	})
	if want := fmt.Sprintf("dir 0: %q\n", strings.Repeat("keep me\n", 2*helpMin/16)); !strings.HasPrefix(out, want) {
		t.Fatalf("%.300s", out)
	}
}

func TestClaimWord(t *testing.T) {
	for _, c := range [][3]uint64{{0, 0, 0}, {1, 2, 3}, {genMask, claimMask, claimMask}} {
		g, lo, hi := splitClaim(claimWord(c[0], int(c[1]), int(c[2])))
		if g != c[0] || lo != int(c[1]) || hi != int(c[2]) {
			t.Errorf("%v: %d %d %d", c, g, lo, hi)
		}
	}
}

// TestStaleHelperTakesNothing: a helper that starts only when the engine
// has gone on to a later chunk finds another generation and ends without
// taking a block of it.
func TestStaleHelperTakesNothing(t *testing.T) {
	chunk := []byte(strings.Repeat("keep me\ndrop me\n", 2*helpMin/16))
	var stale func()
	_, _ = runWordsWith(t, []string{"-drop*", "./d"}, [][]byte{chunk, chunk}, func(e *Engine) {
		e.share = &sharing{walk: e.walk, prefix: &e.prefix}
		e.share.start = func(help func()) {
			if stale == nil {
				stale = help // the first chunk's helper never runs in time
				return
			}
			before := e.share.claim.Load()
			stale()
			if after := e.share.claim.Load(); after != before {
				g0, lo0, hi0 := splitClaim(before)
				g1, lo1, hi1 := splitClaim(after)
				t.Errorf("a stale helper took blocks: generation %d [%d, %d) became %d [%d, %d)", g0, lo0, hi0, g1, lo1, hi1)
			}
		}
	})
	if stale == nil {
		t.Fatal("no helper was started")
	}
}

// TestSharedAllocs: sharing a chunk allocates only the helper's start (its
// goroutine: the closure and, when the last helper has not ended yet, a
// new goroutine), nothing per line or per block (a chunk here has 10000
// lines in 12 blocks).
func TestSharedAllocs(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	p := Parse([]string{"t", "-*.debug*", "e", "+*", "=st", "./d1", "./d2"})
	var d1, d2 bytes.Buffer
	e := NewEngine(p, Sinks{Dirs: writers{&d1, &d2}.w(), Status: []StatusWriter{nopStatus{}}, Stdout: &d1, Stderr: &d2, Clock: fixedClock})
	chunk := []byte(strings.Repeat("sshd[123]: Accepted publickey for deploy from 10.0.0.1 port 22\nx.debug y\n", 5000))
	e.Process(chunk) // grow the buffers once
	const chunks = 50
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range chunks {
		d1.Reset()
		d2.Reset()
		e.Process(chunk)
	}
	runtime.ReadMemStats(&after)
	if e.share == nil || e.share.gen != chunks+1 {
		t.Fatalf("the chunks were not shared: %+v", e.share)
	}
	if n := float64(after.Mallocs-before.Mallocs) / chunks; n > 4 {
		t.Fatalf("%.1f allocations per shared chunk of 10000 lines", n)
	}
}

// TestSharedDenseLines: a flood of empty lines is not kept a line at a
// time by the helper beyond maxBlockLines a block (16 bytes a line would
// be 16 times the input); the engine takes the rest, and the output is the
// engine's alone.
func TestSharedDenseLines(t *testing.T) {
	in := []byte(strings.Repeat("\n\n\nx\n", 3*helpMin/5))
	words := []string{"t", "-x", "./d", "=st"}
	alone, _ := runWordsWith(t, words, [][]byte{in}, func(e *Engine) { e.alone = true })
	shared, e := runWordsWith(t, words, [][]byte{in}, func(e *Engine) {
		e.share = &sharing{walk: e.walk, prefix: &e.prefix, start: func(help func()) { help() }}
	})
	if shared != alone {
		t.Fatalf("shared output differs from the engine's alone")
	}
	if e.share.gen == 0 {
		t.Fatal("the chunk was not shared")
	}
	for i, b := range e.share.blocks {
		if len(b) > maxBlockLines {
			t.Fatalf("block %d: %d lines kept, more than %d", i, len(b), maxBlockLines)
		}
	}
}
