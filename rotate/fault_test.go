package rotate

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/taikit/taikit/errtext"
)

// This file injects the failures a real disk cannot produce on demand (EIO
// on fsync, a failing rename or link) through Options.OpenFS, and checks
// that every run-time failure is reported in daemontools' words, paused,
// retried, counted in Stats and never loses or duplicates a byte; that
// Interrupt ends a pause at once; that Open's failures read like
// multilog's; and, for the Lossy policy, that what is dropped is counted
// exactly and recorded by a marker line.

// faultOp names an operation of the fault FS.
type faultOp string

const (
	fopOpenFS  faultOp = "openfs" // opening the directory itself (Options.OpenFS)
	fopOpen    faultOp = "open"   // FS.OpenFile
	fopStat    faultOp = "stat"
	fopLstat   faultOp = "lstat"
	fopRename  faultOp = "rename"
	fopLink    faultOp = "link"
	fopRemove  faultOp = "remove"
	fopChmod   faultOp = "chmod"   // FS.Chmod
	fopReadDir faultOp = "readdir" // FS.ReadDirNames
	fopSync    faultOp = "sync"    // File.Sync
	fopWrite   faultOp = "write"   // File.Write
	fopFchmod  faultOp = "fchmod"  // File.Chmod
)

// fault fails calls of one operation on matching names: the nth matching
// call and the times−1 after it.
type fault struct {
	op      faultOp
	name    string // path.Match pattern; rename and link match either name; "" matches all
	nth     int    // first failing matching call, counted from 1 (0 means 1)
	times   int    // consecutive failing calls: 0 means 1, negative for ever
	err     syscall.Errno
	partial bool // write: write the first half of the bytes, then fail

	seen, failed int
}

func (f *fault) matches(names []string) bool {
	if f.name == "" {
		return true
	}
	for _, n := range names {
		if ok, _ := path.Match(f.name, n); ok {
			return true
		}
	}
	return false
}

// faultWriteEvent is one File.Write on the fault FS.
type faultWriteEvent struct {
	at   time.Time
	name string
	want int
	n    int
	err  error
}

// faultFS wraps the real directory (OpenDirFS) and fails what its faults
// say. It also records every File.Write, for the full-disk tests.
type faultFS struct {
	FS
	mu     sync.Mutex
	faults []*fault
	umask  fs.FileMode // cleared from the mode of created files, as a process umask would be
	plain  bool        // hand out Files that are only File (no io.ReaderAt, no OSFile)
	writes []faultWriteEvent
}

func newFaultFS(faults ...*fault) *faultFS { return &faultFS{faults: faults} }

// open is the Options.OpenFS of the fault FS.
func (ff *faultFS) open(dir string) (FS, error) {
	if f := ff.hit(fopOpenFS, dir); f != nil {
		return nil, &fs.PathError{Op: "openat", Path: dir, Err: f.err}
	}
	inner, err := OpenDirFS(dir)
	if err != nil {
		return nil, err
	}
	ff.mu.Lock()
	ff.FS = inner
	ff.mu.Unlock()
	return ff, nil
}

// hit counts a call and returns the fault that fails it, if any.
func (ff *faultFS) hit(op faultOp, names ...string) *fault {
	ff.mu.Lock()
	defer ff.mu.Unlock()
	var failing *fault
	for _, f := range ff.faults {
		if f.op != op || !f.matches(names) {
			continue
		}
		f.seen++
		nth, times := max(f.nth, 1), f.times
		if times == 0 {
			times = 1
		}
		if failing == nil && f.seen >= nth && (times < 0 || f.seen < nth+times) {
			f.failed++
			failing = f
		}
	}
	return failing
}

// set replaces the faults (nil: no more failures); counting starts afresh.
func (ff *faultFS) set(faults ...*fault) {
	ff.mu.Lock()
	ff.faults = faults
	ff.mu.Unlock()
}

func (ff *faultFS) writeLog() []faultWriteEvent {
	ff.mu.Lock()
	defer ff.mu.Unlock()
	return slices.Clone(ff.writes)
}

func (ff *faultFS) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	if f := ff.hit(fopOpen, name); f != nil {
		return nil, &fs.PathError{Op: "openat", Path: name, Err: f.err}
	}
	if flag&os.O_CREATE != 0 {
		perm &^= ff.umask
	}
	file, err := ff.FS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	ffile := &faultFile{File: file, fs: ff, name: name}
	if ff.plain {
		return faultPlainFile{ffile}, nil
	}
	return ffile, nil
}

func (ff *faultFS) Stat(name string) (fs.FileInfo, error) {
	if f := ff.hit(fopStat, name); f != nil {
		return nil, &fs.PathError{Op: "statat", Path: name, Err: f.err}
	}
	return ff.FS.Stat(name)
}

func (ff *faultFS) Lstat(name string) (fs.FileInfo, error) {
	if f := ff.hit(fopLstat, name); f != nil {
		return nil, &fs.PathError{Op: "lstatat", Path: name, Err: f.err}
	}
	return ff.FS.Lstat(name)
}

func (ff *faultFS) Remove(name string) error {
	if f := ff.hit(fopRemove, name); f != nil {
		return &fs.PathError{Op: "unlinkat", Path: name, Err: f.err}
	}
	return ff.FS.Remove(name)
}

func (ff *faultFS) Rename(oldname, newname string) error {
	if f := ff.hit(fopRename, oldname, newname); f != nil {
		return &os.LinkError{Op: "renameat", Old: oldname, New: newname, Err: f.err}
	}
	return ff.FS.Rename(oldname, newname)
}

func (ff *faultFS) Link(oldname, newname string) error {
	if f := ff.hit(fopLink, oldname, newname); f != nil {
		return &os.LinkError{Op: "linkat", Old: oldname, New: newname, Err: f.err}
	}
	return ff.FS.Link(oldname, newname)
}

func (ff *faultFS) Chmod(name string, mode fs.FileMode) error {
	if f := ff.hit(fopChmod, name); f != nil {
		return &fs.PathError{Op: "fchmodat", Path: name, Err: f.err}
	}
	return ff.FS.Chmod(name, mode)
}

func (ff *faultFS) ReadDirNames() ([]string, error) {
	if f := ff.hit(fopReadDir, "."); f != nil {
		return nil, &fs.PathError{Op: "readdirent", Path: ".", Err: f.err}
	}
	return ff.FS.ReadDirNames()
}

// faultFile is a File of the fault FS, named by the name it was opened
// with (a "current" renamed to "previous" keeps the name "current").
type faultFile struct {
	File
	fs   *faultFS
	name string
}

