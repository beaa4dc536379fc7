package logread

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/taikit/taikit/internal/testref"
	"github.com/taikit/taikit/tai64n"
)

// Directories written by the reference programs (daemontools' multilog,
// s6-log and runit's svlogd), with and without a compressing processor,
// read back as one stream equal to their input, line for line.

// refInput returns n numbered lines of varied length.
func refInput(n int) []byte {
	var b []byte
	for i := range n {
		b = fmt.Appendf(b, "ref line %05d %s\n", i, strings.Repeat("z", i%61))
	}
	return b
}

// readStamped reads dir to its end and returns the lines with their
// "@<stamp> " prefix removed, checking that every line has one and that
// the stamps never go back.
func readStamped(t *testing.T, dir string) []byte {
	t.Helper()
	r, err := OpenDir(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []byte
	var last tai64n.Label
	for {
		l, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !l.Stamped || len(l.Bytes) < stampLen+1 || l.Bytes[stampLen] != ' ' {
			t.Fatalf("line without a stamp from %s: %q", r.File(), l.Bytes)
		}
		if l.Stamp.Before(last) {
			t.Fatalf("stamp %s after %s in %s", l.Stamp.Append(nil), last.Append(nil), r.File())
		}
		last = l.Stamp
		out = append(out, l.Bytes[stampLen+1:]...)
	}
	if errs := r.Errors(); len(errs) > 0 {
		t.Fatal(errs)
	}
	return out
}

// countArchives returns how many archives dir holds and how many of them
// are gzip-compressed.
func countArchives(t *testing.T, dir string) (n, gz int) {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range des {
		if _, _, ok := parseArchiveName(de.Name()); !ok {
			continue
		}
		n++
		b, _ := os.ReadFile(filepath.Join(dir, de.Name()))
		if bytes.HasPrefix(b, magicGzip) {
			gz++
		}
	}
	return n, gz
}

func TestReadReferenceDirectories(t *testing.T) {
	in := refInput(2500)
	cases := []struct {
		name    string
		prog    string
		config  string // svlogd's config file
		args    []string
		stamped bool
		gzip    bool
	}{
		{"multilog", interopMultilog, "", []string{"s4096", "n1000", "./d"}, false, false},
		{"multilog t", interopMultilog, "", []string{"t", "s4096", "n1000", "./d"}, true, false},
		{"multilog !gzip", interopMultilog, "", []string{"t", "s4096", "n1000", "!gzip", "./d"}, true, true},
		{"s6-log", interopS6Log, "", []string{"t", "n1000", "s4096", "./d"}, true, false},
		{"s6-log !gzip", interopS6Log, "", []string{"n1000", "s4096", "!gzip", "./d"}, false, true},
		{"svlogd", interopSvlogd, "s4096\nn1000\n", []string{"-t", "./d"}, true, false},
		{"svlogd !gzip", interopSvlogd, "s4096\nn1000\n!gzip\n", []string{"./d"}, false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			testref.Need(t, c.prog)
			tmp := t.TempDir()
			dir := filepath.Join(tmp, "d")
			if c.config != "" {
				if err := os.Mkdir(dir, 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, "config"), []byte(c.config), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			interopMustRun(t, tmp, in, c.prog, c.args...)
			n, gz := countArchives(t, dir)
			if n < 2 {
				t.Fatalf("%s left %d archives: the test needs several", c.prog, n)
			}
			if c.gzip && gz == 0 {
				t.Fatalf("%s left no gzip archive", c.prog)
			}
			var got []byte
			if c.stamped {
				got = readStamped(t, dir)
			} else {
				var errs []error
				got, errs = readAll(t, dir, Options{})
				if len(errs) > 0 {
					t.Fatal(errs)
				}
			}
			if !bytes.Equal(got, in) {
				t.Fatalf("%d archives (%d gzip): %s", n, gz, firstDiff(got, in))
			}
		})
	}
}
