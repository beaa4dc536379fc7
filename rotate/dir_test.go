package rotate

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestOpenFreshLayoutAndModes(t *testing.T) {
	// ML01, ML03: lock 0600, state 0644 empty, current 0644 while open and
	// 0744 after a clean stop; the directory 0700.
	dir := filepath.Join(t.TempDir(), "d")
	var w warnings
	d := mustOpen(t, dir, testOptions(&w))
	if got := modes(listDir(t, dir)); got != "current 0644, lock 0600, state 0644" {
		t.Fatalf("while open: %s", got)
	}
	write(t, d, []byte("hello\nworld\n"))
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	es := listDir(t, dir)
	if got := modes(es); got != "current 0744, lock 0600, state 0644" {
		t.Fatalf("after Close: %s", got)
	}
	if string(es[0].data) != "hello\nworld\n" {
		t.Fatalf("current = %q", es[0].data)
	}
	if st, _ := os.Stat(dir); st.Mode().Perm() != 0o700 {
		t.Fatalf("directory mode %o", st.Mode().Perm())
	}
	if len(w.all()) != 0 {
		t.Fatalf("warnings: %q", w.all())
	}
}

func TestOpenErrors(t *testing.T) {
	tmp := t.TempDir()
	// ML30: only the last component is created.
	_, err := Open(filepath.Join(tmp, "nodir", "sub"), Options{Name: "./nodir/sub"})
	if err == nil || err.Error() != "unable to open directory ./nodir/sub: file does not exist" {
		t.Fatalf("missing parent: %v", err)
	}
	// ML28/P08: a second writer is refused with multilog's words.
	d := mustOpen(t, filepath.Join(tmp, "d"), Options{})
	defer d.Close()
	_, err = Open(filepath.Join(tmp, "d"), Options{Name: "./d"})
	if err == nil || err.Error() != "unable to lock directory ./d: temporary failure" {
		t.Fatalf("second writer: %v", err)
	}
}

// checkCuts checks the size contract on every archive: no file exceeds s,
// and a file ends at its first line end at or after s−2000 bytes (or at
// exactly s inside a line).
func checkCuts(t *testing.T, s int, files [][]byte) {
	t.Helper()
	for i, f := range files {
		if len(f) > s {
			t.Fatalf("archive %d has %d bytes > %d", i, len(f), s)
		}
		if first := bytes.IndexByte(f[min(len(f), max(0, s-cutMargin-1)):], '\n'); first >= 0 {
			end := max(0, s-cutMargin-1) + first + 1
			if end != len(f) {
				t.Fatalf("archive %d has %d bytes; its first line end at or after %d is at %d", i, len(f), s-cutMargin, end)
			}
		} else if len(f) != s {
			t.Fatalf("archive %d has %d bytes and no line end after %d: it should have %d", i, len(f), s-cutMargin, s)
		}
	}
}

func TestCutsWhateverTheChunking(t *testing.T) {
	input := genLines(100)
	// Lines of every length, some longer than s, and a last partial line.
	r := rand.New(rand.NewPCG(1, 2))
	var mixed []byte
	for i := 0; i < 300; i++ {
		mixed = append(mixed, bytes.Repeat([]byte{'a' + byte(i%26)}, r.IntN(6000))...)
		mixed = append(mixed, '\n')
	}
	mixed = append(mixed, "partial"...)
	for _, in := range [][]byte{input, mixed} {
		chunks := []int{len(in), 7, 100, 512, 1024, 5000}
		if len(in) < 100000 {
			chunks = append(chunks, 1) // a write(2) per byte: only on the small input
		}
		for _, chunk := range chunks {
			dir := filepath.Join(t.TempDir(), "d")
			var w warnings
			o := testOptions(&w)
			o.MaxSize, o.Keep = 4096, 1000
			d := mustOpen(t, dir, o)
			for p := in; len(p) > 0; {
				k := min(chunk, len(p))
				write(t, d, p[:k])
				p = p[k:]
			}
			d.Close()
			_, files := archives(t, dir)
			checkCuts(t, 4096, files)
			cur, _ := os.ReadFile(filepath.Join(dir, "current"))
			if got := bytes.Join(append(files, cur), nil); !bytes.Equal(got, in) {
				t.Fatalf("chunk %d: the directory holds %d bytes, not the %d written", chunk, len(got), len(in))
			}
		}
	}
}