func (f *faultFile) Write(p []byte) (int, error) {
	var n int
	var err error
	if flt := f.fs.hit(fopWrite, f.name); flt != nil {
		if flt.partial && len(p) > 1 {
			n, err = f.File.Write(p[:len(p)/2])
		}
		if err == nil {
			err = &fs.PathError{Op: "write", Path: f.name, Err: flt.err}
		}
	} else {
		n, err = f.File.Write(p)
	}
	f.fs.mu.Lock()
	f.fs.writes = append(f.fs.writes, faultWriteEvent{time.Now(), f.name, len(p), n, err})
	f.fs.mu.Unlock()
	return n, err
}

func (f *faultFile) Sync() error {
	if flt := f.fs.hit(fopSync, f.name); flt != nil {
		return &fs.PathError{Op: "sync", Path: f.name, Err: flt.err}
	}
	return f.File.Sync()
}

func (f *faultFile) Chmod(mode fs.FileMode) error {
	if flt := f.fs.hit(fopFchmod, f.name); flt != nil {
		return &fs.PathError{Op: "chmod", Path: f.name, Err: flt.err}
	}
	return f.File.Chmod(mode)
}

// ReadAt passes through: Dir reads the last byte of a continued current
// with it.
func (f *faultFile) ReadAt(b []byte, off int64) (int, error) {
	r, ok := f.File.(io.ReaderAt)
	if !ok {
		return 0, errors.ErrUnsupported
	}
	return r.ReadAt(b, off)
}

// OSFile lets a processor inherit the file.
func (f *faultFile) OSFile() *os.File {
	o, _ := f.File.(*os.File)
	return o
}

// faultPlainFile has the methods of File and nothing else.
type faultPlainFile struct{ File }

var (
	_ OSFile      = (*faultFile)(nil)
	_ io.ReaderAt = (*faultFile)(nil)
	_ FS          = (*faultFS)(nil)
)

// faultOptions: the fault FS, multilog's "./d" naming, s4096, a large n, a
// short pause and collected warnings.
func faultOptions(w *warnings, ff *faultFS) Options {
	o := testOptions(w)
	o.Name, o.MaxSize, o.Keep, o.Pause = "./d", 4096, 1000, 2*time.Millisecond
	if ff != nil {
		o.OpenFS = ff.open
	}
	return o
}

// faultLines returns lines from..to−1 of 100 bytes each: the number, zero
// padded to 6 digits, then "x" up to the newline. No line holds "@".
func faultLines(from, to int) []byte {
	var b bytes.Buffer
	for i := from; i < to; i++ {
		fmt.Fprintf(&b, "%06d%s\n", i, strings.Repeat("x", 93))
	}
	return b.Bytes()
}

// faultChunks splits p into pieces of 1..maxLen bytes, reproducibly.
func faultChunks(p []byte, seed uint64, maxLen int) [][]byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	var out [][]byte
	for len(p) > 0 {
		k := min(len(p), 1+r.IntN(maxLen))
		out = append(out, p[:k])
		p = p[k:]
	}
	return out
}

func faultWriteChunks(t *testing.T, d *Dir, p []byte, seed uint64, maxLen int) {
	t.Helper()
	for _, c := range faultChunks(p, seed, maxLen) {
		write(t, d, c)
	}
}

