package logread

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/taikit/taikit/errtext"
	"github.com/taikit/taikit/tai64n"
)

// Bad input: a file that cannot be read or decompressed is reported as a
// *errtext.Error naming it, and every other file is still read.

// badDir is a directory of five archives and current, each holding its
// own numbered lines; the archive at index bad gets content of the test's
// making.
type badDir struct {
	dir   string
	names []string // archives, then "current"
	data  [][]byte // each file's lines
}

func newBadDir(t *testing.T, root string) *badDir {
	t.Helper()
	d := &badDir{dir: filepath.Join(root, "log")}
	if err := os.MkdirAll(d.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	base := tai64n.FromUnix(1700000000, 0, tai64n.Daemontools)
	for f := range 6 {
		var b []byte
		for i := range 500 {
			b = fmt.Appendf(b, "file %d line %03d %s\n", f, i, strings.Repeat("q", i%40))
		}
		name := fileCurrent
		if f < 5 {
			name = string(tai64n.Label{Sec: base.Sec + uint64(f)}.Append(nil)) + ".s"
		}
		d.names = append(d.names, name)
		d.data = append(d.data, b)
		if err := os.WriteFile(filepath.Join(d.dir, name), b, 0o744); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

// without returns the stream with file i left out.
func (d *badDir) without(i int) []byte {
	var out []byte
	for j, b := range d.data {
		if j != i {
			out = append(out, b...)
		}
	}
	return out
}

func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func zstdBytes(b []byte) []byte {
	enc, _ := zstd.NewWriter(nil)
	defer enc.Close()
	return enc.EncodeAll(b, nil)
}

// checkBadFile reads the directory with file bad replaced by content and
// checks that one *errtext.Error with the given operation names it, and that
// the stream is the other files in full with, in place of the bad one,
// some whole lines from its start.
// A corruption that the format cannot see before the end (deflate data
// decodes into other bytes until the checksum) gives changed lines:
// exact is false for those.
func checkBadFile(t *testing.T, d *badDir, bad int, content []byte, op string, exact bool) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(d.dir, d.names[bad]), content, 0o744); err != nil {
		t.Fatal(err)
	}
	got, errs := readAll(t, d.dir, Options{Name: "./log"})
	if len(errs) != 1 {
		t.Fatalf("errors: %v", errs)
	}
	var fe *errtext.Error
	if !errors.As(errs[0], &fe) {
		t.Fatalf("%T is not an *errtext.Error: %v", errs[0], errs[0])
	}
	if fe.Op != "unable to "+op || fe.Path != "./log/"+d.names[bad] {
		t.Fatalf("error %q: op %q path %q", fe, fe.Op, fe.Path)
	}
	if want := "unable to " + op + " ./log/" + d.names[bad] + ": "; !strings.HasPrefix(fe.Error(), want) {
		t.Fatalf("message %q does not begin with %q", fe.Error(), want)
	}
	before := d.without(bad)[:0]
	for _, b := range d.data[:bad] {
		before = append(before, b...)
	}
	var after []byte
	for _, b := range d.data[bad+1:] {
		after = append(after, b...)
	}
	if !bytes.HasPrefix(got, before) || !bytes.HasSuffix(got, after) || len(got) < len(before)+len(after) {
		t.Fatalf("the other files are not all there: got %d bytes, want %d + part + %d", len(got), len(before), len(after))
	}
	part := got[len(before) : len(got)-len(after)]
	if exact && !bytes.HasPrefix(d.data[bad], part) || (len(part) > 0 && part[len(part)-1] != '\n') {
		t.Fatalf("the bad file gave %d bytes that are not whole lines from its start", len(part))
	}
}

func TestReadCorruptArchives(t *testing.T) {
	cases := []struct {
		name    string
		content func(b []byte) []byte
		exact   bool
	}{
		{"gzip header", func(b []byte) []byte { return append([]byte{0x1f, 0x8b, 0xff, 0xff}, b...) }, true},
		{"gzip truncated", func(b []byte) []byte { g := gzipBytes(b); return g[:len(g)/2] }, true},
		{"gzip bad data", func(b []byte) []byte {
			g := gzipBytes(b)
			for i := len(g) / 2; i < len(g)/2+64; i++ {
				g[i] ^= 0x5a
			}
			return g
		}, false},
		{"gzip bad checksum", func(b []byte) []byte { g := gzipBytes(b); g[len(g)-6] ^= 1; return g }, true},
		{"zstd truncated", func(b []byte) []byte { z := zstdBytes(b); return z[:len(z)/2] }, true},
		{"zstd bad data", func(b []byte) []byte {
			z := zstdBytes(b)
			for i := 12; i < len(z)-8; i++ {
				z[i] ^= 0xa5
			}
			return z
		}, false},
		{"zstd magic only", func(b []byte) []byte { return append([]byte(nil), magicZstd...) }, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := newBadDir(t, t.TempDir())
			checkBadFile(t, d, 2, c.content(d.data[2]), "decompress", c.exact)
		})
	}
}

