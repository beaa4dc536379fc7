package logread

import (
	"bytes"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/taikit/taikit/tai64n"
)

// blockLine is a line of the stream as NextLines' caller sees it: the
// bytes, and the stamp it belongs to, worked out from the stamp carried in.
type blockLine struct {
	text  string
	stamp tai64n.Label
}

// readBlocks reads the stream with NextLines and splits the blocks into
// lines, checking what every block promises: it comes from one file,
// begins at a line start unless it continues a piece, and ends with a
// newline unless it is a piece.
func readBlocks(t *testing.T, r *Reader) []blockLine {
	t.Helper()
	var out []blockLine
	inPiece := false
	for {
		b, err := r.NextLines()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(b.Bytes) == 0 {
			t.Fatal("empty block")
		}
		if i := bytes.IndexByte(b.Bytes, '\n'); inPiece && i >= 0 && i+1 < len(b.Bytes) {
			t.Fatalf("a block holds the rest of a line and lines after it: %.80q", b.Bytes)
		}
		carry := b.Stamp
		rest := b.Bytes
		for len(rest) > 0 {
			i := bytes.IndexByte(rest, '\n')
			line := rest
			if i >= 0 {
				line = rest[:i+1]
			}
			rest = rest[len(line):]
			if inPiece {
				out[len(out)-1].text += string(line)
			} else {
				if st, ok := tai64n.ParsePrefix(line); ok {
					carry = st
				}
				out = append(out, blockLine{string(line), carry})
			}
			inPiece = line[len(line)-1] != '\n'
			if inPiece && len(rest) > 0 {
				t.Fatalf("a piece of a line in the middle of a block")
			}
		}
	}
}

func TestNextLinesMatchesModel(t *testing.T) {
	d := buildRangeDir(t)
	bounds := d.bounds()
	cases := [][2]*tai64n.Label{{nil, nil}}
	for i := range bounds {
		cases = append(cases, [2]*tai64n.Label{&bounds[i], nil}, [2]*tai64n.Label{nil, &bounds[i]})
		j := (i * 7) % len(bounds)
		cases = append(cases, [2]*tai64n.Label{&bounds[i], &bounds[j]})
	}
	for _, c := range cases {
		var o Options
		if c[0] != nil {
			o.Since, o.HasSince = *c[0], true
		}
		if c[1] != nil {
			o.Until, o.HasUntil = *c[1], true
		}
		r, err := OpenDir(d.dir, o)
		if err != nil {
			t.Fatal(err)
		}
		got := readBlocks(t, r)
		r.Close()
		var want []blockLine
		for _, l := range d.lines {
			if c[0] != nil && l.stamp.Before(*c[0]) {
				continue
			}
			if c[1] != nil && c[1].Before(l.stamp) {
				break
			}
			want = append(want, blockLine{string(l.text), l.stamp})
		}
		if len(got) != len(want) {
			t.Fatalf("since %v until %v: %d lines, want %d", c[0], c[1], len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("since %v until %v: line %d = %q stamp %v, want %q stamp %v",
					c[0], c[1], i, got[i].text, got[i].stamp, want[i].text, want[i].stamp)
			}
		}
	}
}

// TestNextLinesPieces: a line longer than the read buffer and a file
// ending without a newline come in pieces, as with Next, and the stamps
// carried across them stay right.
func TestNextLinesPieces(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "log")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s1 := tai64n.FromUnix(1700000000, 0, tai64n.Daemontools)
	s2 := tai64n.FromUnix(1700000001, 0, tai64n.Daemontools)
	long := append(s2.Append(nil), ' ')
	long = append(long, bytes.Repeat([]byte("x"), 3*readBufSize)...)
	var a []byte
	a = append(append(a, s1.Append(nil)...), " first\n  unstamped\n"...)
	a = append(append(a, long...), '\n')
	a = append(a, "after the long line\n"...)
	a = append(a, "no newline at the end"...)
	name := string(s2.Append(nil)) + ".s"
	if err := os.WriteFile(filepath.Join(dir, name), a, 0o644); err != nil {
		t.Fatal(err)
	}
	cur := "more in current\n"
	later := "  a later line of current\n"
	if err := os.WriteFile(filepath.Join(dir, fileCurrent), []byte(cur+later), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := OpenDir(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got := readBlocks(t, r)
	want := []blockLine{
		{string(s1.Append(nil)) + " first\n", s1},
		{"  unstamped\n", s1},
		{string(long) + "\n", s2},
		{"after the long line\n", s2},
		// A file's last line without a newline is joined here with the
		// next file's first line, as cat would join them.
		{"no newline at the end" + cur, s2},
		// A block never holds the rest of a line and lines after it.
		{later, s2},
	}
	if len(got) != len(want) {
		t.Fatalf("%d lines, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("line %d: %.60q %v, want %.60q %v", i, got[i].text, got[i].stamp, want[i].text, want[i].stamp)
		}
	}
}

// TestCursorAfterInsideBlocks: a Reader started from CursorAfter(n), n any
// line end inside any block, gives exactly the rest of the stream, in
// plain and compressed archives and in current.
func TestCursorAfterInsideBlocks(t *testing.T) {
	d := buildRangeDir(t)
	var whole []byte
	for _, l := range d.lines {
		whole = append(whole, l.text...)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	r, err := OpenDir(d.dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var pos int // bytes of the stream before the current block
	tried := 0
	for {
		b, err := r.NextLines()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		// Line ends in the block, and 0.
		ends := []int{0}
		for i, c := range b.Bytes {
			if c == '\n' {
				ends = append(ends, i+1)
			}
		}
		for _, n := range []int{ends[rng.IntN(len(ends))], 0, len(b.Bytes)} {
			c := r.CursorAfter(n)
			text, _ := c.MarshalText()
			var back Cursor
			if err := back.UnmarshalText(text); err != nil {
				t.Fatal(err)
			}
			rest, errs := readAll(t, d.dir, Options{Cursor: &back})
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			if !bytes.Equal(rest, whole[pos+n:]) {
				t.Fatalf("from CursorAfter(%d) in %s at %d: %d bytes, want %d", n, r.File(), pos, len(rest), len(whole)-pos-n)
			}
			tried++
		}
		pos += len(b.Bytes)
	}
	if pos != len(whole) || tried < 9 {
		t.Fatalf("read %d bytes of %d, %d cursors tried", pos, len(whole), tried)
	}
}