func faultClose(t *testing.T, d *Dir) {
	t.Helper()
	if err := d.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// faultUnpack decompresses an archive recognised by its magic number.
func faultUnpack(t *testing.T, b []byte) []byte {
	t.Helper()
	switch {
	case bytes.HasPrefix(b, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		dec, err := zstd.NewReader(nil)
		if err != nil {
			t.Fatal(err)
		}
		defer dec.Close()
		out, err := dec.DecodeAll(b, nil)
		if err != nil {
			t.Fatalf("zstd archive: %v", err)
		}
		return out
	case bytes.HasPrefix(b, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		out, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("gzip archive: %v", err)
		}
		return out
	}
	return b
}

// faultDirFiles returns the archives, decompressed, in name order, then current.
func faultDirFiles(t *testing.T, dir string) [][]byte {
	t.Helper()
	_, files := archives(t, dir)
	for i := range files {
		files[i] = faultUnpack(t, files[i])
	}
	cur, err := os.ReadFile(filepath.Join(dir, "current"))
	if err != nil {
		t.Fatal(err)
	}
	return append(files, cur)
}

// faultStream is the directory's log: archives then current, concatenated.
func faultStream(t *testing.T, dir string) []byte {
	t.Helper()
	return bytes.Join(faultDirFiles(t, dir), nil)
}

func faultCheckStream(t *testing.T, dir string, want []byte) {
	t.Helper()
	got := faultStream(t, dir)
	if !bytes.Equal(got, want) {
		i := 0
		for i < min(len(got), len(want)) && got[i] == want[i] {
			i++
		}
		t.Fatalf("the directory holds %d bytes, not the %d written; first difference at %d: got %q, want %q",
			len(got), len(want), i, got[i:min(len(got), i+40)], want[i:min(len(want), i+40)])
	}
}

// faultCheckWarnings wants exactly these warnings, in order, and one pause each.
func faultCheckWarnings(t *testing.T, d *Dir, w *warnings, want ...string) {
	t.Helper()
	got := w.all()
	if !slices.Equal(got, want) {
		t.Fatalf("warnings:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	if p := d.Stats().Pauses; p != int64(len(want)) {
		t.Fatalf("Stats().Pauses = %d, want %d (one per warning)", p, len(want))
	}
}

func faultMode(t *testing.T, p string) fs.FileMode {
	t.Helper()
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

func faultRepeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// faultWaitSettled waits until the rotated file has become an archive (the job
// beside the writer is done) and there are n archives.
func faultWaitSettled(t *testing.T, dir string, n int) {
	t.Helper()
	faultWaitFor(t, fmt.Sprintf("%d archives and no previous", n), func() bool {
		_, err := os.Lstat(filepath.Join(dir, "previous"))
		return errors.Is(err, fs.ErrNotExist) && len(faultArchiveNames(t, dir)) == n
	})
}

// faultArchiveNames lists the archives by name alone, safe while a job renames
// and removes files beside the test (listDir is not).
func faultArchiveNames(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		if strings.HasPrefix(de.Name(), "@") {
			names = append(names, de.Name())
		}
	}
	return names
}

// waitFor polls cond for up to 10 s.
func faultWaitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after 10 s waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func faultCountWarnings(w *warnings, text string) int {
	n := 0
	for _, s := range w.all() {
		if s == text {
			n++
		}
	}
	return n
}

// --- run-time failures under the Block policy ---

// TestFaultSyncEIOAtRotation: the fsync of the file being rotated fails
// once (whichever descriptor the Dir fsyncs it through: the first fsync of
// a run is the rotation's, Close's comes last).
func TestFaultSyncEIOAtRotation(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	var w warnings
	ff := newFaultFS(&fault{op: fopSync, err: syscall.EIO})
	d := mustOpen(t, dir, faultOptions(&w, ff))
	in := faultLines(0, 30) // 21 lines close the first file at 2100 bytes
	write(t, d, in)
	faultClose(t, d)
	const multilog = "unable to write ./d/current to disk, pausing: input/output error"
	ws := w.all()
	if len(ws) != 1 || d.Stats().Pauses != 1 {
		t.Fatalf("warnings %q, Pauses %d: want one of each", ws, d.Stats().Pauses)
	}
	if r := d.Stats().Rotations; r != 1 {
		t.Fatalf("Rotations = %d, want 1", r)
	}
	if got := modes(listDir(t, dir)); got != "@.s 0744, current 0744, lock 0600, state 0644" {
		t.Fatalf("entries: %s", got)
	}
	files := faultDirFiles(t, dir)
	if len(files[0]) != 2100 {
		t.Fatalf("the archive has %d bytes, want 2100", len(files[0]))
	}
	faultCheckStream(t, dir, in)
	if ws[0] == "unable to write ./d/previous to disk, pausing: input/output error" {
		t.Fatalf("(§8.6, §18.1) the fsync of the rotated file happens after the rename, in the job "+
			"(settlePrevious), and its warning reads %q where multilog's reads %q", ws[0], multilog)
	}
	if ws[0] != multilog {
		t.Fatalf("warning %q, want %q", ws[0], multilog)
	}
}

func TestFaultRenameEXDEVTwice(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	var w warnings
	ff := newFaultFS(&fault{op: fopRename, name: "current", times: 2, err: syscall.EXDEV})
	d := mustOpen(t, dir, faultOptions(&w, ff))
	in := faultLines(0, 100)
	faultWriteChunks(t, d, in, 1, 700)
	faultClose(t, d)
	w2 := "unable to rename current to previous in directory ./d, pausing: cross-device link"
	faultCheckWarnings(t, d, &w, w2, w2)
	names, files := archives(t, dir)
	if r := d.Stats().Rotations; r != 4 || len(names) != 4 {
		t.Fatalf("Rotations = %d, archives %q: want exactly one archive per rotation, 4 of each", r, names)
	}
	for _, n := range names {
		if !strings.HasSuffix(n, ".s") {
			t.Fatalf("archive %s: want only .s archives", n)
		}
	}
	checkCuts(t, 4096, files)
	faultCheckStream(t, dir, in)
	if _, err := os.Lstat(filepath.Join(dir, "previous")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("previous left behind: %v", err)
	}
}

func TestFaultLinkEACCES(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	var w warnings
	ff := newFaultFS(&fault{op: fopLink, name: "@*", err: syscall.EACCES})
	d := mustOpen(t, dir, faultOptions(&w, ff))
	in := faultLines(0, 30)
	write(t, d, in)
	faultClose(t, d)
	ws := w.all()
	re := regexp.MustCompile(`^unable to link to \./d/(@[0-9a-f]{24}\.s), pausing: access denied$`)
	if len(ws) != 1 || !re.MatchString(ws[0]) {
		t.Fatalf("warnings %q, want one matching %s", ws, re)
	}
	if p := d.Stats().Pauses; p != 1 {
		t.Fatalf("Pauses = %d, want 1", p)
	}
	failed := re.FindStringSubmatch(ws[0])[1]
	names, _ := archives(t, dir)
	if len(names) != 1 || names[0] <= failed {
		t.Fatalf("archives %q: want one, named after the name that failed (%s)", names, failed)
	}
	faultCheckStream(t, dir, in)
}

func TestFaultCreateCurrentFails(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	var w warnings
	// The first open of "current" is Open's; the second, the rotation's.
	ff := newFaultFS(&fault{op: fopOpen, name: "current", nth: 2, times: 2, err: syscall.EMFILE})
	d := mustOpen(t, dir, faultOptions(&w, ff))
	in := faultLines(0, 30)
	write(t, d, in)
	if m := faultMode(t, filepath.Join(dir, "current")); m != 0o644 {
		t.Fatalf("new current has mode %04o while open, want 0644", m)
	}
	faultClose(t, d)
	w1 := "unable to create ./d/current, pausing: process cannot open more files"
	faultCheckWarnings(t, d, &w, w1, w1)
	if got := modes(listDir(t, dir)); got != "@.s 0744, current 0744, lock 0600, state 0644" {
		t.Fatalf("entries: %s", got)
	}
	faultCheckStream(t, dir, in)
}

// TestFaultFchmodNewCurrent: multilog opens the new current, then retries
// fchmod(0644) on that descriptor with "unable to set mode of <dir>/current"
// (§8.6). The mode must end up 0644 whatever the umask.
func TestFaultFchmodNewCurrent(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	var w warnings
	// The first fchmod of a "current" is Open's; the second, the rotation's.
	ff := newFaultFS(&fault{op: fopFchmod, name: "current", nth: 2, err: syscall.EIO})
	ff.umask = 0o077 // files are created 0600, as under umask 077
	d := mustOpen(t, dir, faultOptions(&w, ff))
	in := faultLines(0, 30)
	write(t, d, in)
	mode := faultMode(t, filepath.Join(dir, "current"))
	faultClose(t, d)
	faultCheckStream(t, dir, in)
	if got := modes(listDir(t, dir)); got != "@.s 0744, current 0744, lock 0600, state 0644" {
		t.Fatalf("entries: %s", got)
	}
	ws := w.all()
	if d.Stats().Pauses != int64(len(ws)) || len(ws) != 1 {
		t.Fatalf("warnings %q, Pauses %d: want one of each", ws, d.Stats().Pauses)
	}
	var bugs []string
	if want := "unable to set mode of ./d/current, pausing: input/output error"; ws[0] != want {
		bugs = append(bugs, fmt.Sprintf("the warning is %q, multilog says %q", ws[0], want))
	}
	if mode != 0o644 {
		bugs = append(bugs, fmt.Sprintf("the new current keeps mode %04o while open, want 0644: create() "+
			"retries the open, finds the file it made (EEXIST) and opens it without fchmod", mode))
	}
	if len(bugs) > 0 {
		t.Fatal("after a failed fchmod of the new current: " + strings.Join(bugs, "; "))
	}
}

func TestFaultChmodPreviousFails(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	var w warnings
	ff := newFaultFS(&fault{op: fopChmod, name: "previous", times: 2, err: syscall.EPERM})
	d := mustOpen(t, dir, faultOptions(&w, ff))
	in := faultLines(0, 30)
	write(t, d, in)
	faultClose(t, d)
	w1 := "unable to set mode of ./d/previous, pausing: permission denied"
	faultCheckWarnings(t, d, &w, w1, w1)
	if got := modes(listDir(t, dir)); got != "@.s 0744, current 0744, lock 0600, state 0644" {
		t.Fatalf("entries: %s", got)
	}
	faultCheckStream(t, dir, in)
}

func TestFaultWriteEIOOnce(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	var w warnings
	ff := newFaultFS(&fault{op: fopWrite, name: "current", nth: 3, err: syscall.EIO})
	d := mustOpen(t, dir, faultOptions(&w, ff))
	in := faultLines(0, 100)
	faultWriteChunks(t, d, in, 2, 300)
	faultClose(t, d)
	faultCheckWarnings(t, d, &w, "unable to write to ./d/current, pausing: input/output error")
	_, files := archives(t, dir)
	checkCuts(t, 4096, files)
	faultCheckStream(t, dir, in)
}

// TestFaultPartialWriteThenENOSPC: write(2) takes half the bytes, then the
// disk is full; the rest must be written after the pause, once (P06).
func TestFaultPartialWriteThenENOSPC(t *testing.T) {
	for _, c := range []struct {
		name          string
		nth, times    int
		seed          uint64
		maxChunk, max int
	}{
		{"once", 2, 1, 3, 700, 4096},
		{"three in a row", 5, 3, 4, 700, 4096},
		{"in long lines", 3, 4, 5, 5000, 4096},
		{"every write for a while", 1, 40, 6, 1500, 8192},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "d")
			var w warnings
			ff := newFaultFS(&fault{op: fopWrite, name: "current", nth: c.nth, times: c.times, err: syscall.ENOSPC, partial: true})
			o := faultOptions(&w, ff)
			o.MaxSize = int64(c.max)
			d := mustOpen(t, dir, o)
			in := faultLines(0, 200)
			if c.maxChunk > 1000 { // lines longer than s as well
				in = append(in, bytes.Repeat([]byte("L"), 9000)...)
				in = append(in, '\n')
				in = append(in, faultLines(200, 220)...)
			}
			faultWriteChunks(t, d, in, c.seed, c.maxChunk)
			faultClose(t, d)
			faultCheckWarnings(t, d, &w, faultRepeat("unable to write to ./d/current, pausing: out of disk space", c.times)...)
			failures, partials := 0, 0
			for _, e := range ff.writeLog() {
				if e.err != nil {
					failures++
					if e.n > 0 {
						partials++
					}
				}
			}
			if failures != c.times || partials == 0 {
				t.Fatalf("%d failed writes (%d partial), want %d", failures, partials, c.times)
			}
			_, files := archives(t, dir)
			checkCuts(t, c.max, files)
			faultCheckStream(t, dir, in)
		})
	}
}

