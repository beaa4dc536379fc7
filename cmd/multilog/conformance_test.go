package main

// Every multilog case of testdata/conformance/cases.txt (ML01–ML32 and
// MP01–MP21, observed on daemontools' multilog) run on taikit's multilog as
// a process: a fresh working directory, the case's pre entries, standard
// input a regular file, the case's umask applied by /bin/sh (Case.Exec).
//
// Most cases must match exactly (Case.Check). Three deliberate differences
// of spec §18.2 are asserted as such:
//
//   - warned: words daemontools ignores silently draw one warning line each
//     on stderr; everything else, the directories included, is exact;
//   - ML13: the status file is replaced, not rewritten in place, so it is
//     exactly 1001 bytes even where a longer file was there;
//   - contract: where daemontools' archive sizes come from its 512/1024-byte
//     buffers (§8.5), taikit cuts at the first line end at or after s−2000
//     bytes (or at s inside a longer line), so those directories are
//     compared by that contract (as rotate/conformance_test.go does at the
//     package level); exit code, stdout, stderr and status files exactly.

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/taikit/taikit/internal/conformance"
	"github.com/taikit/taikit/internal/testref"
)

// warned lists, for the cases whose scripts hold words daemontools ignores,
// those words in script order: one warning each.
var warned = map[string][]string{
	"ML05": {"t"},                    // t not first
	"ML06": {"t"},                    // a second t
	"ML07": {"xyz", "Q", "dnotadir"}, // unknown letters, a name not starting with . or /
}

// inN is the "in=<bytes> " of ML21's processor output.
var inN = regexp.MustCompile(`^in=[0-9]+ `)

// contract lists the cases compared by contract, per directory in script
// order.
var contract = map[string][]conformance.Contract{
	// ML16: s4096 n3. daemontools' files were 2500, 2500, 2100, 2100 (+800);
	// taikit's 4 × 2100 (+1600). n3 keeps 2 archives in both.
	"ML16": {{CountFromN: true}},
	// ML17: n100 keeps everything: archives and current are the input.
	"ML17": {{}},
	// ML18: s1 n0 is s4096 n2: one archive.
	"ML18": {{CountFromN: true}},
	// ML20: sticky s, n, !: d1 s4096 n2; d2 s8000 n2; d3 s8000 n2 with
	// "tr a-z A-Z", whose archive is the closed file upper-cased.
	"ML20": {{CountFromN: true}, {CountFromN: true}, {CountFromN: true, Archive: func(_ int, f []byte) []byte { return bytes.ToUpper(f) }}},
	// ML21, ML22: the archives are what the case lists (processor output);
	// ML21's says how many bytes the processor read: ours closes 2100-byte
	// files where daemontools closed 2500-byte ones. Filled in by the test.
	"ML21": {{}},
	"ML22": {{}},
	// ML31: junk "@…" names count against n3: one real archive remains.
	"ML31": {{CountFromN: true}},
}

// runCase runs case c on our multilog in a fresh directory, which it
// returns with the result.
func runCase(t *testing.T, c conformance.Case) (string, conformance.Result) {
	t.Helper()
	c.Env = append(slices.Clone(c.Env), commandEnv()...)
	dir := t.TempDir()
	if err := c.Prepare(dir); err != nil {
		t.Fatalf("%s: pre: %v", c.ID, err)
	}
	res, err := c.Exec(ours(t), dir)
	if err != nil {
		t.Fatal(err)
	}
	return dir, res
}

func TestConformance(t *testing.T) {
	f, err := conformance.LoadDefault()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range f.Cases {
		if !strings.HasPrefix(c.ID, "ML") && !strings.HasPrefix(c.ID, "MP") {
			continue
		}
		n++
		t.Run(c.ID, func(t *testing.T) {
			t.Parallel()
			switch {
			case warned[c.ID] != nil:
				checkWarned(t, c)
			case c.ID == "ML13":
				checkML13(t, c)
			case contract[c.ID] != nil:
				checkContract(t, c)
			default:
				dir, res := runCase(t, c)
				if err := c.Check(dir, res); err != nil {
					t.Error(err)
				}
			}
		})
	}
	if n != 32+21 {
		t.Errorf("%d multilog cases (ML, MP) in the case file; this test knows 53", n)
	}
}

