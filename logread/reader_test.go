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
	"time"

	"github.com/taikit/taikit/rotate"
	"github.com/taikit/taikit/tai64n"
)

// readAll reads the directory as one stream and returns the bytes.
func readAll(t testing.TB, dir string, opts Options) ([]byte, []error) {
	t.Helper()
	r, err := OpenDir(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []byte
	for {
		l, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, l.Bytes...)
	}
	return out, r.Errors()
}

// stampedLines returns n lines "@<stamp> line <i> <pad>\n" with stamps
// one millisecond apart from base.
func stampedLines(base time.Time, from, n int) []byte {
	var b bytes.Buffer
	for i := from; i < from+n; i++ {
		l := tai64n.FromTime(base.Add(time.Duration(i)*time.Millisecond), tai64n.Daemontools)
		b.Write(l.Append(nil))
		fmt.Fprintf(&b, " line %06d %s\n", i, strings.Repeat("y", i%50))
	}
	return b.Bytes()
}

func TestReadDirWrittenByDir(t *testing.T) {
	for _, c := range []rotate.Compression{{}, {Method: rotate.Gzip}, {Method: rotate.Zstd}} {
		t.Run(c.Method.String(), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "log")
			var w warnings
			o := testOptions(&w)
			o.MaxSize, o.Keep, o.Compression = 4096, 1000, c
			d := mustOpen(t, dir, o)
			in := stampedLines(time.Now(), 0, 3000)
			write(t, d, in)
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}
			got, errs := readAll(t, dir, Options{})
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			if !bytes.Equal(got, in) {
				t.Fatalf("stream differs: got %d bytes, want %d", len(got), len(in))
			}
		})
	}
}

func TestReadMissingDirectory(t *testing.T) {
	_, err := OpenDir(filepath.Join(t.TempDir(), "nope"), Options{Name: "./nope"})
	if err == nil || err.Error() != "unable to open directory ./nope: file does not exist" {
		t.Fatalf("err = %v", err)
	}
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatal("not ErrNotExist")
	}
}