// TestFaultPausesCountEveryPause: many kinds of failure in one run; every
// pause is one warning and one count in Stats.
func TestFaultPausesCountEveryPause(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	var w warnings
	ff := newFaultFS(
		&fault{op: fopSync, nth: 2, err: syscall.EIO}, // the second rotation's fsync
		&fault{op: fopRename, name: "current", nth: 3, times: 2, err: syscall.EXDEV},
		&fault{op: fopLink, name: "@*", nth: 2, err: syscall.EACCES},
		&fault{op: fopOpen, name: "current", nth: 4, err: syscall.ENFILE},
		&fault{op: fopChmod, name: "previous", nth: 1, err: syscall.EPERM},
		&fault{op: fopWrite, name: "current", nth: 10, times: 2, err: syscall.EIO},
		&fault{op: fopWrite, name: "current", nth: 20, err: syscall.ENOSPC, partial: true},
	)
	d := mustOpen(t, dir, faultOptions(&w, ff))
	in := faultLines(0, 150)
	faultWriteChunks(t, d, in, 7, 400)
	faultClose(t, d)
	ws := w.all()
	if p := d.Stats().Pauses; p != int64(len(ws)) || len(ws) != 9 {
		t.Fatalf("Pauses = %d, %d warnings, want 9 of each:\n%s", p, len(ws), strings.Join(ws, "\n"))
	}
	want := map[string]int{
		"unable to write ./d/current to disk, pausing: input/output error":                  1,
		"unable to rename current to previous in directory ./d, pausing: cross-device link": 2,
		"unable to link to ./d/@…s, pausing: access denied":                                 1,
		"unable to create ./d/current, pausing: system cannot open more files":              1,
		"unable to set mode of ./d/previous, pausing: permission denied":                    1,
		"unable to write to ./d/current, pausing: input/output error":                       2,
		"unable to write to ./d/current, pausing: out of disk space":                        1,
	}
	stamp := regexp.MustCompile(`@[0-9a-f]{24}\.`)
	for _, s := range ws {
		// The fsync's wording is TestFaultSyncEIOAtRotation's business.
		s = strings.Replace(s, "./d/previous to disk", "./d/current to disk", 1)
		want[stamp.ReplaceAllString(s, "@…")]--
	}
	for k, v := range want {
		if v != 0 {
			t.Errorf("warning %q: %d too few", k, v)
		}
	}
	names, files := archives(t, dir)
	if r := d.Stats().Rotations; r != int64(len(names)) {
		t.Fatalf("Rotations = %d, archives %d", r, len(names))
	}
	checkCuts(t, 4096, files)
	faultCheckStream(t, dir, in)
}

// --- Interrupt ---

// TestInterruptDuringWritePause: a write that keeps failing pauses for
// ever; Interrupt makes Write return ErrInterrupted at once, and Close still
// leaves a clean current (0744) holding what was written.
func TestInterruptDuringWritePause(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	var w warnings
	ff := newFaultFS(&fault{op: fopWrite, name: "current", nth: 2, times: -1, err: syscall.EIO})
	o := faultOptions(&w, ff)
	o.Pause = 10 * time.Second
	d := mustOpen(t, dir, o)
	write(t, d, []byte("kept\n"))
	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	go func() {
		n, err := d.Write([]byte("lost\n"))
		done <- result{n, err}
	}()
	const warn = "unable to write to ./d/current, pausing: input/output error"
	faultWaitFor(t, "the write warning", func() bool { return faultCountWarnings(&w, warn) > 0 })
	start := time.Now()
	d.Interrupt()
	var r result
	select {
	case r = <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Write still paused 5 s after Interrupt (Pause is 10 s)")
	}
	t.Logf("Write returned %v after Interrupt", time.Since(start))
	if r.n != 0 || !errors.Is(r.err, ErrInterrupted) {
		t.Fatalf("Write = %d, %v; want 0, ErrInterrupted", r.n, r.err)
	}
	// Later failures are not retried either.
	start = time.Now()
	if _, err := d.Write([]byte("lost too\n")); !errors.Is(err, ErrInterrupted) || time.Since(start) > 5*time.Second {
		t.Fatalf("Write after Interrupt = %v after %v", err, time.Since(start))
	}
	faultClose(t, d)
	if m := faultMode(t, filepath.Join(dir, "current")); m != 0o744 {
		t.Fatalf("current mode %04o after Close, want 0744", m)
	}
	faultCheckStream(t, dir, []byte("kept\n"))
	// After Interrupt failures are still reported, but nothing pauses.
	if p := d.Stats().Pauses; p != int64(faultCountWarnings(&w, warn)) {
		t.Fatalf("Pauses %d, warnings %q", p, w.all())
	}
}