func TestLongLineSplitAtMaxSize(t *testing.T) {
	// ML19: a 10000-byte line with s4096 gives 4096 + 4096 + 1809, as multilog.
	dir := filepath.Join(t.TempDir(), "d")
	d := mustOpen(t, dir, Options{MaxSize: 4096, Keep: 100})
	write(t, d, append(bytes.Repeat([]byte("Q"), 10000), '\n'))
	d.Close()
	_, files := archives(t, dir)
	cur, _ := os.ReadFile(filepath.Join(dir, "current"))
	if len(files) != 2 || len(files[0]) != 4096 || len(files[1]) != 4096 || len(cur) != 1809 {
		t.Fatalf("archives %d, sizes %d %d, current %d", len(files), len(files[0]), len(files[1]), len(cur))
	}
}

func TestKeepCountsAsMultilog(t *testing.T) {
	// ML16: n3 keeps two archives, the newest data.
	dir := filepath.Join(t.TempDir(), "d")
	d := mustOpen(t, dir, Options{MaxSize: 4096, Keep: 3})
	write(t, d, genLines(100))
	d.Close()
	_, files := archives(t, dir)
	cur, _ := os.ReadFile(filepath.Join(dir, "current"))
	tail := bytes.Join(append(files, cur), nil)
	if len(files) != 2 || len(files[0]) != 2100 || len(files[1]) != 2100 || !bytes.HasSuffix(genLines(100), tail) {
		t.Fatalf("%d archives; they must be the last two full files", len(files))
	}

	// ML31: junk "@" names of 25+ bytes count and go first, except those at
	// or above "@z"; shorter ones are not archives. So one archive is left.
	dir = filepath.Join(t.TempDir(), "d")
	os.Mkdir(dir, 0o700)
	for _, n := range []string{"@0000000000000000000000000junk", "@zzzzzzzzzzzzzzzzzzzzzzzzzzzz", "@short"} {
		os.WriteFile(filepath.Join(dir, n), nil, 0o644)
	}
	d = mustOpen(t, dir, Options{MaxSize: 4096, Keep: 3})
	write(t, d, genLines(100))
	d.Close()
	names, files := archives(t, dir)
	if len(names) != 3 || !strings.HasSuffix(names[0], ".s") || names[1] != "@short" ||
		names[2] != "@zzzzzzzzzzzzzzzzzzzzzzzzzzzz" || len(files[0]) != 2100 {
		t.Fatalf("entries: %q", names)
	}
}

// TestUnremovableArchiveDoesNotStopLogging: multilog pauses for ever when
// the oldest "archive" is a directory (P10), since unlink fails with
// EISDIR; taikit says so once and goes on, and never removes the
// directory, empty or not.
func TestUnremovableArchiveDoesNotStopLogging(t *testing.T) {
	for _, inside := range []string{"x", ""} {
		dir := filepath.Join(t.TempDir(), "d")
		os.MkdirAll(filepath.Join(dir, "@000000000000000000000000.s", inside), 0o700)
		var w warnings
		o := testOptions(&w)
		o.MaxSize, o.Keep, o.Name = 4096, 2, "./d"
		d := mustOpen(t, dir, o)
		write(t, d, genLines(400)) // many rotations, each pruning
		d.Close()
		names, _ := archives(t, dir)
		if len(names) != 2 {
			t.Fatalf("archives %q", names)
		}
		if st, err := os.Stat(filepath.Join(dir, "@000000000000000000000000.s")); err != nil || !st.IsDir() {
			t.Errorf("the directory named like an archive (holding %q) was removed: %v", inside, err)
		}
		want := []string{"unable to remove ./d/@000000000000000000000000.s: is a directory; leaving it"}
		if ws := w.all(); !slices.Equal(ws, want) {
			t.Fatalf("warnings %q; want %q, once", ws, want)
		}
	}
}

