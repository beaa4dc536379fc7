package rotate

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// rawCurrent fails t unless d writes current with raw system calls: the
// option is set and current is the real file the raw path needs.
func rawCurrent(t *testing.T, d *Dir) {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.cur.(*os.File); !ok || !d.opts.RawWrites {
		t.Fatalf("current is a %T, RawWrites %v: the raw path is not taken", d.cur, d.opts.RawWrites)
	}
}

// TestRawWritesCutsWhateverTheChunking: with RawWrites the directory holds
// what was written, cut as without, and Track sees each write(2).
func TestRawWritesCutsWhateverTheChunking(t *testing.T) {
	in := faultLines(0, 400)
	for _, chunk := range []int{len(in), 1, 100, 4095, 5000} {
		t.Run(fmt.Sprint(chunk), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "d")
			var w warnings
			o := testOptions(&w)
			o.MaxSize, o.Keep, o.RawWrites = 4096, 1000, true
			var tracked int64
			o.Track = func(ino uint64, size int64) { tracked = size }
			d := mustOpen(t, dir, o)
			rawCurrent(t, d)
			for p := in; len(p) > 0; {
				k := min(chunk, len(p))
				write(t, d, p[:k])
				p = p[k:]
			}
			st, err := os.Stat(filepath.Join(dir, "current"))
			if err != nil {
				t.Fatal(err)
			}
			if tracked != st.Size() {
				t.Errorf("Track last told size %d, current holds %d", tracked, st.Size())
			}
			d.Close()
			_, files := archives(t, dir)
			checkCuts(t, 4096, files)
			cur, _ := os.ReadFile(filepath.Join(dir, "current"))
			if got := bytes.Join(append(files, cur), nil); !bytes.Equal(got, in) {
				t.Fatalf("the directory holds %d bytes, not the %d written", len(got), len(in))
			}
			if ws := w.all(); len(ws) > 0 {
				t.Errorf("warnings %q", ws)
			}
		})
	}
}

// TestRawWritesFullDisk: a raw write cut short by a full disk (tmpfs fails
// it at a page boundary) and the ENOSPC that follows are what an ordinary
// write gives: the writer pauses with multilog's warning, and once space
// returns the directory holds exactly the input, once, in order.
func TestRawWritesFullDisk(t *testing.T) {
	mnt := fullMountTmpfs(t, "256k")
	dir := filepath.Join(mnt, "d")
	var w warnings
	o := faultOptions(&w, nil)
	o.MaxSize, o.Pause, o.RawWrites = 16384, 20*time.Millisecond, true
	d := mustOpen(t, dir, o)
	rawCurrent(t, d)
	fill := fullFillDisk(t, mnt, 3)
	in := faultLines(0, 600)
	done := fullWriteBehind(d, in)
	const full = "unable to write to ./d/current, pausing: out of disk space"
	fullAwaitPauses(t, d, &w, full, done)
	fill.remove(t)
	fullAwaitWriter(t, d, &w, done)
	faultClose(t, d)
	for _, s := range w.all() {
		if s != full {
			t.Errorf("unexpected warning %q", s)
		}
	}
	faultCheckStream(t, dir, in)
}