// TestInterruptDuringRotationPause: a rename that keeps failing stops the
// rotation; Interrupt ends it. Nothing accepted may be lost, and Close
// should still leave current (fsynced before the rename was tried) 0744.
func TestInterruptDuringRotationPause(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	var w warnings
	ff := newFaultFS(&fault{op: fopRename, name: "current", times: -1, err: syscall.EXDEV})
	o := faultOptions(&w, ff)
	o.Pause = 10 * time.Second
	d := mustOpen(t, dir, o)
	in := faultLines(0, 30)
	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	go func() {
		n, err := d.Write(in)
		done <- result{n, err}
	}()
	faultWaitFor(t, "the rename warning", func() bool { return len(w.all()) > 0 })
	d.Interrupt()
	var r result
	select {
	case r = <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Write still paused 5 s after Interrupt (Pause is 10 s)")
	}
	if r.n != 2100 || !errors.Is(r.err, ErrInterrupted) {
		t.Fatalf("Write = %d, %v; want 2100 (the first file), ErrInterrupted", r.n, r.err)
	}
	cerr := d.Close()
	ws := w.all()
	mode := faultMode(t, filepath.Join(dir, "current"))
	// Whatever Close managed, reopening must find every accepted byte.
	ff.set()
	d2 := mustOpen(t, dir, faultOptions(&w, nil))
	faultClose(t, d2)
	faultCheckStream(t, dir, in[:r.n])
	if cerr != nil || mode != 0o744 {
		t.Fatalf("Close after a rotation interrupted at the rename returns %v and leaves current %04o "+
			"(a clean stop needs 0744): the rotation had closed d.cur, so Close fsyncs and fchmods a closed "+
			"file; warnings: %q", cerr, mode, ws)
	}
}

// --- Open's failures ---

// TestFaultOpenErrors: every start-up failure is an *errtext.Error worded as
// multilog's fatal messages (§11.8), and leaves the directory unlocked.
func TestFaultOpenErrors(t *testing.T) {
	cases := []struct {
		name   string
		setup  func(t *testing.T, dir string)
		faults []*fault
		want   string
	}{
		{name: "directory cannot be opened", faults: []*fault{{op: fopOpenFS, err: syscall.EACCES}},
			want: "unable to open directory ./d: access denied"},
		{name: "directory cannot be read", faults: []*fault{{op: fopReadDir, err: syscall.EACCES}},
			want: "unable to read ./d: access denied"},
		{name: "lock is a directory", setup: func(t *testing.T, dir string) { os.Mkdir(filepath.Join(dir, "lock"), 0o700) },
			want: "unable to lock directory ./d: is a directory"},
		{name: "lock cannot be opened", faults: []*fault{{op: fopOpen, name: "lock", err: syscall.EACCES}},
			want: "unable to lock directory ./d: access denied"},
		{name: "current is a directory", setup: func(t *testing.T, dir string) { os.Mkdir(filepath.Join(dir, "current"), 0o755) },
			want: "unable to append to ./d/current: is a directory"},
		{name: "current cannot be stat'ed", faults: []*fault{{op: fopStat, name: "current", err: syscall.EIO}},
			want: "unable to stat ./d/current: input/output error"},
		{name: "clean current cannot be opened",
			setup:  func(t *testing.T, dir string) { os.WriteFile(filepath.Join(dir, "current"), []byte("x\n"), 0o744) },
			faults: []*fault{{op: fopOpen, name: "current", err: syscall.EACCES}},
			want:   "unable to append to ./d/current: access denied"},
		{name: "clean current mode cannot be set",
			setup:  func(t *testing.T, dir string) { os.WriteFile(filepath.Join(dir, "current"), []byte("x\n"), 0o744) },
			faults: []*fault{{op: fopFchmod, name: "current", err: syscall.EPERM}},
			want:   "unable to set mode of ./d/current: permission denied"},
		{name: "processed cannot be stat'ed", faults: []*fault{{op: fopStat, name: "processed", err: syscall.EIO}},
			want: "unable to stat ./d/processed: input/output error"},
		{name: "state cannot be written", faults: []*fault{{op: fopOpen, name: "state", err: syscall.EROFS}},
			want: "unable to write to ./d/state: read-only file system"},
		{name: "current cannot be created", faults: []*fault{{op: fopOpen, name: "current", err: syscall.EROFS}},
			want: "unable to write to ./d/current: read-only file system"},
		{name: "new current mode cannot be set", faults: []*fault{{op: fopFchmod, name: "current", err: syscall.EPERM}},
			want: "unable to write to ./d/current: permission denied"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "d")
			os.Mkdir(dir, 0o700)
			if c.setup != nil {
				c.setup(t, dir)
			}
			var w warnings
			ff := newFaultFS(c.faults...)
			d, err := Open(dir, faultOptions(&w, ff))
			if err == nil {
				d.Close()
				t.Fatalf("Open succeeded, want %q", c.want)
			}
			var e *errtext.Error
			if !errors.As(err, &e) || err.Error() != c.want {
				t.Fatalf("Open = %T %q, want *errtext.Error %q", err, err, c.want)
			}
			if len(w.all()) != 0 {
				t.Fatalf("warnings %q", w.all())
			}
			// The lock was released: a writer without faults gets in (unless
			// the directory itself is broken).
			if c.setup == nil {
				d, err := Open(dir, faultOptions(&w, nil))
				if err != nil {
					t.Fatalf("Open after the failure: %v", err)
				}
				d.Close()
			}
		})
	}
}

// TestFaultOpenUnreadableDirectory: a directory with mode 000. Root is not
// stopped by modes, so there the fault FS plays the kernel's part.
func TestFaultOpenUnreadableDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	os.Mkdir(dir, 0o700)
	o := Options{Name: "./d"}
	if os.Geteuid() == 0 {
		o.OpenFS = newFaultFS(&fault{op: fopOpenFS, err: syscall.EACCES}).open
	} else {
		os.Chmod(dir, 0)
		defer os.Chmod(dir, 0o700)
	}
	_, err := Open(dir, o)
	var e *errtext.Error
	if !errors.As(err, &e) || err.Error() != "unable to open directory ./d: access denied" {
		t.Fatalf("Open = %v", err)
	}
}

