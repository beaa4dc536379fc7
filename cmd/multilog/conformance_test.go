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
	"io/fs"
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

// contractDir says how one directory of a contract case is compared.
type contractDir struct {
	// countFromN: the case's number of archives follows from n (and the
	// junk names that count against it), whatever the cuts: ours must have
	// the same number.
	countFromN bool
	// archive, when set, gives what the archive of the k-th file closed
	// (from 0) must hold: the processor's output. nil: the file itself.
	archive func(k int, file []byte) []byte
}

// inN is the "in=<bytes> " of ML21's processor output.
var inN = regexp.MustCompile(`^in=[0-9]+ `)

// contract lists the cases compared by contract, per directory in script
// order.
var contract = map[string][]contractDir{
	// ML16: s4096 n3. daemontools' files were 2500, 2500, 2100, 2100 (+800);
	// taikit's 4 × 2100 (+1600). n3 keeps 2 archives in both.
	"ML16": {{countFromN: true}},
	// ML17: n100 keeps everything: archives and current are the input.
	"ML17": {{}},
	// ML18: s1 n0 is s4096 n2: one archive.
	"ML18": {{countFromN: true}},
	// ML20: sticky s, n, !: d1 s4096 n2; d2 s8000 n2; d3 s8000 n2 with
	// "tr a-z A-Z", whose archive is the closed file upper-cased.
	"ML20": {{countFromN: true}, {countFromN: true}, {countFromN: true, archive: func(_ int, f []byte) []byte { return bytes.ToUpper(f) }}},
	// ML21, ML22: the archives are what the case lists (processor output);
	// ML21's says how many bytes the processor read: ours closes 2100-byte
	// files where daemontools closed 2500-byte ones. Filled in by the test.
	"ML21": {{}},
	"ML22": {{}},
	// ML31: junk "@…" names count against n3: one real archive remains.
	"ML31": {{countFromN: true}},
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

// checkOpen checks the contract on current: it has not reached a cut.
func checkOpen(f []byte, s int) error {
	if len(f) >= s {
		return fmt.Errorf("current has %d bytes, s=%d: it should have been closed", len(f), s)
	}
	if from := s - conformance.CutMargin - 1; from < len(f) && bytes.IndexByte(f[from:len(f)-1], '\n') >= 0 {
		return fmt.Errorf("current (%d bytes) has a line end at or after %d bytes before its end: it should have been closed there", len(f), s-conformance.CutMargin)
	}
	return nil
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
		how[0].archive = listed(0, func(l, f []byte) []byte {
			return inN.ReplaceAllLiteral(l, fmt.Appendf(nil, "in=%d ", len(f)))
		})
	case "ML22":
		how[0].archive = listed(0, func(l, _ []byte) []byte { return l })
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
		if err := compareByContract(in, filepath.Join(dir, c.Dirs[i].Name), dirs[i], c.Dirs[i], how[i]); err != nil {
			t.Errorf("%s: dir %s: %v", c.ID, c.Dirs[i].Name, err)
		}
	}
}

// compareByContract compares one directory at path, which got all of in,
// with its listing exp (see checkContract).
func compareByContract(in []byte, path string, sd scriptDir, exp conformance.DirExpect, how contractDir) error {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	files, cur := conformance.Cuts(in, sd.s)

	des, err := os.ReadDir(path)
	if err != nil {
		return err
	}
	var names, archiveNames, otherNames []string
	junk := 0 // names counted against n that are not archives
	for _, de := range des {
		n := de.Name()
		names = append(names, n)
		if conformance.IsArchiveName(n) {
			archiveNames = append(archiveNames, n)
		} else {
			otherNames = append(otherNames, n)
			if len(n) >= 25 && n[0] == '@' {
				junk++
			}
		}
	}
	shown := conformance.MaskNames(names)
	info := func(n string) (fs.FileMode, []byte) {
		st, err := os.Lstat(filepath.Join(path, n))
		if err != nil {
			bad("%v", err)
			return 0, nil
		}
		data, _ := os.ReadFile(filepath.Join(path, n))
		return st.Mode(), data
	}
	withContent := func(e conformance.FileExpect, content []byte) conformance.FileExpect {
		e.HasContent, e.Content, e.Size = true, conformance.Mask(content, e.DateTimes), int64(len(content))
		return e
	}

	// (a)
	var wantArchives []conformance.FileExpect
	var wantOthers []string
	for _, e := range exp.Entries {
		if strings.HasPrefix(e.Name, "@<TAI64N#") {
			wantArchives = append(wantArchives, e)
		} else {
			wantOthers = append(wantOthers, e.Name)
		}
	}
	if !slices.Equal(otherNames, wantOthers) {
		bad("entries other than archives %q, want %q", otherNames, wantOthers)
	}
	for _, n := range otherNames {
		e, ok := exp.Entry(n)
		if !ok {
			continue
		}
		if n == "current" {
			e = withContent(e, cur)
		}
		m, data := info(n)
		if err := conformance.CheckFile(e, n, m, data); err != nil {
			bad("%v", err)
		}
	}

	// (b)
	if len(wantArchives) == 0 {
		return fmt.Errorf("the case lists no archive to take modes from")
	}
	keep := min(len(files), max(0, sd.n-1-junk))
	first := len(files) - keep
	if how.countFromN && len(archiveNames) != len(wantArchives) {
		bad("%d archives, want %d as daemontools left (n%d keeps n−1, junk counted)", len(archiveNames), len(wantArchives), sd.n)
	}
	if len(archiveNames) != keep {
		bad("%d archives %q; the rule closed %d files and n%d keeps %d", len(archiveNames), archiveNames, len(files), sd.n, keep)
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	var kept []byte
	for j, n := range archiveNames {
		k := first + j
		want := files[k]
		if how.archive != nil {
			want = how.archive(k, files[k])
		}
		base := wantArchives[min(j, len(wantArchives)-1)]
		e := withContent(base, want)
		e.Name = fmt.Sprintf("@<TAI64N#%d>%s", j+1, base.Name[len(base.Name)-2:])
		m, data := info(n)
		// (e)
		if err := conformance.CheckFile(e, shown[slices.Index(names, n)], m, data); err != nil {
			bad("archive %s (file %d of the rule): %v", n, k, err)
		}
		if how.archive == nil {
			// (c)
			if err := conformance.CheckCut(data, sd.s); err != nil {
				bad("archive %s: %v", n, err)
			}
			kept = append(kept, data...)
		}
	}

	// (c), (d)
	_, current := info("current")
	if how.archive == nil {
		if err := checkOpen(current, sd.s); err != nil {
			bad("%v", err)
		}
		kept = append(kept, current...)
		if !bytes.HasSuffix(in, kept) {
			bad("archives and current (%d bytes) are not the end of the input", len(kept))
		}
		if first == 0 && !bytes.Equal(kept, in) {
			bad("nothing was pruned, but archives and current (%d bytes) are not the input (%d bytes)", len(kept), len(in))
		}
	} else if !bytes.HasSuffix(in, current) {
		bad("current (%d bytes) is not the end of the input", len(current))
	}
	if errs != nil {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
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
		err = compareByContract(c.Stdin(), filepath.Join(dir, c.Dirs[0].Name), dirs[0], c.Dirs[0], contract[id][0])
		if err == nil {
			t.Errorf("%s: daemontools' chunk-dependent cuts pass the contract", id)
		} else {
			t.Logf("%s: daemontools' directory: %v", id, err)
		}
	}
}
