package logread

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/taikit/taikit/tai64n"
)

// mapDir writes a directory whose first archive is large enough to be
// mapped (lines, then one line longer than the read buffer, then lines),
// a small second archive and "current"; it returns the directory and the
// first archive's path.
func mapDir(t *testing.T) (string, string) {
	t.Helper()
	dir := t.TempDir()
	var b bytes.Buffer
	for i := 0; b.Len() < 2*readBufSize; i++ {
		fmt.Fprintf(&b, "@4000000065000000%08x line %d of the first archive\n", i, i)
	}
	b.WriteString("@4000000065100000000000aa " + strings.Repeat("long", readBufSize/2) + "\n")
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(&b, "@4000000065200000%08x after the long line %d\n", i, i)
	}
	first := filepath.Join(dir, "@4000000065300000000000aa.s")
	files := map[string]string{
		first: b.String(),
		filepath.Join(dir, "@4000000065400000000000aa.s"): "@4000000065400000000000aa small\n",
		filepath.Join(dir, "current"):                     "@4000000065500000000000aa current\n",
	}
	for name, data := range files {
		if err := os.WriteFile(name, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir, first
}

type mapBlock struct {
	text   string
	stamp  string
	cursor Cursor
}

func readMapBlocks(t *testing.T, dir string, opts Options) []mapBlock {
	t.Helper()
	r, err := OpenDir(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []mapBlock
	eachBlock(t, r, func(l Lines) {
		out = append(out, mapBlock{string(l.Bytes), string(l.Stamp.Append(nil)), r.Cursor()})
	})
	return out
}

// eachBlock gives fn every block of r to its end, inside Guard (a block
// may be a mapping).
func eachBlock(t *testing.T, r *Reader, fn func(Lines)) {
	t.Helper()
	if err := Guard(func() {
		for {
			l, err := r.NextLines()
			if err == io.EOF {
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			fn(l)
		}
	}); err != nil {
		t.Fatal(err)
	}
}

// mapLine is a line as readMapBlocks' blocks give it: whole, joined from
// its pieces, with the stamp it inherits (its own is in its text).
type mapLine struct {
	text, inherits string
	pieces         int
}

// mapLines splits blocks into their lines, joining the pieces of a line
// longer than a block (blocks that do not end with a newline, and the one
// after each).
func mapLines(t *testing.T, blocks []mapBlock) []mapLine {
	t.Helper()
	var out []mapLine
	var part *mapLine
	for _, b := range blocks {
		stamp := b.stamp
		text := b.text
		if part != nil {
			part.text += text
			part.pieces++
			if !strings.HasSuffix(text, "\n") {
				continue
			}
			out = append(out, *part)
			part = nil
			continue
		}
		for text != "" {
			nl := strings.IndexByte(text, '\n')
			if nl < 0 {
				part = &mapLine{text: text, inherits: stamp, pieces: 1}
				if len(text) > readBufSize {
					t.Fatalf("a piece of %d bytes, more than the buffer", len(text))
				}
				break
			}
			out = append(out, mapLine{text: text[:nl+1], inherits: stamp})
			if st, ok := tai64n.ParsePrefix([]byte(text)); ok {
				stamp = string(st.Append(nil))
			}
			text = text[nl+1:]
		}
	}
	if part != nil {
		t.Fatal("the stream ended inside a line")
	}
	return out
}

// With Map, a directory reads as without it: the same lines with the same
// stamps, and the same cursor at the end, in blocks of up to mapWindow
// bytes (a line longer than the buffer given whole in a block, or in the
// buffer's pieces when it is longer than the window too); the large
// archive did come from a mapping.
func TestMapReadsAsRead(t *testing.T) {
	dir, _ := mapDir(t)
	plain := readMapBlocks(t, dir, Options{})
	want := mapLines(t, plain)
	large := mapWindow
	for _, window := range []int{large, readBufSize, 3 * readBufSize / 2} {
		t.Run(fmt.Sprint(window), func(t *testing.T) {
			defer func(w int) { mapWindow = w }(mapWindow)
			mapWindow = window
			mapped := readMapBlocks(t, dir, Options{Map: true})
			got := mapLines(t, mapped)
			if len(got) != len(want) {
				t.Fatalf("%d lines mapped, %d read", len(got), len(want))
			}
			for i := range want {
				if got[i].text != want[i].text || got[i].inherits != want[i].inherits {
					t.Fatalf("line %d differs: mapped %.40q (stamp %s), read %.40q (%s)", i, got[i].text, got[i].inherits, want[i].text, want[i].inherits)
				}
			}
			if a, b := mapped[len(mapped)-1].cursor, plain[len(plain)-1].cursor; a != b {
				t.Errorf("cursor at the end: mapped %+v, read %+v", a, b)
			}
			for _, b := range mapped {
				if len(b.text) > window {
					t.Errorf("a block of %d bytes, more than the window of %d", len(b.text), window)
				}
			}
			if window == large && len(mapped) >= len(plain) {
				t.Errorf("%d blocks mapped, %d read: the window is not used", len(mapped), len(plain))
			}
		})
	}

	r, err := OpenDir(dir, Options{Map: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := Guard(func() {
		if _, err := r.NextLines(); err != nil {
			t.Fatal(err)
		}
	}); err != nil {
		t.Fatal(err)
	}
	if r.src == nil || r.src.m == nil {
		t.Fatal("the large archive was not mapped")
	}
}

// An archive truncated while mapped makes the bytes past its new end fault
// when touched: Guard returns a *FaultError naming the archive, in the
// goroutine that touched them and in one that gets the error passed on,
// and the program lives.
func TestMapTruncatedFaultsIntoError(t *testing.T) {
	dir, first := mapDir(t)
	// The first block is a part of the archive: the rest is still to read.
	defer func(w int) { mapWindow = w }(mapWindow)
	mapWindow = readBufSize
	r, err := OpenDir(dir, Options{Map: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var stale []byte
	if err := Guard(func() {
		l, err := r.NextLines()
		if err != nil {
			t.Fatal(err)
		}
		stale = l.Bytes
	}); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(first, 0); err != nil {
		t.Fatal(err)
	}
	check := func(what string, err error) {
		t.Helper()
		var fe *FaultError
		if !errors.As(err, &fe) || fe.Path != first {
			t.Fatalf("%s: %v, want a *FaultError for %s", what, err, first)
		}
		if !strings.Contains(fe.Error(), "truncated") {
			t.Errorf("%s: message %q", what, fe.Error())
		}
	}
	// The Reader's own look at the rest of the file faults.
	check("NextLines", Guard(func() { r.NextLines() }))
	// So does the caller's look at a block given before.
	check("the block", Guard(func() { bytes.Count(stale, []byte("x")) }))
	// And a helper goroutine's, passed on.
	check("a helper", Guard(func() {
		var fault error
		done := make(chan struct{})
		go func() {
			defer close(done)
			fault = Guard(func() { bytes.IndexByte(stale, 0) })
		}()
		<-done
		if fault != nil {
			panic(fault)
		}
	}))
}

// Guard does not swallow what is not a fault on a mapping.
func TestGuardPassesOtherPanics(t *testing.T) {
	for name, f := range map[string]func(){
		"a panic":     func() { panic("mine") },
		"nil pointer": func() { var p *int; _ = *p },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: Guard returned", name)
				}
			}()
			err := Guard(f)
			t.Errorf("%s: Guard returned %v", name, err)
		}()
	}
}