// TestFaultOpenPausesInRecovery: a crash-recovery step that fails (here
// unlinking a crashed current, which multilog also retries for ever, §7.6)
// pauses inside Open with a warning, and Open finishes once it works. Open
// has no Dir yet, so nothing can interrupt that pause.
func TestFaultOpenPausesInRecovery(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	os.Mkdir(dir, 0o700)
	os.WriteFile(filepath.Join(dir, "current"), []byte("crashed\n"), 0o644)
	var w warnings
	ff := newFaultFS(&fault{op: fopRemove, name: "current", times: -1, err: syscall.EBUSY})
	done := make(chan error, 1)
	var d *Dir
	go func() {
		var err error
		d, err = Open(dir, faultOptions(&w, ff))
		done <- err
	}()
	const warn = "unable to remove ./d/current, pausing: device busy"
	faultWaitFor(t, "the remove warning", func() bool { return faultCountWarnings(&w, warn) >= 3 })
	select {
	case err := <-done:
		t.Fatalf("Open returned %v while the unlink still failed", err)
	default:
	}
	ff.set()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Open did not finish after the unlink started working")
	}
	if p := d.Stats().Pauses; p != int64(len(w.all())) {
		t.Fatalf("Pauses %d, warnings %d", p, len(w.all()))
	}
	faultClose(t, d)
	names, files := archives(t, dir)
	if len(names) != 1 || !strings.HasSuffix(names[0], ".u") || string(files[0]) != "crashed\n" {
		t.Fatalf("archives %q", names)
	}
}

// --- the Lossy policy, with an ENOSPC that a test switches on and off ---

// faultMarkerRE is one marker line (lossy.go, writeDropMarker).
var faultMarkerRE = regexp.MustCompile(`^@[0-9a-f]{24} ([^ :]+): lost ([0-9]+) bytes \(([0-9]+) line ends\) to a full disk since this time\n`)

type faultMarker struct {
	at           int // offset in the stream
	bytes, lines int64
}

// faultLoss is what faultCheckLossy found.
type faultLoss struct {
	markers    []faultMarker
	skipped    int   // input bytes before the first one kept (deleted archives)
	unverified int   // markers before that point
	removed    int64 // input bytes missing after that point
	removedNL  int64 // line ends among them
}

// faultCheckLossy checks a stream written with the Lossy policy against the
// input (which holds no "@"): every "@" must begin a whole marker line at a
// line start; between markers the stream is the input, in order; at each
// marker exactly the bytes and line ends it counts are missing (a marker
// written after a partial line brings its own newline); nothing else is
// missing or added. With prefixOK the stream may start anywhere in the
// input (the oldest archives were deleted).
func faultCheckLossy(in, out []byte, prefixOK bool) (faultLoss, error) {
	var r faultLoss
	var segs [][]byte
	var marks []faultMarker
	start := 0
	for i := 0; i < len(out); i++ {
		if out[i] != '@' {
			continue
		}
		m := faultMarkerRE.FindSubmatch(out[i:])
		if m == nil || (i > 0 && out[i-1] != '\n') {
			end := min(len(out), i+60)
			return r, fmt.Errorf("marker fragment: %q at stream offset %d is not a whole marker line at a line start (context %q)",
				out[i:end], i, out[max(0, i-30):end])
		}
		b, _ := strconv.ParseInt(string(m[2]), 10, 64)
		l, _ := strconv.ParseInt(string(m[3]), 10, 64)
		segs = append(segs, out[start:i])
		marks = append(marks, faultMarker{i, b, l})
		start = i + len(m[0])
		i = start - 1
	}
	segs = append(segs, out[start:])
	r.markers = marks

	// Where the kept part begins.
	ip, k0 := 0, 0
	if prefixOK {
		for k0 < len(segs) && len(segs[k0]) == 0 {
			k0++
		}
		if k0 == len(segs) {
			return r, fmt.Errorf("nothing kept")
		}
		s := segs[k0]
		ip = bytes.Index(in, s)
		if ip < 0 && k0 < len(marks) && s[len(s)-1] == '\n' {
			ip = bytes.Index(in, s[:len(s)-1])
		}
		if ip < 0 {
			return r, fmt.Errorf("the first kept bytes %q are not in the input", s[:min(len(s), 40)])
		}
		r.skipped, r.unverified = ip, k0
	}
	for k := k0; k < len(segs); k++ {
		s := segs[k]
		if k == len(segs)-1 {
			if !bytes.Equal(in[ip:], s) {
				return r, fmt.Errorf("after the last marker the stream holds %d bytes; the input has %d left (%q vs %q)",
					len(s), len(in)-ip, s[:min(len(s), 40)], in[ip:min(len(in), ip+40)])
			}
			break
		}
		m := marks[k]
		// Either s is input, or s is input plus the newline the marker brought.
		try := func(took int) bool {
			if ip+took > len(in) || !bytes.Equal(in[ip:ip+took], s[:took]) {
				return false
			}
			end := ip + took + int(m.bytes)
			if end > len(in) || int64(bytes.Count(in[ip+took:end], []byte{'\n'})) != m.lines {
				return false
			}
			next := segs[k+1]
			return bytes.HasPrefix(in[end:], next[:min(len(next), 200)]) || (len(next) > 0 && next[len(next)-1] == '\n' &&
				k+1 < len(marks) && bytes.HasPrefix(in[end:], next[:min(len(next)-1, 200)]))
		}
		took := len(s)
		if !try(took) {
			if len(s) > 0 && s[len(s)-1] == '\n' && try(len(s)-1) {
				took = len(s) - 1
			} else {
				return r, fmt.Errorf("the marker at stream offset %d (lost %d bytes, %d line ends) does not match the input at offset %d",
					m.at, m.bytes, m.lines, ip+len(s))
			}
		}
		ip += took
		r.removed += m.bytes
		r.removedNL += int64(bytes.Count(in[ip:ip+int(m.bytes)], []byte{'\n'}))
		ip += int(m.bytes)
	}
	return r, nil
}

func faultLossyOptions(w *warnings, ff *faultFS, minKeep int) Options {
	o := faultOptions(w, ff)
	o.Policy, o.MinKeep = Lossy, minKeep
	return o
}

// enospc fails every write of current, whole, until cleared.
func faultENOSPC() *fault {
	return &fault{op: fopWrite, name: "current", times: -1, err: syscall.ENOSPC}
}

