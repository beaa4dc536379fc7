package main

// A randomized differential test against daemontools' multilog: random
// scripts (t first, +pat, -pat, e, =stN, sN, nN, 1–3 directories) on random
// inputs (short, empty, long, longer than s, binary, an unterminated last
// line), fed from a regular file to both programs, each in its own
// directory. Compared exactly, stamps masked: exit code, stdout, stderr
// (the e alerts), every status file, and for each directory everything it
// holds as one stream (archives in name order, then current) and its other
// entries' names and modes. Where files are cut is compared by taikit's
// contract instead (§18.2): our archives must be exactly the files the
// rule "first line end at or after s−2000, or s inside a longer line"
// makes of the stream, as many as n keeps.
//
// Text uses the bytes "xyz *" (and binary lines bytes no pattern has),
// patterns also "@", none of them a hex digit: with t, where patterns see
// the stamp, a pattern can only match a stamp's fixed parts (the "@", the
// space after it), so both programs select the same lines although their
// stamps differ.
//
// TAIKIT_DIFF_SEED=<n> repeats a run (the seed is logged); each script's
// subtest name is its index, so -run 'TestDifferential/^17$' repeats one.

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/taikit/taikit/internal/conformance"
	"github.com/taikit/taikit/internal/testref"
)

// diffScripts is how many random scripts are run.
const diffScripts = 300

// diffAlphabet is what text is made of; patterns also have "@".
const (
	diffAlphabet     = "xyz *"
	diffPatternBytes = "xyz *@"
)

// diffDir is a directory of a random script with the s and n in force.
type diffDir struct {
	name string
	s, n int
}

// diffScript is a random script.
type diffScript struct {
	words  []string
	dirs   []diffDir
	status []string
	maxS   int
}

// genScript makes a random script; a wide one has more than 64 actions
// (alerts and status files among its rules), past what the selection
// walk keeps in a word.
func genScript(r *rand.Rand, wide bool) diffScript {
	var sc diffScript
	// Patterns: up to three runs of 0–2 pattern bytes, mostly joined by
	// "*", so that prefixes, suffixes and infixes of the short lines match
	// often; "@" matches only a stamp's first byte.
	pattern := func() string {
		var b []byte
		for k := 1 + r.IntN(3); k > 0; k-- {
			for i := r.IntN(3); i > 0; i-- {
				b = append(b, diffPatternBytes[r.IntN(len(diffPatternBytes))])
			}
			if r.IntN(10) < 6 {
				b = append(b, '*')
			}
		}
		return string(b)
	}
	// The words other than t and directories, then the directories put
	// among them.
	var items []string
	k, kinds := r.IntN(7), 20
	if wide {
		// Rules, and as many alerts and status files: more than 64
		// actions.
		k, kinds = 160+r.IntN(40), 24
	}
	for ; k > 0; k-- {
		x := r.IntN(kinds)
		if wide && x >= 12 { // an alert or a status file
			x = 12 + 6*(x%2)
		}
		switch {
		case x < 6:
			items = append(items, "+"+pattern())
		case x < 12:
			items = append(items, "-"+pattern())
		case x < 14:
			items = append(items, "e")
		case x < 16:
			items = append(items, "s"+strconv.Itoa(4096+r.IntN(20000-4096+1)))
		case x < 18:
			items = append(items, "n"+strconv.Itoa(2+r.IntN(4)))
		default:
			items = append(items, fmt.Sprintf("=st%d", len(sc.status)+1))
			sc.status = append(sc.status, fmt.Sprintf("st%d", len(sc.status)+1))
		}
	}
	for i := 1 + r.IntN(3); i > 0; i-- {
		items = slices.Insert(items, r.IntN(len(items)+1), fmt.Sprintf("./d%d", i))
	}
	// Mostly s and n before the first directory, so that they matter.
	if r.IntN(3) > 0 {
		items = slices.Insert(items, 0, "s"+strconv.Itoa(4096+r.IntN(20000-4096+1)))
	}
	if r.IntN(3) > 0 {
		items = slices.Insert(items, 0, "n"+strconv.Itoa(2+r.IntN(4)))
	}
	if r.IntN(10) < 3 {
		sc.words = append(sc.words, "t")
	}
	sc.words = append(sc.words, items...)
	s, n := 99999, 10
	for _, w := range sc.words {
		switch w[0] {
		case 's':
			s, _ = strconv.Atoi(w[1:])
		case 'n':
			n, _ = strconv.Atoi(w[1:])
		case '.':
			sc.dirs = append(sc.dirs, diffDir{w, s, n})
			sc.maxS = max(sc.maxS, s)
		}
	}
	return sc
}

