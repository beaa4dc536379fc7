package rotate

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/taikit/taikit/internal/testref"
)

// These tests fill a real (tmpfs) disk: what P06 checked on multilog, and
// the Lossy policy's promises. tmpfs counts whole pages, so where a write
// fails is exact and the runs are reproducible: a file of at most 4096
// bytes takes one page, and a write crossing into a page the disk no
// longer has is cut short at the page boundary (a partial write).

// fullMountTmpfs mounts a tmpfs of the given size (e.g. "256k") for the test.
func fullMountTmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a small tmpfs (mount -t tmpfs -o size=256k tmpfs <dir>) and fill it; run the tests as root")
	}
	mnt := t.TempDir()
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size="+size+",mode=0755"); err != nil {
		t.Skipf("cannot mount a tmpfs on %s (mount -t tmpfs -o size=%s tmpfs %s): %v", mnt, size, mnt, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(mnt, 0); err != nil {
			t.Logf("unmount %s: %v; detaching it", mnt, err)
			syscall.Unmount(mnt, syscall.MNT_DETACH)
		}
	})
	return mnt
}

// fullFiller takes the disk's free space.
type fullFiller struct {
	path string
	size int64
}

// fullFillDisk fills the disk at mnt, then gives back freePages pages.
func fullFillDisk(t *testing.T, mnt string, freePages int) *fullFiller {
	t.Helper()
	f := &fullFiller{path: filepath.Join(mnt, "filler")}
	f.take(t)
	f.give(t, freePages)
	return f
}

// take grows the filler until the disk is full.
func (f *fullFiller) take(t *testing.T) {
	t.Helper()
	fh, err := os.OpenFile(f.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	buf := make([]byte, 64<<10)
	for {
		n, err := fh.Write(buf)
		f.size += int64(n)
		if err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling the disk: %v", err)
			}
			return
		}
	}
}

// give frees pages pages by shortening the filler.
func (f *fullFiller) give(t *testing.T, pages int) {
	t.Helper()
	f.size -= int64(pages * os.Getpagesize())
	if f.size < 0 {
		t.Fatalf("the filler is too small to give back %d pages", pages)
	}
	if err := os.Truncate(f.path, f.size); err != nil {
		t.Fatal(err)
	}
}

func (f *fullFiller) remove(t *testing.T) {
	t.Helper()
	if err := os.Remove(f.path); err != nil {
		t.Fatal(err)
	}
}

func fullFreeSpace(mnt string) int64 {
	var st syscall.Statfs_t
	if syscall.Statfs(mnt, &st) != nil {
		return -1
	}
	return int64(st.Bavail) * int64(st.Bsize) // int32 on 386
}

// fullWriteBehind writes in to d in pieces from a goroutine of its own,
// and says on the channel how that ended.
func fullWriteBehind(d *Dir, in []byte) <-chan error {
	done := make(chan error, 1)
	go func() {
		for _, p := range faultChunks(in, 21, 700) {
			if n, err := d.Write(p); err != nil || n != len(p) {
				done <- fmt.Errorf("Write = %d, %v", n, err)
				return
			}
		}
		done <- nil
	}()
	return done
}

// fullAwaitPauses waits for the warning text twice: the writer paused on
// the full disk and tried again.
func fullAwaitPauses(t *testing.T, d *Dir, w *warnings, text string, done <-chan error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for faultCountWarnings(w, text) < 2 {
		select {
		case err := <-done:
			t.Fatalf("the writer finished (%v) without the disk filling; warnings %q", err, w.all())
		default:
		}
		if time.Now().After(deadline) {
			d.Interrupt()
			t.Fatalf("no %q twice within 10 s; warnings %q", text, w.all())
		}
		time.Sleep(time.Millisecond)
	}
}

// fullAwaitWriter waits for the writer to finish once space has returned.
func fullAwaitWriter(t *testing.T, d *Dir, w *warnings, done <-chan error) {
	t.Helper()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		d.Interrupt()
		t.Fatalf("the writer did not finish within 10 s of space returning; warnings %q", w.all())
	}
}