func TestLossyFaultCountsAndMarker(t *testing.T) {
	for _, partial := range []bool{false, true} {
		t.Run(fmt.Sprintf("partial=%v", partial), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "d")
			var w warnings
			ff := newFaultFS()
			d := mustOpen(t, dir, faultLossyOptions(&w, ff, 0))
			in := faultLines(0, 400)
			chunks := faultChunks(in, 11, 333)
			third := len(chunks) / 3
			for _, c := range chunks[:third] {
				write(t, d, c)
			}
			f := faultENOSPC()
			f.partial = partial
			ff.set(f)
			for _, c := range chunks[third : 2*third] {
				start := time.Now()
				write(t, d, c)
				if el := time.Since(start); el > time.Second {
					t.Fatalf("a Lossy Write took %v", el)
				}
			}
			st := d.Stats()
			if st.DroppedBytes == 0 || st.Pauses != 0 || !onlyDropWarning(w.all()) {
				t.Fatalf("while full: %+v, warnings %q; want drops and no pause", st, w.all())
			}
			ff.set()
			for _, c := range chunks[2*third:] {
				write(t, d, c)
			}
			faultClose(t, d)
			st = d.Stats()
			out := faultStream(t, dir)
			r, err := faultCheckLossy(in, out, false)
			if err != nil && partial && strings.HasPrefix(err.Error(), "marker fragment") {
				t.Fatalf("see TestLossyFaultPartialMarker: %v", err)
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.removed != st.DroppedBytes || r.removedNL != st.DroppedLines || len(r.markers) == 0 {
				t.Fatalf("markers %+v count %d bytes, %d line ends; Stats %+v", r.markers, r.removed, r.removedNL, st)
			}
			var mb, ml int64
			for _, m := range r.markers {
				mb, ml = mb+m.bytes, ml+m.lines
			}
			if mb != st.DroppedBytes || ml != st.DroppedLines {
				t.Fatalf("the markers say %d bytes, %d line ends; Stats %+v", mb, ml, st)
			}
			t.Logf("dropped %d bytes (%d line ends), %d marker(s)", st.DroppedBytes, st.DroppedLines, len(r.markers))
		})
	}
}

// TestLossyFaultPartialMarker: the marker itself can meet a partial write.
// What it left must not garble the log: every marker is a whole line.
func TestLossyFaultPartialMarker(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	var w warnings
	ff := newFaultFS(
		&fault{op: fopWrite, name: "current", nth: 2, err: syscall.ENOSPC},                // "line1"
		&fault{op: fopWrite, name: "current", nth: 3, err: syscall.ENOSPC, partial: true}, // the marker, while "line2" is dropped
	)
	d := mustOpen(t, dir, faultLossyOptions(&w, ff, 0))
	in := faultLines(0, 4)
	for i := 0; i < 4; i++ {
		write(t, d, in[i*100:(i+1)*100])
	}
	faultClose(t, d)
	st := d.Stats()
	if st.DroppedBytes != 200 || st.DroppedLines != 2 {
		t.Fatalf("Stats %+v: want lines 1 and 2 dropped", st)
	}
	out := faultStream(t, dir)
	r, err := faultCheckLossy(in, out, false)
	if err != nil {
		t.Fatalf("a marker cut short by a partial write stays in the log and the next marker follows it "+
			"on the same line: %v\nstream: %q", err, out)
	}
	if r.removed != 200 {
		t.Fatalf("markers count %d bytes", r.removed)
	}
}

// TestLossyFaultCloseRecordsDrops: data dropped just before Close, when the
// disk takes data again, is recorded by a marker too.
func TestLossyFaultCloseRecordsDrops(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	var w warnings
	ff := newFaultFS()
	d := mustOpen(t, dir, faultLossyOptions(&w, ff, 0))
	write(t, d, []byte("kept\n"))
	ff.set(faultENOSPC())
	write(t, d, []byte("dropped\n"))
	ff.set()
	faultClose(t, d)
	st := d.Stats()
	if st.DroppedBytes != 8 || st.DroppedLines != 1 {
		t.Fatalf("Stats %+v", st)
	}
	out := faultStream(t, dir)
	if !faultMarkerRE.Match(bytes.TrimPrefix(out, []byte("kept\n"))) {
		t.Fatalf("8 bytes dropped before Close are in Stats but not in the log: Close does not write the "+
			"pending marker (log: %q)", out)
	}
}

// TestLossyFaultMidLineDrop: a drop after a partial line puts the marker on
// a line of its own, also when the partial line is in a continued current
// (read back from disk) — which needs the FS's Files to be io.ReaderAt.
func TestLossyFaultMidLineDrop(t *testing.T) {
	for _, plain := range []bool{false, true} {
		t.Run(fmt.Sprintf("plainFile=%v", plain), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "d")
			os.Mkdir(dir, 0o700)
			os.WriteFile(filepath.Join(dir, "current"), []byte("000000 cont"), 0o744) // cleanly closed, mid-line
			var w warnings
			ff := newFaultFS(&fault{op: fopWrite, name: "current", times: 2, err: syscall.ENOSPC})
			ff.plain = plain
			d := mustOpen(t, dir, faultLossyOptions(&w, ff, 0))
			write(t, d, []byte("inued\n000001 "))
			write(t, d, []byte("second\n"))
			faultClose(t, d)
			in := []byte("000000 continued\n000001 second\n")
			out := faultStream(t, dir)
			r, err := faultCheckLossy(in, out, false)
			if err != nil && plain {
				t.Fatalf("with an FS whose Files are not io.ReaderAt (File does not require it), Open takes a "+
					"continued current to end with a newline, so the marker is glued to its partial line: %v", err)
			}
			if err != nil {
				t.Fatal(err)
			}
			// Both writes were dropped before the marker could be written,
			// so one marker tells the whole loss.
			if r.removed != 20 || !bytes.HasPrefix(out, []byte("000000 cont\n@")) {
				t.Fatalf("stream %q", out)
			}
		})
	}
}

