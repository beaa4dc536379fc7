package logread

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/taikit/taikit/tai64n"
)

// cutDir is a directory whose ".u" archive (crash recovery's, from a
// writer killed mid-line) ends without a newline, followed by a ".s"
// archive that ends mid-line too (a line split at the size cap), and
// current, which continues that line and then has one of its own.
func cutDir(t *testing.T) (dir string, s [4]tai64n.Label) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "log")
	os.Mkdir(dir, 0o755)
	for i := range s {
		s[i] = tai64n.Label{Sec: 0x4000000069000000 + uint64(i)}
	}
	st := func(i int) string { return string(s[i].Append(nil)) }
	files := map[string]string{
		st(1) + ".u": st(0) + " one\n" + st(1) + " cut mid-li",
		st(2) + ".s": st(2) + " split at the cap, li",
		fileCurrent:  "ne continued\n" + st(3) + " three\n",
	}
	for n, c := range files {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(c), 0o744); err != nil {
			t.Fatal(err)
		}
	}
	return dir, s
}

// TestCutAtEndOfUArchive: the unfinished last line of a ".u" archive ends
// there (Cut), and the next file's first line is a line of its own, with
// its stamp; the end of a ".s" archive is continued by the next file.
func TestCutAtEndOfUArchive(t *testing.T) {
	dir, s := cutDir(t)
	st := func(i int) string { return string(s[i].Append(nil)) }
	type line struct {
		text    string
		stamped bool
		cut     bool
	}
	want := []line{
		{st(0) + " one\n", true, false},
		{st(1) + " cut mid-li", true, true},
		{st(2) + " split at the cap, li", true, false},
		{"ne continued\n", false, false},
		{st(3) + " three\n", true, false},
	}
	r, err := OpenDir(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var got []line
	for {
		l, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, line{string(l.Bytes), l.Stamped, l.Cut})
	}
	if len(got) != len(want) {
		t.Fatalf("Next: %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Next: line %d: %+v, want %+v", i, got[i], want[i])
		}
	}

	// NextLines: the piece comes as a block of its own, with Cut.
	r2, err := OpenDir(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	cuts := 0
	for {
		b, err := r2.NextLines()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if b.Cut {
			cuts++
			if string(b.Bytes) != st(1)+" cut mid-li" {
				t.Fatalf("NextLines: Cut on %q", b.Bytes)
			}
		}
	}
	if cuts != 1 {
		t.Fatalf("NextLines: %d blocks with Cut, want 1", cuts)
	}

	// Merged with another directory: after the cut piece, the merge
	// chooses again by stamp instead of waiting for the rest of the line.
	other := filepath.Join(t.TempDir(), "other")
	os.Mkdir(other, 0o755)
	os.WriteFile(filepath.Join(other, fileCurrent), []byte(st(1)+" other\n"), 0o744)
	m, err := OpenMerged([]string{dir, other}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var merged []string
	for {
		l, err := m.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		merged = append(merged, string(l.Bytes))
	}
	if len(merged) != 6 || merged[1] != st(1)+" cut mid-li" || merged[2] != st(1)+" other\n" {
		t.Fatalf("merged: %q", merged)
	}
}