// genInput makes a random input for sc: mostly small enough that no
// directory prunes an archive ((n−1)·(s−2000) bytes, stamps included), in
// a quarter of the runs up to four times as much.
func genInput(r *rand.Rand, sc diffScript) []byte {
	budget := 1 << 30
	for _, d := range sc.dirs {
		budget = min(budget, (d.n-1)*(d.s-conformance.CutMargin))
	}
	if r.IntN(4) == 0 {
		budget *= 1 + r.IntN(4)
	}
	budget = min(budget, 150000)
	text := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = diffAlphabet[r.IntN(len(diffAlphabet))]
		}
		return b
	}
	const binary = "\x00\xff\r\x80\x01\x7f"
	var in []byte
	used := 0
	huge := false
	for used < budget {
		var line []byte
		switch x := r.IntN(100); {
		case x < 50:
			line = text(r.IntN(12))
		case x < 60:
		case x < 72:
			line = text(12 + r.IntN(300))
		case x < 82:
			line = text(r.IntN(8))
			for i := r.IntN(20); i > 0; i-- {
				line = slices.Insert(line, r.IntN(len(line)+1), binary[r.IntN(len(binary))])
			}
		case x < 94:
			line = text(1001 + r.IntN(2000))
		default:
			if huge || used+sc.maxS+1 > budget && r.IntN(2) == 0 {
				line = text(975 + r.IntN(60)) // around the window with t
			} else {
				line = text(sc.maxS + 1 + r.IntN(3000))
				huge = true
			}
		}
		in = append(in, line...)
		in = append(in, '\n')
		used += len(line) + 1 + 26
	}
	if r.IntN(2) == 0 {
		in = append(in, text(1+r.IntN(30))...) // an unterminated last line
	}
	return in
}

// dirState is what a directory holds.
type dirState struct {
	archives [][]byte // in name order, masked
	modes    []int    // of the archives
	others   []string // the other entries, "name mode"
	current  []byte   // masked
}

// stream is everything kept, in order.
func (d dirState) stream() []byte {
	return append(bytes.Join(d.archives, nil), d.current...)
}

func readDirState(path string) (dirState, error) {
	var st dirState
	des, err := os.ReadDir(path)
	if err != nil {
		return st, err
	}
	for _, de := range des {
		p := filepath.Join(path, de.Name())
		switch {
		case archiveRE.MatchString(de.Name()):
			st.archives = append(st.archives, maskStamps(readFile(p)))
			st.modes = append(st.modes, mode(p))
		default:
			st.others = append(st.others, fmt.Sprintf("%s %04o", de.Name(), mode(p)))
			if de.Name() == "current" {
				st.current = maskStamps(readFile(p))
			}
		}
	}
	return st, nil
}

// diffRun is one program's run of a script.
type diffRun struct {
	res    result
	dirs   []dirState
	status [][]byte // masked
	smodes []int
}

func runDiff(prog string, sc diffScript, args []string, input string) (diffRun, error) {
	var dr diffRun
	dir, err := os.MkdirTemp(filepath.Dir(input), "run-")
	if err != nil {
		return dr, err
	}
	in, err := os.Open(input)
	if err != nil {
		return dr, err
	}
	defer in.Close()
	if dr.res, err = runFileErr(prog, dir, in, nil, args...); err != nil {
		return dr, err
	}
	dr.res.Stderr = maskStamps(dr.res.Stderr)
	for _, d := range sc.dirs {
		st, err := readDirState(filepath.Join(dir, d.name))
		if err != nil {
			return dr, err
		}
		dr.dirs = append(dr.dirs, st)
	}
	for _, s := range sc.status {
		p := filepath.Join(dir, s)
		dr.status = append(dr.status, maskStamps(readFile(p)))
		dr.smodes = append(dr.smodes, mode(p))
	}
	return dr, nil
}

