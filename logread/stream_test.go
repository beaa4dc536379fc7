package logread

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/taikit/taikit/errtext"
	"github.com/taikit/taikit/tai64n"
)

// readSource reads src to its end, with Next or NextLines, and returns
// what it gave and the errors it kept.
func readSource(t *testing.T, src Source, blocks bool) ([]byte, []error) {
	t.Helper()
	defer src.Close()
	var out []byte
	for {
		var b []byte
		var err error
		if blocks {
			var ls Lines
			ls, err = src.NextLines()
			b = ls.Bytes
		} else {
			var l Line
			l, err = src.Next()
			b = l.Bytes
		}
		if err == io.EOF {
			return out, src.Errors()
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b...)
	}
}

// A file, plain or compressed, and the same bytes as a stream read in odd
// pieces, give back their content, a last line without a newline included.
func TestReadFileAndStream(t *testing.T) {
	content := append(stampedLines(time.Now(), 0, 5000), "no newline at the end"...)
	for _, c := range []struct {
		name   string
		stored []byte
	}{
		{"plain", content},
		{"gzip", gzipBytes(content)},
		{"zstd", zstdBytes(content)},
		{"empty", nil},
		{"one byte like gzip's magic", []byte{0x1f}},
		{"three bytes like zstd's magic", []byte{0x28, 0xb5, 0x2f}},
	} {
		want := content
		if len(c.stored) < 4 {
			want = c.stored
		}
		path := filepath.Join(t.TempDir(), "log")
		if err := os.WriteFile(path, c.stored, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, blocks := range []bool{false, true} {
			r, err := OpenFile(path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got, errs := readSource(t, r, blocks); len(errs) > 0 || !bytes.Equal(got, want) {
				t.Fatalf("%s, file (NextLines %v): %v\n%s", c.name, blocks, errs, firstDiff(got, want))
			}
			s := NewStream(iotest.OneByteReader(bytes.NewReader(c.stored)), Options{})
			if got, errs := readSource(t, s, blocks); len(errs) > 0 || !bytes.Equal(got, want) {
				t.Fatalf("%s, stream (NextLines %v): %v\n%s", c.name, blocks, errs, firstDiff(got, want))
			}
		}
	}
}

// A stream whose first line is shorter than a magic number is not held up:
// its line comes while the writer still holds the pipe open.
func TestStreamShortFirstLine(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	r := NewStream(pr, Options{})
	defer r.Close()
	pw.Write([]byte("a\n"))
	got := make(chan []byte, 1)
	go func() {
		l, _ := r.Next()
		got <- bytes.Clone(l.Bytes)
	}()
	select {
	case b := <-got:
		if string(b) != "a\n" {
			t.Fatalf("got %q", b)
		}
	case <-time.After(30 * time.Second):
		pw.Close()
		<-got
		t.Fatal("the first line waited for more bytes")
	}
}

// A stream that cannot be decompressed is named in an *errtext.Error; a
// missing file is an error of OpenFile.
func TestStreamErrors(t *testing.T) {
	content := stampedLines(time.Now(), 0, 2000)
	for _, c := range []struct {
		name, want string
		stored     []byte
	}{
		{"gzip header", "unable to decompress standard input: ", []byte{0x1f, 0x8b, 0, 0, 0}},
		{"gzip cut short", "unable to decompress standard input: ", gzipBytes(content)[:3000]},
		{"zstd cut short", "unable to decompress standard input: ", zstdBytes(content)[:3000]},
	} {
		got, errs := readSource(t, NewStream(bytes.NewReader(c.stored), Options{}), true)
		var fe *errtext.Error
		if len(errs) != 1 || !errors.As(errs[0], &fe) || !strings.HasPrefix(errs[0].Error(), c.want) {
			t.Fatalf("%s: errors %v", c.name, errs)
		}
		if !bytes.HasPrefix(content, got) {
			t.Fatalf("%s: gave what was not there: %q", c.name, got)
		}
	}
	missing := filepath.Join(t.TempDir(), "nope")
	_, err := OpenFile(missing, Options{})
	if err == nil || err.Error() != "unable to read "+missing+": file does not exist" {
		t.Fatalf("missing file: %v", err)
	}
	r := NewStream(iotest.ErrReader(errors.New("boom")), Options{Name: "the pipe"})
	if _, errs := readSource(t, r, false); len(errs) != 1 || errs[0].Error() != "unable to read the pipe: boom" {
		t.Fatalf("a failing stream: %v", errs)
	}
}

// Since and Until bound a file's lines as they bound a directory's: Since
// found by binary search in a plain file, by reading in a compressed one
// and in a stream.
func TestReadFileRange(t *testing.T) {
	base := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	content := stampedLines(base, 0, 20000) // 20 s, a line a millisecond
	since := tai64n.FromTime(base.Add(7*time.Second), tai64n.Daemontools)
	until := tai64n.FromTime(base.Add(9*time.Second), tai64n.Daemontools)
	var want []byte
	for l := range bytes.Lines(content) {
		if st, _ := tai64n.ParsePrefix(l); !st.Before(since) && !until.Before(st) {
			want = append(want, l...)
		}
	}
	opts := Options{Since: since, HasSince: true, Until: until, HasUntil: true}
	for _, stored := range [][]byte{content, gzipBytes(content), zstdBytes(content)} {
		path := filepath.Join(t.TempDir(), "log")
		if err := os.WriteFile(path, stored, 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := OpenFile(path, opts)
		if err != nil {
			t.Fatal(err)
		}
		if got, errs := readSource(t, r, true); len(errs) > 0 || !bytes.Equal(got, want) {
			t.Fatalf("file: %v\n%s", errs, firstDiff(got, want))
		}
		if got, errs := readSource(t, NewStream(bytes.NewReader(stored), opts), false); len(errs) > 0 || !bytes.Equal(got, want) {
			t.Fatalf("stream: %v\n%s", errs, firstDiff(got, want))
		}
	}
}

// A stream has no Cursor, and neither follows nor takes one.
func TestStreamCursor(t *testing.T) {
	var c Cursor
	r := NewStream(strings.NewReader("one\ntwo\n"), Options{Follow: true, Cursor: &c})
	defer r.Close()
	for range 2 {
		if _, err := r.Next(); err != nil {
			t.Fatal(err)
		}
	}
	if r.Cursor() != (Cursor{}) || r.CursorAfter(2) != (Cursor{}) {
		t.Fatal("a stream gave a Cursor")
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("after the end, following: %v", err)
	}
}

// Files merge by their stamps as directories do.
func TestMergeFiles(t *testing.T) {
	base := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	all := stampedLines(base, 0, 3000)
	var parts [3][]byte
	i := 0
	for l := range bytes.Lines(all) {
		parts[i%3] = append(parts[i%3], l...)
		i++
	}
	var srcs []Source
	for k, p := range parts {
		stored := p
		if k == 1 {
			stored = zstdBytes(p)
		}
		path := filepath.Join(t.TempDir(), "log")
		if err := os.WriteFile(path, stored, 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := OpenFile(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		srcs = append(srcs, r)
	}
	if got, errs := readSource(t, Merge(srcs...), true); len(errs) > 0 || !bytes.Equal(got, all) {
		t.Fatalf("%v\n%s", errs, firstDiff(got, all))
	}
}