func TestRecoveryDecisions(t *testing.T) {
	type file struct {
		name, data string
		mode       os.FileMode
	}
	cases := []struct {
		id   string
		pre  []file
		want string // entries after Open+Close with "new\n" written, modes
		data map[string]string
	}{
		{"ML23 crashed current", []file{{"current", "old\n", 0o644}, {"state", "S\n", 0o644}},
			"@.u 0644, current 0744, lock 0600, state 0644", map[string]string{".u": "old\n", "state": "", "current": "new\n"}},
		{"ML24 processed complete", []file{{"current", "old\n", 0o644}, {"previous", "prev\n", 0o644}, {"processed", "proc\n", 0o744}, {"newstate", "NS\n", 0o644}},
			"@.s 0744, @.u 0644, current 0744, lock 0600, state 0644", map[string]string{".s": "proc\n", ".u": "old\n"}},
		{"ML25 processed incomplete", []file{{"current", "old\n", 0o644}, {"previous", "prev\n", 0o644}, {"processed", "proc\n", 0o644}},
			"@.u 0644, @.u 0644, current 0744, lock 0600, state 0644", nil},
		{"ML26 clean", []file{{"current", "old\n", 0o744}, {"previous", "prev\n", 0o644}, {"processed", "proc\n", 0o644}, {"state", "S\n", 0o644}},
			"current 0744, lock 0600, previous 0644, processed 0644, state 0644", map[string]string{"current": "old\nnew\n", "state": "S\n"}},
		{"ML27 empty crashed current", []file{{"current", "", 0o644}},
			"@.u 0644, current 0744, lock 0600, state 0644", map[string]string{".u": ""}},
		{"only u+x counts", []file{{"current", "old\n", 0o655}},
			"@.u 0655, current 0744, lock 0600, state 0644", nil},
		{"0700 is clean", []file{{"current", "old\n", 0o700}},
			"current 0744, lock 0600", map[string]string{"current": "old\nnew\n"}},
	}
	for _, c := range cases {
		t.Run(c.id, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "d")
			os.Mkdir(dir, 0o700)
			for _, f := range c.pre {
				p := filepath.Join(dir, f.name)
				os.WriteFile(p, []byte(f.data), f.mode)
				os.Chmod(p, f.mode)
			}
			d := mustOpen(t, dir, Options{})
			write(t, d, []byte("new\n"))
			d.Close()
			es := listDir(t, dir)
			if got := modes(es); got != c.want {
				t.Fatalf("entries %s, want %s", got, c.want)
			}
			for _, e := range es {
				key := e.name
				if strings.HasPrefix(key, "@") {
					key = key[25:]
				}
				if want, ok := c.data[key]; ok && string(e.data) != want {
					t.Errorf("%s = %q, want %q", e.name, e.data, want)
				}
			}
		})
	}
}

func TestArchiveNamesOnlyGrow(t *testing.T) {
	// A clock stepped back must not give new archives older names.
	dir := filepath.Join(t.TempDir(), "d")
	os.Mkdir(dir, 0o700)
	future := "@4000000070000000000000ff.s" // 2029
	os.WriteFile(filepath.Join(dir, future), []byte("future\n"), 0o744)
	d := mustOpen(t, dir, Options{MaxSize: 4096, Keep: 100})
	write(t, d, genLines(100))
	d.Close()
	names, _ := archives(t, dir)
	if names[0] != future || len(names) != 5 {
		t.Fatalf("archives %q: new ones must sort after %s", names, future)
	}
}

// TestWait: after Rotate and Wait, the rotated file is an archive
// (compressed here, so the job had work to do) and nothing of the rotation
// is left in progress.
func TestWait(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	var w warnings
	o := testOptions(&w)
	o.Compression = Compression{Method: Zstd}
	d := mustOpen(t, dir, o)
	defer d.Close()
	if err := d.Wait(); err != nil { // no rotation yet: nothing to wait for
		t.Fatal(err)
	}
	write(t, d, []byte("one\n"))
	if err := d.Rotate(); err != nil {
		t.Fatal(err)
	}
	if err := d.Wait(); err != nil {
		t.Fatal(err)
	}
	names, data := archives(t, dir)
	if len(names) != 1 || !strings.HasSuffix(names[0], ".s") || !bytes.HasPrefix(data[0], []byte{0x28, 0xb5, 0x2f, 0xfd}) {
		t.Fatalf("archives %q", names)
	}
	for _, n := range []string{filePrevious, fileProcessed} {
		if _, err := os.Lstat(filepath.Join(dir, n)); err == nil {
			t.Fatalf("%s left after Wait", n)
		}
	}
}