// describe shows an input in a failure message.
func describe(in []byte) string {
	if len(in) <= 600 {
		return strconv.Quote(string(in))
	}
	return fmt.Sprintf("%d bytes, %d newlines, starting %q", len(in), bytes.Count(in, []byte("\n")), in[:200])
}

func TestDifferential(t *testing.T) {
	t.Parallel()
	testref.Need(t, refMultilog)
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("TAIKIT_DIFF_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("TAIKIT_DIFF_SEED=%q: %v", s, err)
		}
		seed = v
	}
	t.Logf("TAIKIT_DIFF_SEED=%d", seed)
	prog := ours(t)
	var pruned atomic.Int64
	stamped, huge, wides := 0, 0, 0
	t.Cleanup(func() {
		t.Logf("%d scripts, %d with t, %d with more than 64 actions, %d whose directories pruned archives, %d inputs with a line longer than s",
			diffScripts, stamped, wides, pruned.Load(), huge)
	})
	for i := range diffScripts {
		r := rand.New(rand.NewPCG(seed, uint64(i)))
		wide := i%25 == 24
		sc := genScript(r, wide)
		in := genInput(r, sc)
		if actions := len(sc.dirs) + len(sc.status) + countWord(sc.words, "e"); wide != (actions > 64) {
			t.Fatalf("script %d has %d actions: the generator no longer makes wide scripts wide and others narrow", i, actions)
		}
		if sc.words[0] == "t" {
			stamped++
		}
		if wide {
			wides++
		}
		if longestLine(in) > sc.maxS {
			huge++
		}
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			t.Parallel()
			if diffOne(t, prog, sc, in) {
				pruned.Add(1)
			}
		})
	}
}

func countWord(words []string, w string) int {
	n := 0
	for _, x := range words {
		if x == w {
			n++
		}
	}
	return n
}

func longestLine(in []byte) int {
	n := 0
	for _, l := range bytes.Split(in, []byte("\n")) {
		n = max(n, len(l))
	}
	return n
}

// scratchDir returns a new directory for a test's runs: on /dev/shm when
// it is a writable tmpfs, where fsync costs nothing (the runs fsync at
// every rotation and exit, and the test makes about a thousand), else in
// the test's temporary directory. It is removed when the test ends.
func scratchDir(t *testing.T) string {
	var fs syscall.Statfs_t
	if syscall.Statfs("/dev/shm", &fs) == nil && fs.Type == 0x01021994 { // TMPFS_MAGIC
		if d, err := os.MkdirTemp("/dev/shm", "taikit-multilog-diff-"); err == nil {
			t.Cleanup(func() { os.RemoveAll(d) })
			return d
		}
	}
	return t.TempDir()
}

