package campaign

import (
	"bytes"
	"strings"
	"testing"
)

// TestAccountingCatchesFaults shows that the campaign's checks can fail:
// directories that lost a line outside a kill, wrote one twice, reordered
// data or broke the size contract are each rejected, and a directory as a
// kill leaves it is accepted with the right figures.
func TestAccountingCatchesFaults(t *testing.T) {
	in := newStream(3000)
	a, b := in.offs[1000]+5, in.offs[2000]+7 // two kills, each mid-line
	file := func(name string, from, to int64) dirFile { return dirFile{name: name, data: in.bytesAt(from, to)} }
	good := []dirFile{
		file("@1.s", 0, in.offs[400]),
		file("@2.u", in.offs[400], a-300), // the first process lost its last 300 bytes
		file("@3.u", a, b),                // the second lost nothing
		file("current", b, in.size()),
	}
	lc := countLines(good, in)
	// Lost: the lines overlapping the 300 bytes before a, and the line
	// holding a itself (its head lost, its tail read by the second process).
	if want := in.lineAt(a) - in.lineAt(a-300) + 1; lc.missing != want || lc.duplicated != 0 || lc.reordered != 0 {
		t.Errorf("counted %+v, want %d missing", lc, want)
	}
	whole := []dirFile{file("@1.u", 0, a), file("@2.u", a, b), file("current", b, in.size())}
	if lc := countLines(whole, in); lc.missing != 0 || lc.duplicated != 0 || lc.reordered != 0 || lc.pieces != 0 {
		t.Errorf("a stream cut mid-line between files, nothing lost: counted %d missing, %d duplicated, %d reordered, %d torn",
			lc.missing, lc.duplicated, lc.reordered, lc.pieces)
	}

	// A writer killed mid-line whose lost bytes end at a line end: the
	// next file begins with a whole line, counted as such, not glued to
	// the dead writer's piece.
	atLineStart := []dirFile{file("@1.u", 0, a), file("current", in.offs[2000], in.size())}
	if lc := countLines(atLineStart, in); lc.seen[2000] != 1 || lc.seen[999] != 1 || lc.seen[1000] != 0 {
		t.Errorf("a file after a piece: line 2000 seen %d times, 999 %d, 1000 %d; want 1, 1, 0",
			lc.seen[2000], lc.seen[999], lc.seen[1000])
	}

	dupLine := append(in.bytesAt(in.offs[1500], in.offs[1501]), in.bytesAt(in.offs[1500], b)...)
	faults := map[string]struct {
		files                               []dirFile
		lost, duplicated, reordered, pieces bool
	}{
		"a line lost inside a file": {files: []dirFile{file("@1.s", 0, in.offs[400]), file("current", in.offs[401], in.size())}, lost: true},
		"a line written twice":      {files: []dirFile{file("@1.u", 0, in.offs[1501]), {name: "current", data: dupLine}, file("x", b, in.size())}, duplicated: true},
		"the end of the input lost": {files: []dirFile{file("current", 0, in.size()-1)}, pieces: true, lost: true},
		"files in the wrong order":  {files: []dirFile{file("@2.s", in.offs[400], in.size()), file("@1.s", 0, in.offs[400])}, reordered: true},
		"a byte changed":            {files: []dirFile{{name: "current", data: bytes.Replace(in.bytesAt(0, in.size()), []byte("1500 "), []byte("1500!"), 1)}}, lost: true, pieces: true},
	}
	for name, f := range faults {
		lc := countLines(f.files, in)
		if (lc.missing > 0) != f.lost || (lc.duplicated > 0) != f.duplicated || (lc.reordered > 0) != f.reordered || (lc.pieces > 0) != f.pieces {
			t.Errorf("%s: counted %d missing, %d duplicated, %d reordered, %d torn", name, lc.missing, lc.duplicated, lc.reordered, lc.pieces)
		}
	}

	const s = 4096
	cuts := map[string]dirFile{
		"over s":                {name: "@4.s", data: []byte(strings.Repeat("x", s+1))},
		"past its cut":          {name: "@5.s", data: []byte(strings.Repeat("y", s-1500) + "\n" + strings.Repeat("z", 100) + "\n")},
		"closed early mid-line": {name: "@6.u", data: []byte(strings.Repeat("x", 1000) + "\n" + strings.Repeat("w", 1500))},
	}
	for name, f := range cuts {
		if err := checkFileCut(f, s); err == nil && name != "closed early mid-line" {
			t.Errorf("size contract: a file %s accepted", name)
		} else if err != nil && name == "closed early mid-line" {
			t.Errorf("size contract: %v", err) // closed early (by a kill or SIGALRM) mid-line: fine
		}
	}
}