// TestFullDiskBlock: P06. With the Block policy a full disk pauses the
// writer with multilog's warning; once space returns the writer finishes
// by itself and the directory holds exactly the input, once, in order —
// also when the disk fills while the rotated file is being compressed or
// run through a processor.
func TestFullDiskBlock(t *testing.T) {
	cases := []struct {
		name      string
		maxSize   int64
		freePages int // left after filling: where the disk runs out
		setup     func(o *Options)
		waitFor   string // a warning that shows the disk filled where the case wants it
	}{
		// Files of 4 pages, 3 free: current runs out inside its fourth page.
		{"plain", 16384, 3, nil, "unable to write to ./d/current, pausing: out of disk space"},
		// Files of one page, 2 free: previous + its archive, or previous +
		// the new current, leave the compressor no page.
		{"zstd", 4096, 2, func(o *Options) { o.Compression = Compression{Method: Zstd} },
			"unable to compress ./d/previous, pausing: out of disk space"},
		{"processor", 4096, 2, func(o *Options) { o.Processor, o.HasProcessor = "cat", true },
			"processor failed in ./d, pausing"},
	}
	allowed := regexp.MustCompile(`^(unable to write to \./d/current, pausing: out of disk space|` +
		`unable to compress \./d/previous, pausing: out of disk space|processor failed in \./d, pausing)$`)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			mnt := fullMountTmpfs(t, "256k")
			dir := filepath.Join(mnt, "d")
			var w warnings
			var stderr testref.Buffer
			ff := newFaultFS() // no faults: it records the writes
			o := faultOptions(&w, ff)
			o.MaxSize, o.Pause, o.Stderr = c.maxSize, 20*time.Millisecond, &stderr
			if c.setup != nil {
				c.setup(&o)
			}
			d := mustOpen(t, dir, o)
			fill := fullFillDisk(t, mnt, c.freePages)
			t.Logf("disk filled: %d bytes free", fullFreeSpace(mnt))

			in := faultLines(0, 600) // 60 kB: far more than is free, far less than the disk
			done := fullWriteBehind(d, in)
			fullAwaitPauses(t, d, &w, c.waitFor, done)
			freed := time.Now()
			fill.remove(t)
			fullAwaitWriter(t, d, &w, done)
			finished := time.Now()
			faultClose(t, d)

			// Resumption: from freeing the space to the next write that worked.
			var resumed time.Time
			partials := 0
			for _, e := range ff.writeLog() {
				if e.err != nil && e.n > 0 {
					partials++
				}
				if resumed.IsZero() && e.name == "current" && e.n > 0 && e.at.After(freed) {
					resumed = e.at
				}
			}
			ws := w.all()
			for _, s := range ws {
				if !allowed.MatchString(s) {
					t.Errorf("unexpected warning %q", s)
				}
			}
			if p := d.Stats().Pauses; p != int64(len(ws)) {
				t.Errorf("Pauses = %d, %d warnings", p, len(ws))
			}
			names, files := archives(t, dir)
			if r := d.Stats().Rotations; r != int64(len(names)) {
				t.Errorf("Rotations = %d, %d archives %q", r, len(names), names)
			}
			if c.setup == nil {
				checkCuts(t, int(c.maxSize), files)
			}
			if m := faultMode(t, filepath.Join(dir, "current")); m != 0o744 {
				t.Errorf("current mode %04o after Close", m)
			}
			faultCheckStream(t, dir, in)
			t.Logf("%d warnings (%d of %q), %d partial writes, %d archives; resumption %v after freeing the space "+
				"(Pause %v); writer done %v after; test %v",
				len(ws), faultCountWarnings(&w, c.waitFor), c.waitFor, partials, len(names),
				resumed.Sub(freed).Round(time.Microsecond), o.Pause, finished.Sub(freed).Round(time.Microsecond),
				time.Since(start).Round(time.Millisecond))
			if c.name == "processor" && !strings.Contains(stderr.String(), "cat:") {
				t.Logf("processor stderr: %q", stderr.String())
			}
		})
	}
}