// warningRE is the one-line warning for a script word that does nothing.
var warningRE = regexp.MustCompile(`^multilog: warning: script word ("(?:[^"\\]|\\.)*") does nothing: [^\n]+$`)

// checkWarned: stderr is one warning per ignored word, in script order,
// and nothing else; everything else as daemontools.
func checkWarned(t *testing.T, c conformance.Case) {
	dir, res := runCase(t, c)
	lines := strings.Split(strings.TrimSuffix(string(res.Stderr), "\n"), "\n")
	var words []string
	for _, l := range lines {
		m := warningRE.FindStringSubmatch(l)
		if m == nil {
			t.Errorf("%s: stderr line %q is not a script-word warning", c.ID, l)
			continue
		}
		w, err := strconv.Unquote(m[1])
		if err != nil {
			t.Errorf("%s: %q: %v", c.ID, m[1], err)
		}
		words = append(words, w)
	}
	if !bytes.HasSuffix(res.Stderr, []byte("\n")) || !slices.Equal(words, warned[c.ID]) {
		t.Errorf("%s: stderr %q warns about %q; want one line each for %q", c.ID, res.Stderr, words, warned[c.ID])
	}
	if c.Stderr.Listed {
		t.Fatalf("%s: daemontools wrote to stderr: %q", c.ID, c.Stderr.Want)
	}
	res.Stderr = nil
	if err := c.Check(dir, res); err != nil {
		t.Error(err)
	}
}

// checkML13: a pre-existing 2000-byte status file becomes exactly the
// 1001-byte record (daemontools rewrites it in place and keeps bytes
// 1001–1999), with its mode (0644) kept, and no temporary file is left.
func checkML13(t *testing.T, c conformance.Case) {
	if len(c.Files) != 1 || c.Files[0].Name != "st" || c.Files[0].Size != 2000 {
		t.Fatalf("ML13 is no longer the 2000-byte status case: %+v", c.Files)
	}
	want := append([]byte("x"), bytes.Repeat([]byte("\n"), 1000)...)
	c.Files = []conformance.FileExpect{{Name: "st", Mode: c.Files[0].Mode, Size: 1001, HasContent: true, Content: want}}
	if conformance.UnixMode(c.Files[0].Mode) != 0o644 {
		t.Fatalf("ML13 lists mode %04o", conformance.UnixMode(c.Files[0].Mode))
	}
	dir, res := runCase(t, c)
	if err := c.Check(dir, res); err != nil {
		t.Error(err)
	}
	des, _ := os.ReadDir(dir)
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	if !slices.Equal(names, []string{"st"}) {
		t.Errorf("ML13: the working directory holds %q; want only st", names)
	}
}

// scriptDir is a directory of a script with the s, n and ! in force at it.
type scriptDir struct {
	name    string
	s, n    int
	proc    string
	hasProc bool
}

// scriptDirs reads s, n, ! and directories from a script with multilog's
// grammar (spec §1.5–§1.8); it fails on any other word, which a contract
// case must not have (its directories get the whole input).
func scriptDirs(t *testing.T, args []string) []scriptDir {
	t.Helper()
	num := func(w string) uint64 {
		var v uint64
		for i := 1; i < len(w) && w[i] >= '0' && w[i] <= '9'; i++ {
			v = v*10 + uint64(w[i]-'0')
		}
		return v
	}
	s, n := uint64(99999), uint64(10)
	proc, hasProc := "", false
	var dirs []scriptDir
	for _, w := range args {
		switch {
		case strings.HasPrefix(w, "s"):
			s = min(max(num(w), 4096), 16777215)
		case strings.HasPrefix(w, "n"):
			n = min(max(num(w), 2), 1<<20)
		case strings.HasPrefix(w, "!"):
			proc, hasProc = w[1:], true
		case strings.HasPrefix(w, "."):
			dirs = append(dirs, scriptDir{w, int(s), int(n), proc, hasProc})
		default:
			t.Fatalf("script word %q: a contract case must only have s, n, ! and relative directories", w)
		}
	}
	return dirs
}