// diffOne runs one script on both programs and compares; it reports
// whether some directory pruned archives.
func diffOne(t *testing.T, prog string, sc diffScript, in []byte) bool {
	input := filepath.Join(scratchDir(t), "input")
	if err := os.WriteFile(input, in, 0o644); err != nil {
		t.Fatal(err)
	}
	fail := func(format string, args ...any) {
		t.Helper()
		t.Errorf("script %q, input %s:\n%s", sc.words, describe(in), fmt.Sprintf(format, args...))
	}
	ref, err := runDiff(refMultilog, sc, sc.words, input)
	if err != nil {
		t.Fatal(err)
	}
	got, err := runDiff(prog, sc, sc.words, input)
	if err != nil {
		t.Fatal(err)
	}
	if ref.res.Exit != 0 {
		t.Fatalf("daemontools' multilog %q exited %d: %q", sc.words, ref.res.Exit, ref.res.Stderr)
	}
	if got.res.Exit != ref.res.Exit || len(got.res.Stdout) != 0 {
		fail("exit %d, stdout %q; daemontools: exit %d", got.res.Exit, got.res.Stdout, ref.res.Exit)
	}
	if !bytes.Equal(got.res.Stderr, ref.res.Stderr) {
		fail("stderr differs:\n%s", diffText(ref.res.Stderr, got.res.Stderr))
	}
	for j, s := range sc.status {
		if !bytes.Equal(got.status[j], ref.status[j]) || got.smodes[j] != ref.smodes[j] {
			fail("status file %s: %q mode %04o; daemontools: %q mode %04o", s,
				got.status[j][:min(80, len(got.status[j]))], got.smodes[j], ref.status[j][:min(80, len(ref.status[j]))], ref.smodes[j])
		}
	}

	// The whole stream a directory got: daemontools' when it pruned
	// nothing, else from a second run of daemontools with n so large that
	// it prunes nothing.
	var full *diffRun
	anyPruned := false
	for k, d := range sc.dirs {
		o, rf := got.dirs[k], ref.dirs[k]
		if !slices.Equal(o.others, rf.others) {
			fail("%s: entries %q; daemontools: %q", d.name, o.others, rf.others)
		}
		for j, m := range o.modes {
			if m != 0o744 {
				fail("%s: archive %d has mode %04o", d.name, j, m)
			}
		}
		// The contract, on our files themselves.
		for j, a := range o.archives {
			if err := conformance.CheckCut(a, d.s); err != nil {
				fail("%s: archive %d: %v", d.name, j, err)
			}
		}
		if err := conformance.CheckOpen(o.current, d.s); err != nil {
			fail("%s: %v", d.name, err)
		}
		stream := rf.stream()
		if len(o.archives) >= d.n-1 || len(rf.archives) >= d.n-1 {
			anyPruned = true
			if full == nil {
				// Every n word, and the default n10, made n1000000.
				args := slices.Clone(sc.words)
				for j, w := range args {
					if w[0] == 'n' {
						args[j] = "n1000000"
					}
				}
				at := 0
				if args[0] == "t" {
					at = 1
				}
				args = slices.Insert(args, at, "n1000000")
				f, err := runDiff(refMultilog, sc, args, input)
				if err != nil {
					t.Fatal(err)
				}
				if f.res.Exit != 0 || !bytes.Equal(f.res.Stderr, ref.res.Stderr) {
					t.Fatalf("daemontools with n1000000: exit %d, stderr %q", f.res.Exit, f.res.Stderr)
				}
				full = &f
			}
			stream = full.dirs[k].stream()
			if !bytes.HasSuffix(stream, rf.stream()) {
				t.Fatalf("%s: daemontools' kept data is not the end of what it logs with n1000000", d.name)
			}
		}
		// Our archives are the files the rule makes of the stream, the
		// last n−1 of them, and current the rest.
		files, cur := conformance.Cuts(stream, d.s)
		keep := min(len(files), d.n-1)
		want := files[len(files)-keep:]
		if len(o.archives) != keep {
			fail("%s (s%d n%d): %d archives; the rule closes %d files of the %d-byte stream and n%d keeps %d",
				d.name, d.s, d.n, len(o.archives), len(files), len(stream), d.n, keep)
		}
		if !bytes.Equal(o.stream(), append(bytes.Join(want, nil), cur...)) {
			if len(o.archives) == keep {
				for j := range keep {
					if !bytes.Equal(o.archives[j], want[j]) {
						fail("%s (s%d n%d): archive %d: %d bytes, want %d:\n%s", d.name, d.s, d.n, j, len(o.archives[j]), len(want[j]), diffText(want[j], o.archives[j]))
						break
					}
				}
			}
			fail("%s (s%d n%d): kept data (%d bytes) differs from daemontools' (%d bytes, stream %d):\n%s", d.name, d.s, d.n,
				len(o.stream()), len(rf.stream()), len(stream), diffText(append(bytes.Join(want, nil), cur...), o.stream()))
		}
	}
	return anyPruned
}

// diffText describes how got differs from want.
func diffText(want, got []byte) string {
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	lo := max(i-40, 0)
	return fmt.Sprintf("  %d bytes, want %d; first difference at byte %d:\n   got …%q…\n  want …%q…",
		len(got), len(want), i, got[lo:min(i+60, len(got))], want[lo:min(i+60, len(want))])
}
