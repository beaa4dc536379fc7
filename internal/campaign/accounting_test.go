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
	runs := func() []instanceRun {
		return []instanceRun{{from: 0, to: a}, {from: a, to: b}, {final: true, from: b, to: in.size()}}
	}
	file := func(name string, from, to int64) dirFile { return dirFile{name: name, data: in.bytesAt(from, to)} }
	good := []dirFile{
		file("@1.s", 0, in.offs[400]),
		file("@2.u", in.offs[400], a-300), // the first process lost its last 300 bytes
		file("@3.u", a, b),                // the second lost nothing
		file("current", b, in.size()),
	}
	rs := runs()
	if err := accountRuns(good, in, rs); err != nil {
		t.Fatalf("a directory as kills leave it: %v", err)
	}
	if rs[0].wrote != a-300 || rs[1].wrote != b-a || rs[2].wrote != in.size()-b {
		t.Errorf("wrote %d %d %d", rs[0].wrote, rs[1].wrote, rs[2].wrote)
	}
	lc := countLines(good, in)
	// Lost: the lines overlapping the 300 bytes before a, and the line
	// holding a itself (its head lost, its tail read by the second process).
	if want := in.lineAt(a) - in.lineAt(a-300) + 1; lc.missing != want || lc.duplicated != 0 || lc.outOfOrder != 0 {
		t.Errorf("counted %+v, want %d missing", lc, want)
	}

	// A writer killed mid-line whose lost bytes end at a line end: the
	// next file begins with a whole line, counted as such, not glued to
	// the dead writer's piece.
	atLineStart := []dirFile{file("@1.u", 0, a), file("current", in.offs[2000], in.size())}
	if lc := countLines(atLineStart, in); lc.seen[2000] != 1 || lc.seen[999] != 1 || lc.seen[1000] != 0 {
		t.Errorf("a file after a piece: line 2000 seen %d times, 999 %d, 1000 %d; want 1, 1, 0",
			lc.seen[2000], lc.seen[999], lc.seen[1000])
	}

	// A killed writer's piece and the next process's first piece that
	// make a line by chance (as seen in TestKill9): counted whole, and
	// gluedByChance says so.
	big := newStream(100000)
	from, end, to := int64(3371720), int64(3394316), int64(3436516)
	byChance := []instanceRun{{from: from, to: to, wrote: end - from}, {final: true, from: to, to: big.size(), wrote: big.size() - to}}
	chanceFiles := []dirFile{{name: "@1.u", data: big.bytesAt(from, end)}, {name: "current", data: big.bytesAt(to, big.size())}}
	if lc, glued := countLines(chanceFiles, big), gluedByChance(big, byChance); lc.seen[98190] != 1 || len(glued) != 1 || glued[0] != 98190 {
		t.Errorf("a piece and a piece that make line 98190: seen %d times, gluedByChance %v; want 1, [98190]", lc.seen[98190], glued)
	}
	if glued := gluedByChance(in, rs); len(glued) != 0 {
		t.Errorf("gluedByChance %v where nothing is glued", glued)
	}

	dupLine := append(in.bytesAt(in.offs[1500], in.offs[1501]), in.bytesAt(in.offs[1500], b)...)
	faults := map[string][]dirFile{
		"a line lost inside a process's data": {good[0], file("@2.u", in.offs[401], a-300), good[2], good[3]},
		"a line written twice":                {good[0], good[1], {name: "@3.u", data: append(in.bytesAt(a, in.offs[1500]), dupLine...)}, good[3]},
		"the end of the input lost":           {good[0], good[1], good[2], file("current", b, in.size()-1)},
		"files in the wrong order":            {good[1], good[0], good[2], good[3]},
		"a byte changed":                      {good[0], good[1], {name: "@3.u", data: bytes.Replace(good[2].data, []byte("1500 "), []byte("1500!"), 1)}, good[3]},
	}
	for name, files := range faults {
		if err := accountRuns(files, in, runs()); err == nil {
			t.Errorf("%s: accepted", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
	if lc := countLines(faults["a line written twice"], in); lc.duplicated != 1 || lc.outOfOrder != 1 {
		t.Errorf("a line written twice: counted %+v", lc)
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