// TestReadArchiveNotAFile: an archive name that cannot be opened as a
// file (a directory; unreadable even for root) is reported, the rest read.
func TestReadArchiveNotAFile(t *testing.T) {
	d := newBadDir(t, t.TempDir())
	p := filepath.Join(d.dir, d.names[1])
	os.Remove(p)
	if err := os.Mkdir(p, 0o755); err != nil {
		t.Fatal(err)
	}
	got, errs := readAll(t, d.dir, Options{Name: "./log"})
	if want := d.without(1); !bytes.Equal(got, want) {
		t.Fatal(firstDiff(got, want))
	}
	if len(errs) != 1 || errs[0].Error() != "unable to open ./log/"+d.names[1]+": not a regular file: a directory" {
		t.Fatalf("errors: %v", errs)
	}
}

// unreadableEnv names the directory for the child that reads it as an
// unprivileged user (TestReadUnreadableArchive).
const unreadableEnv = "ROTATE_UNREADABLE_DIR"

// TestReadUnreadableArchive: an archive its reader may not open (mode
// 000) is reported as "access denied" and the rest is read. Root may open
// anything, so as root the check runs in a child process, this test
// binary, as the user nobody.
func TestReadUnreadableArchive(t *testing.T) {
	if dir := os.Getenv(unreadableEnv); dir != "" {
		unreadableChild(t, dir)
		return
	}
	if os.Geteuid() != 0 {
		d := newBadDir(t, t.TempDir())
		os.Chmod(filepath.Join(d.dir, d.names[3]), 0)
		unreadableChild(t, d.dir)
		return
	}
	// A tree nobody can enter, with a copy of this binary nobody can run.
	root, err := os.MkdirTemp("", "rotate-unreadable-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	os.Chmod(root, 0o755)
	d := newBadDir(t, root)
	os.Chmod(filepath.Join(d.dir, d.names[3]), 0)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(root, "rotate.test")
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^TestReadUnreadableArchive$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), unreadableEnv+"="+d.dir, "GOCOVERDIR=")
	cmd.Dir = root
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("--- PASS: TestReadUnreadableArchive")) {
		t.Fatalf("the check as nobody failed: %v\n%s", err, out)
	}
	t.Logf("as nobody:\n%s", out)
}

// unreadableChild checks, as a user who may not read archive 3 of the
// badDir at dir, that it is reported and the rest read.
func unreadableChild(t *testing.T, dir string) {
	if os.Geteuid() == 0 {
		t.Fatal("the child runs as root: the check would prove nothing")
	}
	d := &badDir{dir: dir}
	r, err := OpenDir(dir, Options{Name: "./log"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var got []byte
	var files []string
	for {
		l, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, l.Bytes...)
		if len(files) == 0 || files[len(files)-1] != r.File() {
			files = append(files, r.File())
		}
	}
	des, _ := os.ReadDir(dir)
	for _, de := range des {
		d.names = append(d.names, de.Name())
	}
	errs := r.Errors()
	if len(errs) != 1 || !strings.HasPrefix(errs[0].Error(), "unable to open ./log/@") ||
		!strings.HasSuffix(errs[0].Error(), ".s: access denied") {
		t.Fatalf("errors: %v", errs)
	}
	if len(files) != 5 || bytes.Count(got, []byte("\n")) != 5*500 || bytes.Contains(got, []byte("file 3 ")) {
		t.Fatalf("read %v, %d lines", files, bytes.Count(got, []byte("\n")))
	}
}

// TestReadTenThousandArchives: a directory of 10,000 archives is read in
// order, whole, and a Since near its end skips the rest by name.
func TestReadTenThousandArchives(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "log")
	os.Mkdir(dir, 0o755)
	base := tai64n.FromUnix(1700000000, 0, tai64n.Daemontools)
	var want []byte
	const n = 10000
	for i := range n {
		l := tai64n.Label{Sec: base.Sec + uint64(i)}
		line := fmt.Appendf(l.Append(nil), " archive %05d\n", i)
		want = append(want, line...)
		if err := os.WriteFile(filepath.Join(dir, string(l.Append(nil))+".s"), line, 0o744); err != nil {
			t.Fatal(err)
		}
	}
	got, errs := readAll(t, dir, Options{})
	if len(errs) > 0 || !bytes.Equal(got, want) {
		t.Fatalf("%v\n%s", errs, firstDiff(got, want))
	}
	since := tai64n.Label{Sec: base.Sec + n - 3}
	r, err := OpenDir(dir, Options{Since: since, HasSince: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got := readLines(t, r); got != 3 {
		t.Fatalf("%d lines since the third last, want 3", got)
	}
}
