package logread

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/taikit/taikit/tai64n"
)

// benchDir writes a directory of n uncompressed archives of about size
// bytes each, of stamped lines one millisecond apart, and current; it
// returns the total size and the stamps of the first and last lines.
func benchDir(b *testing.B, n, size int) (dir string, total int64, first, last tai64n.Label) {
	b.Helper()
	dir = filepath.Join(b.TempDir(), "log")
	if err := os.Mkdir(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	base := tai64n.FromUnix(1700000000, 0, tai64n.Daemontools)
	stamp := func(i int) tai64n.Label {
		ns := uint64(i) * 1e6
		return tai64n.Label{Sec: base.Sec + ns/1e9, Nano: uint32(ns % 1e9)}
	}
	line := 0
	buf := make([]byte, 0, size+200)
	for f := 0; f <= n; f++ {
		buf = buf[:0]
		for len(buf) < size {
			buf = stamp(line).Append(buf)
			buf = fmt.Appendf(buf, " info: request %d served in 3ms from 10.0.0.1 user=alice path=/api/v1/items\n", line)
			line++
		}
		name := fileCurrent
		if f < n {
			name = string(stamp(line-1).Append(nil)) + ".s"
		}
		if err := os.WriteFile(filepath.Join(dir, name), buf, 0o744); err != nil {
			b.Fatal(err)
		}
		total += int64(len(buf))
	}
	return dir, total, stamp(0), stamp(line - 1)
}

// BenchmarkReadStream reads a directory of uncompressed archives as one
// stream, line by line: the cost of the Reader over the files.
func BenchmarkReadStream(b *testing.B) {
	dir, total, _, _ := benchDir(b, 64, 1<<20)
	b.SetBytes(total)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		r, err := OpenDir(dir, Options{})
		if err != nil {
			b.Fatal(err)
		}
		var n int64
		for {
			l, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n += int64(len(l.Bytes))
		}
		r.Close()
		if n != total {
			b.Fatalf("read %d bytes of %d", n, total)
		}
	}
}

// BenchmarkReadWindow reads a one-minute Since/Until window from the
// middle of a directory of 1,000 archives: archives outside it are passed
// by name, the start in its first archive found by binary search. The
// target is well under 50 ms per window however large the directory.
func BenchmarkReadWindow(b *testing.B) {
	dir, _, first, last := benchDir(b, 1000, 256<<10)
	mid := tai64n.Label{Sec: first.Sec + (last.Sec-first.Sec)/2, Nano: 123456789}
	until := tai64n.Label{Sec: mid.Sec + 60, Nano: mid.Nano}
	var windowBytes int64
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		r, err := OpenDir(dir, Options{Since: mid, HasSince: true, Until: until, HasUntil: true})
		if err != nil {
			b.Fatal(err)
		}
		var n, lines int64
		for {
			l, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n += int64(len(l.Bytes))
			lines++
		}
		r.Close()
		if lines != 60000 { // one line a millisecond
			b.Fatalf("%d lines in the window, want 60000", lines)
		}
		windowBytes = n
	}
	b.SetBytes(windowBytes)
}