// checkContract runs a case whose archive sizes daemontools' chunking
// decides and compares each directory by contract:
//
//	(a) the same entries other than archives (current, lock, state, junk
//	    names), with the listed modes; those but current with the listed
//	    contents; current with what taikit's rule leaves;
//	(b) as many archives as the rule and n leave, and as many as the case
//	    lists when n decides it, with the listed modes and suffixes;
//	(c) without a processor, every archive cut by the size contract and
//	    current short of a cut;
//	(d) the kept data (archives in name order, then current) the end of
//	    the input, and the whole input when nothing was pruned;
//	(e) every archive the file the rule closed there (through the
//	    processor when there is one).
func checkContract(t *testing.T, c conformance.Case) {
	dirs := scriptDirs(t, c.Args())
	how := slices.Clone(contract[c.ID])
	if len(dirs) != len(c.Dirs) || len(how) != len(dirs) {
		t.Fatalf("%s: %d directories in the script, %d listed, %d described", c.ID, len(dirs), len(c.Dirs), len(how))
	}
	for i, d := range c.Dirs {
		if filepath.Clean(d.Name) != filepath.Clean(dirs[i].name) {
			t.Fatalf("%s: directory %d is %s in the script, %s listed", c.ID, i, dirs[i].name, d.Name)
		}
	}
	listed := func(i int, fix func(listed, file []byte) []byte) func(int, []byte) []byte {
		var l [][]byte
		for _, e := range c.Dirs[i].Entries {
			if strings.HasPrefix(e.Name, "@<TAI64N#") {
				if !e.HasContent {
					t.Fatalf("%s: archive %s is listed without its content", c.ID, e.Name)
				}
				l = append(l, e.Content)
			}
		}
		return func(k int, f []byte) []byte {
			if k >= len(l) {
				return []byte(fmt.Sprintf("<archive %d is not listed>", k+1))
			}
			return fix(l[k], f)
		}
	}
	switch c.ID {
	case "ML21":
		how[0].Archive = listed(0, func(l, f []byte) []byte {
			return inN.ReplaceAllLiteral(l, fmt.Appendf(nil, "in=%d ", len(f)))
		})
	case "ML22":
		how[0].Archive = listed(0, func(l, _ []byte) []byte { return l })
	}

	dir, res := runCase(t, c)
	// Exit code, stdout, stderr and files exactly.
	rest := c
	rest.Dirs = nil
	if err := rest.Check(dir, res); err != nil {
		t.Error(err)
	}
	in := c.Stdin()
	if len(in) > 0 && in[len(in)-1] != '\n' {
		t.Fatalf("%s: the input ends in a partial line", c.ID)
	}
	for i := range dirs {
		if err := conformance.CompareByContract(in, filepath.Join(dir, c.Dirs[i].Name), dirs[i].s, dirs[i].n, c.Dirs[i], how[i]); err != nil {
			t.Errorf("%s: dir %s: %v", c.ID, c.Dirs[i].Name, err)
		}
	}
}

// TestContractRejectsChunkedCuts makes sure the contract comparison is not
// vacuous: the directories daemontools' own multilog leaves for the
// contract cases without a processor, cut where its 512/1024-byte buffers
// decide (§8.5), fail it.
func TestContractRejectsChunkedCuts(t *testing.T) {
	t.Parallel()
	testref.Need(t, refMultilog)
	for _, id := range []string{"ML16", "ML17", "ML18", "ML31"} {
		c := conformance.Get(t, id)
		dir := t.TempDir()
		if err := c.Prepare(dir); err != nil {
			t.Fatal(err)
		}
		res, err := c.Exec(refMultilog, dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Check(dir, res); err != nil {
			t.Fatalf("%s: daemontools' multilog no longer does what the case says: %v", id, err)
		}
		dirs := scriptDirs(t, c.Args())
		err = conformance.CompareByContract(c.Stdin(), filepath.Join(dir, c.Dirs[0].Name), dirs[0].s, dirs[0].n, c.Dirs[0], contract[id][0])
		if err == nil {
			t.Errorf("%s: daemontools' chunk-dependent cuts pass the contract", id)
		} else {
			t.Logf("%s: daemontools' directory: %v", id, err)
		}
	}
}
