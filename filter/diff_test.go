package filter_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/taikit/taikit/filter"
	"github.com/taikit/taikit/internal/testref"
)

// diffAlphabet is what random patterns and lines are made of: the star,
// three letters, a space and the bytes that are special in globs but not
// in multilog's patterns.
const diffAlphabet = "*abc\\?[ "

func randomBytes(r *rand.Rand, n int, alphabet string) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return b
}

// randomPattern returns a pattern of 0-8 bytes, stars made likelier.
func randomPattern(r *rand.Rand) []byte {
	p := randomBytes(r, r.IntN(9), diffAlphabet)
	for i := range p {
		if r.IntN(4) == 0 {
			p[i] = '*'
		}
	}
	return p
}

// fromPattern returns a line the pattern, read as a glob of literal bytes
// and stars, matches: each star replaced by 0-4 random bytes. Many of them
// are lines multilog's matcher rejects for want of backtracking.
func fromPattern(r *rand.Rand, p []byte) []byte {
	var l []byte
	for _, c := range p {
		if c == '*' {
			l = append(l, randomBytes(r, r.IntN(5), diffAlphabet)...)
		} else {
			l = append(l, c)
		}
	}
	return l
}

// diffLines returns the lines one multilog run gets for pattern p: random
// lines of 0-30 bytes, lines made from p, and a few longer than the
// 1000-byte window (made from p, then padded; or random), whose fate the
// window decides.
func diffLines(r *rand.Rand, p []byte) [][]byte {
	var lines [][]byte
	for i := 0; i < 80; i++ {
		lines = append(lines, randomBytes(r, r.IntN(31), diffAlphabet))
	}
	for i := 0; i < 30; i++ {
		lines = append(lines, fromPattern(r, p))
	}
	lines = append(lines, nil, []byte("a\x00b"), []byte("\xff*\x80"))
	for _, n := range []int{999, 1000, 1001, 1500, 2600} {
		l := fromPattern(r, p)
		if r.IntN(2) == 0 {
			l = randomBytes(r, r.IntN(40), diffAlphabet)
		}
		lines = append(lines, append(l, randomBytes(r, max(n-len(l), 0), diffAlphabet)...))
	}
	r.Shuffle(len(lines), func(i, j int) { lines[i], lines[j] = lines[j], lines[i] })
	return lines
}

// TestMatchDifferential runs the real multilog "-*" "+pattern" ./d on
// random patterns, each over a batch of lines in a regular file, and checks
// that d/current holds exactly the lines whose first 1000 bytes Match
// accepts.
func TestMatchDifferential(t *testing.T) {
	testref.Need(t, multilog)
	const patterns = 400
	// A new seed each run (a fixed one with -short); set
	// FILTER_DIFF_SEED to repeat a run.
	seed := uint64(time.Now().UnixNano())
	if testing.Short() {
		seed = 1
	}
	if s := os.Getenv("FILTER_DIFF_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("FILTER_DIFF_SEED: %v", err)
		}
	}
	t.Logf("seed %d (FILTER_DIFF_SEED=%[1]d repeats this run)", seed)
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	type job struct {
		pattern []byte
		lines   [][]byte
	}
	jobs := make([]job, patterns)
	seen := map[string]bool{}
	for i := range jobs {
		p := randomPattern(r)
		for seen[string(p)] && len(seen) < 1<<16 {
			p = randomPattern(r)
		}
		seen[string(p)] = true
		jobs[i] = job{p, diffLines(r, p)}
	}
	// The lines each pattern must select, and how many there are in all.
	var matched, total, long int
	tmp := t.TempDir()
	var wg sync.WaitGroup
	var mu sync.Mutex
	errs := []string{}
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i, j := range jobs {
		var in, want bytes.Buffer
		for _, l := range j.lines {
			in.Write(l)
			in.WriteByte('\n')
			window := l[:min(len(l), filter.WindowSize)]
			if filter.Match(j.pattern, window) {
				want.Write(l)
				want.WriteByte('\n')
				matched++
				if len(l) > filter.WindowSize {
					long++
				}
			}
			total++
		}
		dir := filepath.Join(tmp, fmt.Sprint(i))
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		input := filepath.Join(dir, "input")
		if err := os.WriteFile(input, in.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			err := runMultilog(dir, input, j.pattern)
			var got []byte
			if err == nil {
				got, err = os.ReadFile(filepath.Join(dir, "d", "current"))
			}
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				errs = append(errs, fmt.Sprintf("pattern %q: %v", j.pattern, err))
			case !bytes.Equal(got, want.Bytes()):
				errs = append(errs, fmt.Sprintf("pattern %q: multilog and Match disagree:\n%s",
					j.pattern, testref.Diff(want.String(), string(got))))
			}
		}()
	}
	wg.Wait()
	for i, e := range errs {
		if i == 5 {
			t.Errorf("and %d more", len(errs)-i)
			break
		}
		t.Error(e)
	}
	t.Logf("%d patterns, %d lines, %d matched (%d longer than the window)", patterns, total, matched, long)
	if matched < total/10 {
		t.Errorf("only %d of %d lines matched: the test exercises too few matches", matched, total)
	}
}

// runMultilog runs multilog "-*" "+pattern" ./d in dir with stdin the
// regular file input.
func runMultilog(dir, input string, pattern []byte) error {
	f, err := os.Open(input)
	if err != nil {
		return err
	}
	defer f.Close()
	cmd := exec.Command(multilog, "-*", "+"+string(pattern), "./d")
	cmd.Dir = dir
	cmd.Stdin = f
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("multilog: %v: %s", err, out)
	}
	return nil
}