// TestFullDiskLossy: with the Lossy policy a full disk never pauses the
// writer; what cannot be written is dropped and counted exactly (Stats),
// and once space returns a marker line, at a line start, says how much.
func TestFullDiskLossy(t *testing.T) {
	cases := []struct {
		name    string
		maxSize int64
	}{
		// One page per file: the disk runs out only when a new current
		// takes its first page, so writes fail whole.
		{"MinKeep0", 4096},
		// Two pages per file: writes (data and marker) are cut at the page
		// boundary.
		{"MinKeep0 partial pages", 8192},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mnt := fullMountTmpfs(t, "256k")
			dir := filepath.Join(mnt, "d")
			var w warnings
			o := faultLossyOptions(&w, nil, 0)
			o.MaxSize, o.Pause = c.maxSize, 20*time.Millisecond
			d := mustOpen(t, dir, o)
			in := faultLines(0, 380)
			write(t, d, in[:3000])
			faultWaitSettled(t, dir, int(d.Stats().Rotations))
			fill := fullFillDisk(t, mnt, 1)

			var slowest time.Duration
			for _, p := range faultChunks(in[3000:33000], 31, 333) {
				start := time.Now()
				write(t, d, p)
				slowest = max(slowest, time.Since(start))
			}
			full := d.Stats()
			if full.DroppedBytes == 0 || full.Pauses != 0 || !onlyDropWarning(w.all()) {
				t.Fatalf("while full: %+v, warnings %q: want drops and no pause", full, w.all())
			}
			fill.remove(t)
			faultWriteChunks(t, d, in[33000:], 32, 333)
			faultClose(t, d)
			st := d.Stats()
			out := faultStream(t, dir)
			r, err := faultCheckLossy(in, out, false)
			if err != nil && strings.HasPrefix(err.Error(), "marker fragment") {
				t.Fatalf("on a real full disk, see TestLossyFaultPartialMarker: %v", err)
			}
			if err != nil {
				t.Fatal(err)
			}
			var markerBytes int
			var mb, ml int64
			for _, m := range r.markers {
				mb, ml = mb+m.bytes, ml+m.lines
				markerBytes += len(faultMarkerRE.Find(out[m.at:]))
			}
			missing := int64(len(in) - (len(out) - markerBytes))
			missingNL := int64(bytes.Count(in, []byte{'\n'}) - (bytes.Count(out, []byte{'\n'}) - len(r.markers)))
			if len(r.markers) == 0 || mb != st.DroppedBytes || ml != st.DroppedLines || missing < st.DroppedBytes ||
				missing > st.DroppedBytes+int64(len(r.markers)) || missingNL != st.DroppedLines {
				// (A marker written after a partial line brings its own newline:
				// up to one byte per marker is not input.)
				t.Fatalf("Stats %+v; %d markers say %d bytes, %d line ends; %d bytes, %d line ends missing",
					st, len(r.markers), mb, ml, missing, missingNL)
			}
			if st.DroppedBytes != full.DroppedBytes || st.DroppedLines != full.DroppedLines {
				t.Fatalf("drops after space returned: %+v, then %+v", full, st)
			}
			// The warnings say it too: dropping began, and how much a marker told.
			if ws := w.all(); len(r.markers) == 1 && (len(ws) != 2 ||
				!strings.HasSuffix(ws[1], fmt.Sprintf("again: lost %d bytes (%d line ends) to a full disk, as the marker line there says", mb, ml))) {
				t.Fatalf("warnings %q; want the drop and a marker of %d bytes, %d line ends", ws, mb, ml)
			}
			t.Logf("dropped %d bytes (%d line ends), %d marker(s); slowest Write while full %v",
				st.DroppedBytes, st.DroppedLines, len(r.markers), slowest)
		})
	}
}