// TestLossyFaultSizeContract: the marker and the drops must keep the size
// contract: no file over MaxSize, a file ends at its first line end at or
// after MaxSize−2000 (checkCuts).
func TestLossyFaultSizeContract(t *testing.T) {
	const s = 4096
	markerLen := func(dropped, lines int, midLine bool) int {
		n := len("@4000000000000000000000000 ") + len(filepath.Base(os.Args[0])) +
			len(fmt.Sprintf(": lost %d bytes (%d line ends) to a full disk since this time\n", dropped, lines))
		if midLine {
			n++
		}
		return n
	}
	type step struct {
		data []byte
		full bool // the disk refuses this write
	}
	cases := []struct {
		name  string
		steps []step
		bug   string
	}{
		{"marker pushes the file past MaxSize", func() []step {
			pre := s - markerLen(50, 0, true) - 10 // the marker fits, the next piece no longer does
			return []step{
				{bytes.Repeat([]byte("a"), pre), false},
				{bytes.Repeat([]byte("b"), 50), true},
				{append(bytes.Repeat([]byte("c"), 50), '\n'), false},
			}
		}(), "the piece after the marker was measured before the marker was written, so the file grows past MaxSize; " +
			"writeCurrent writes the marker after Write has cut the chunk"},
		{"marker crossing MaxSize-2000 ends the file", []step{
			{append(faultLines(0, 20), bytes.Repeat([]byte("a"), 50)...), false}, // 2050 bytes, mid-line
			{bytes.Repeat([]byte("b"), 20), true},
			{append(bytes.Repeat([]byte("c"), 30), faultLines(20, 30)...), false},
		}, "the marker's line end is the file's first at or after MaxSize-2000 bytes, but the file goes on"},
		{"a dropped line end does not close a short file", []step{
			{append(faultLines(0, 20), bytes.Repeat([]byte("a"), 50)...), false}, // 2050 bytes, mid-line
			{append(bytes.Repeat([]byte("b"), 49), '\n'), true},                  // its line end would close the file
			{faultLines(20, 30), false},
		}, "Write rotates after a chunk whose line end was dropped, archiving a 2050-byte file that ends mid-line"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "d")
			var w warnings
			ff := newFaultFS()
			d := mustOpen(t, dir, faultLossyOptions(&w, ff, 0))
			var in []byte
			for _, st := range c.steps {
				if st.full {
					ff.set(faultENOSPC())
				} else {
					ff.set()
				}
				write(t, d, st.data)
				in = append(in, st.data...)
			}
			faultClose(t, d)
			if _, err := faultCheckLossy(in, faultStream(t, dir), false); err != nil {
				t.Fatal(err)
			}
			files := faultDirFiles(t, dir)
			var sizes []int
			for _, f := range files {
				sizes = append(sizes, len(f))
			}
			msg := faultCutViolation(s, files[:len(files)-1])
			if cur := files[len(files)-1]; msg == "" && len(cur) > s {
				msg = fmt.Sprintf("current has %d bytes > %d", len(cur), s)
			}
			if msg != "" {
				t.Fatalf("%s (file sizes %v: %s)", c.bug, sizes, msg)
			}
		})
	}
}

// faultCutViolation is checkCuts's rule, reported instead of failing.
func faultCutViolation(s int, files [][]byte) string {
	for i, f := range files {
		if len(f) > s {
			return fmt.Sprintf("archive %d has %d bytes > %d", i, len(f), s)
		}
		if first := bytes.IndexByte(f[min(len(f), max(0, s-cutMargin-1)):], '\n'); first >= 0 {
			if end := max(0, s-cutMargin-1) + first + 1; end != len(f) {
				return fmt.Sprintf("archive %d has %d bytes; its first line end at or after %d is at %d", i, len(f), s-cutMargin, end)
			}
		} else if len(f) != s {
			return fmt.Sprintf("archive %d has %d bytes and no line end after %d", i, len(f), s-cutMargin)
		}
	}
	return ""
}

// TestLossyFaultMinKeepDeletesOldestOnly: on ENOSPC the oldest archives go
// to make room, never below MinKeep, and (as svlogd's N does) only as many
// as it takes for the write to succeed.
func TestLossyFaultMinKeepDeletesOldestOnly(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	var w warnings
	ff := newFaultFS()
	d := mustOpen(t, dir, faultLossyOptions(&w, ff, 2))
	for i := 0; i < 5; i++ {
		write(t, d, faultLines(10*i, 10*i+10))
		if err := d.Rotate(); err != nil {
			t.Fatal(err)
		}
	}
	faultWaitSettled(t, dir, 5)
	before := faultArchiveNames(t, dir)
	ff.set(&fault{op: fopWrite, name: "current", err: syscall.ENOSPC}) // one failure: the retry works
	write(t, d, faultLines(50, 51))
	after, _ := archives(t, dir)
	ff.set(faultENOSPC()) // full for good: nothing more can go
	write(t, d, faultLines(51, 52))
	after2, _ := archives(t, dir)
	ff.set()
	faultClose(t, d)
	if st := d.Stats(); st.DroppedBytes != 100 || st.Pauses != 0 {
		t.Fatalf("Stats %+v: want line 51 dropped, no pause", st)
	}
	if len(after2) < 2 || !slices.Equal(after2, before[len(before)-len(after2):]) {
		t.Fatalf("archives %q after %q: want the newest, at least MinKeep=2", after2, before)
	}
	if len(after) != 4 || !slices.Equal(after, before[1:]) {
		t.Fatalf("one ENOSPC that a single deletion cures deleted %d of %d archives (left %d = MinKeep); "+
			"svlogd's N deletes the oldest one at a time, retrying the write after each", len(before)-len(after), len(before), len(after))
	}
}

// TestLossyFaultMinKeepAfterDrop: once something has been dropped, a full
// disk must still make room by deleting old archives (MinKeep), rather
// than drop everything until space comes back by itself.
func TestLossyFaultMinKeepAfterDrop(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	var w warnings
	ff := newFaultFS()
	d := mustOpen(t, dir, faultLossyOptions(&w, ff, 2))
	in := faultLines(0, 24)
	for i := 0; i < 2; i++ {
		write(t, d, in[i*1000:(i+1)*1000])
		if err := d.Rotate(); err != nil {
			t.Fatal(err)
		}
	}
	write(t, d, in[2000:2100])
	faultWaitSettled(t, dir, 2)
	// Full, and no archive may go: line 21 is dropped.
	ff.set(&fault{op: fopWrite, name: "current", times: 2, err: syscall.ENOSPC})
	write(t, d, in[2100:2200])
	// A third archive appears (current, holding line 20).
	if err := d.Rotate(); err != nil {
		t.Fatal(err)
	}
	faultWaitSettled(t, dir, 3)
	three := faultArchiveNames(t, dir)
	// Full once more: deleting the oldest archive makes room for line 22.
	ff.set(&fault{op: fopWrite, name: "current", err: syscall.ENOSPC})
	write(t, d, in[2200:2300])
	ff.set()
	write(t, d, in[2300:2400])
	faultClose(t, d)
	st := d.Stats()
	if _, err := faultCheckLossy(in, faultStream(t, dir), true); err != nil {
		t.Fatal(err)
	}
	names, _ := archives(t, dir)
	if st.DroppedBytes == 100 && slices.Equal(names, three[1:]) {
		return
	}
	if st.DroppedBytes == 200 && slices.Equal(names, three) {
		t.Fatalf("after a drop, writeCurrent only retries the marker and drops the data without calling "+
			"makeRoom, so line 22 was dropped (Stats %+v) although deleting %s (MinKeep 2, 3 archives) made room",
			st, three[0])
	}
	t.Fatalf("Stats %+v, archives %q (before: %q)", st, names, three)
}

// onlyDropWarning reports whether the warnings are the one a Lossy Dir
// gives when it begins dropping.
func onlyDropWarning(ws []string) bool {
	return len(ws) == 1 && strings.Contains(ws[0], "out of disk space; dropping what does not fit until there is room")
}