// TestFullDiskLossyMinKeep: with MinKeep the oldest archives are deleted to
// make room, never below MinKeep; when deleting cannot help, data is
// dropped, counted and marked.
func TestFullDiskLossyMinKeep(t *testing.T) {
	const minKeep = 2
	mnt := fullMountTmpfs(t, "256k")
	dir := filepath.Join(mnt, "d")
	var w warnings
	o := faultLossyOptions(&w, nil, minKeep)
	o.Pause = 20 * time.Millisecond
	d := mustOpen(t, dir, o)
	in := faultLines(0, 200)
	// Two archives of one page, and an empty current.
	for i := 0; i < minKeep; i++ {
		write(t, d, in[i*1000:(i+1)*1000])
		if err := d.Rotate(); err != nil {
			t.Fatal(err)
		}
	}
	faultWaitSettled(t, dir, minKeep)
	first := faultArchiveNames(t, dir)
	fill := fullFillDisk(t, mnt, 0)

	// A: no room for current's first page, and no archive may go.
	faultWriteChunks(t, d, in[2000:4000], 41, 333)
	if st := d.Stats(); st.DroppedBytes != 2000 || st.DroppedLines != 20 || st.Pauses != 0 {
		t.Fatalf("Stats %+v: want lines 20-39 dropped, no pause", st)
	}
	if names := faultArchiveNames(t, dir); !slices.Equal(names, first) {
		t.Fatalf("archives %q, want %q untouched (MinKeep %d)", names, first, minKeep)
	}

	// B: one page: the marker and what follows; from then on every new
	// current gets its page from the oldest archive. Whole lines, and the
	// rotated file archived before the next write: otherwise whether the
	// write that needs a page sees it as an archive it may delete is a race
	// with the job (and a drop then stops all deleting: see
	// TestLossyFaultMinKeepAfterDrop).
	fill.give(t, 1)
	write(t, d, in[4000:4100])
	cur, _ := os.ReadFile(filepath.Join(dir, "current"))
	m := faultMarkerRE.FindSubmatch(cur)
	if m == nil || string(m[2]) != "2000" || string(m[3]) != "20" || !bytes.Equal(cur[len(m[0]):], in[4000:4100]) {
		t.Fatalf("current = %q, want a marker for 2000 bytes (20 line ends), then line 40", cur)
	}
	fewest := len(first)
	for i := 4100; i < 14000; i += 100 {
		write(t, d, in[i:i+100])
		faultWaitFor(t, "the rotated file archived", func() bool {
			_, err := os.Lstat(filepath.Join(dir, "previous"))
			return errors.Is(err, os.ErrNotExist)
		})
		fewest = min(fewest, len(faultArchiveNames(t, dir)))
	}
	if st := d.Stats(); st.DroppedBytes != 2000 {
		t.Fatalf("Stats %+v: nothing more should be dropped while old archives can go", st)
	}
	if fewest < minKeep {
		t.Fatalf("only %d archives left at one point, MinKeep is %d", fewest, minKeep)
	}
	names := faultArchiveNames(t, dir)
	if slices.Equal(names[:minKeep], first) {
		t.Fatalf("archives %q: the oldest were not deleted to make room", names)
	}
	for _, n := range first {
		if slices.Contains(names, n) {
			t.Fatalf("archive %s deleted after newer ones (%q)", n, names)
		}
	}

	// C: space returns.
	fill.remove(t)
	faultWriteChunks(t, d, in[14000:], 43, 333)
	faultClose(t, d)
	st := d.Stats()
	out := faultStream(t, dir)
	r, err := faultCheckLossy(in, out, true)
	if err != nil {
		t.Fatal(err)
	}
	var kept int64
	for _, m := range r.markers[r.unverified:] {
		kept += m.bytes
	}
	if st.DroppedBytes != 2000 || kept != 0 || r.skipped < 4000 {
		t.Fatalf("Stats %+v, %d bytes lost after the oldest kept byte (input offset %d)", st, kept, r.skipped)
	}
	names, _ = archives(t, dir)
	t.Logf("Stats %+v; %d archives left, the oldest kept data from input offset %d; %d marker(s) kept",
		st, len(names), r.skipped, len(r.markers)-r.unverified)
}

// TestFullDiskBlockMinKeep: MinKeep (svlogd's N) works under the Block
// policy too: on a full disk the oldest archives go to make room, down to
// MinKeep, before any pause; nothing is dropped.
func TestFullDiskBlockMinKeep(t *testing.T) {
	const minKeep = 2
	mnt := fullMountTmpfs(t, "256k")
	dir := filepath.Join(mnt, "d")
	var w warnings
	o := faultOptions(&w, nil)
	o.MinKeep = minKeep
	d := mustOpen(t, dir, o)
	in := faultLines(0, 100)
	for i := 0; i < minKeep+2; i++ { // four archives of one page each
		write(t, d, in[i*1000:(i+1)*1000])
		if err := d.Rotate(); err != nil {
			t.Fatal(err)
		}
	}
	faultWaitSettled(t, dir, minKeep+2)
	before := faultArchiveNames(t, dir)
	fullFillDisk(t, mnt, 0)
	// Two pages, two writes: each finds the disk full and gets its page
	// from the oldest archive.
	write(t, d, in[4000:5000])
	write(t, d, in[5000:9000])
	if st := d.Stats(); st.Pauses != 0 || st.DroppedBytes != 0 {
		t.Fatalf("Stats %+v: want no pause and nothing dropped while archives could go", st)
	}
	faultClose(t, d) // the last rotation's archiving done
	after := faultArchiveNames(t, dir)
	if len(after) < minKeep || slices.Contains(after, before[0]) {
		t.Fatalf("archives %q, then %q: want the oldest deleted, at least %d kept", before, after, minKeep)
	}
	// What is left is the newest part of the input, whole, up to line 89:
	// room was made from the oldest data only.
	if out := faultStream(t, dir); len(out) == 0 || !bytes.HasSuffix(in[:9000], out) {
		t.Fatalf("the directory holds %d bytes that are not the end of lines 0-89", len(out))
	}
	for _, m := range w.all() {
		if !strings.Contains(m, "to make room: out of disk space") {
			t.Errorf("unexpected warning %q", m)
		}
	}
}
