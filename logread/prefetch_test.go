package logread

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taikit/taikit/tai64n"
)

// aheadDir writes a directory of archives of every kind ReadAhead meets:
// zstd and gzip (decompressed ahead), plain ones large enough to be mapped
// and small ones, one whose last line the writer left unfinished (".u"),
// unstamped lines, then "current". It returns the directory and the
// archives' paths in order.
func aheadDir(t *testing.T) (string, []string) {
	t.Helper()
	dir := t.TempDir()
	base := tai64n.FromUnix(1700000000, 0, tai64n.Daemontools)
	kinds := []string{"zstd", "zstd", "gzip", "plain-large", "zstd", "u", "plain", "zstd", "gzip", "zstd"}
	var paths []string
	for f, kind := range kinds {
		var b []byte
		for i := 0; len(b) < 300<<10; i++ {
			st := tai64n.Label{Sec: base.Sec + uint64(f*100000+i)}
			if i%7 == 3 {
				b = fmt.Appendf(b, "unstamped %d of %d\n", i, f)
				continue
			}
			b = fmt.Appendf(b, "%s file %d %s line %d %s\n", st.Append(nil), f, kind, i, strings.Repeat("w", i%50))
		}
		suffix := ".s"
		switch kind {
		case "zstd":
			b = zstdBytes(b)
		case "gzip":
			b = gzipBytes(b)
		case "plain":
			b = b[:100<<10]
			b = b[:strings.LastIndexByte(string(b), '\n')+1]
		case "u":
			b, suffix = append(b, "cut by a kill"...), ".u"
		}
		p := filepath.Join(dir, string(tai64n.Label{Sec: base.Sec + uint64(f*100000+99999)}.Append(nil))+suffix)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	if err := os.WriteFile(filepath.Join(dir, fileCurrent), []byte("current's line\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, paths
}

// readAheadBlocks reads dir to its end with opts, as readMapBlocks, the
// warnings joined.
func readAheadBlocks(t *testing.T, dir string, opts Options) ([]mapBlock, string) {
	t.Helper()
	var warned []string
	opts.OnError = func(err error) { warned = append(warned, err.Error()) }
	blocks := readMapBlocks(t, dir, opts)
	return blocks, strings.Join(warned, "\n")
}

// With ReadAhead, a directory reads as without it: the same lines with
// the same stamps, the same cursor at the end, the same warnings; with
// Map too.
func TestReadAheadReadsAsWithout(t *testing.T) {
	dir, _ := aheadDir(t)
	plain, plainWarned := readAheadBlocks(t, dir, Options{})
	want := mapLines(t, plain)
	if len(want) < 10*1000 {
		t.Fatalf("only %d lines", len(want))
	}
	for _, opts := range []Options{{ReadAhead: true}, {ReadAhead: true, Map: true}} {
		t.Run(fmt.Sprintf("map=%v", opts.Map), func(t *testing.T) {
			ahead, warned := readAheadBlocks(t, dir, opts)
			got := mapLines(t, ahead)
			if len(got) != len(want) {
				t.Fatalf("%d lines read ahead, %d without", len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("line %d: read ahead %.60q (stamp %s), without %.60q (%s)", i, got[i].text, got[i].inherits, want[i].text, want[i].inherits)
				}
			}
			if a, b := ahead[len(ahead)-1].cursor, plain[len(plain)-1].cursor; a != b {
				t.Errorf("cursor at the end: read ahead %+v, without %+v", a, b)
			}
			if warned != plainWarned {
				t.Errorf("warnings read ahead %q, without %q", warned, plainWarned)
			}
		})
	}
}

// A damaged compressed archive is reported as without ReadAhead, and the
// archives after it are read.
func TestReadAheadDamagedArchive(t *testing.T) {
	dir, paths := aheadDir(t)
	b, err := os.ReadFile(paths[4])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(paths[4], b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	plain, plainWarned := readAheadBlocks(t, dir, Options{})
	ahead, warned := readAheadBlocks(t, dir, Options{ReadAhead: true, Map: true})
	if !strings.Contains(plainWarned, filepath.Base(paths[4])) {
		t.Fatalf("the damaged archive is not named: %q", plainWarned)
	}
	if warned != plainWarned {
		t.Errorf("warnings read ahead %q, without %q", warned, plainWarned)
	}
	got, want := mapLines(t, ahead), mapLines(t, plain)
	if len(got) != len(want) || got[len(got)-1] != want[len(want)-1] {
		t.Errorf("read ahead %d lines, without %d", len(got), len(want))
	}
}

// An archive replaced after it was decompressed ahead (a new file under
// its name) is read as it is when the Reader comes to it, not as it was.
func TestReadAheadReplacedArchive(t *testing.T) {
	dir, paths := aheadDir(t)
	r, err := OpenDir(dir, Options{ReadAhead: true, Map: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var text strings.Builder
	replaced := false
	eachBlock(t, r, func(l Lines) {
		text.Write(l.Bytes)
		if !replaced && strings.Contains(string(l.Bytes), "file 0 ") {
			// The archives after the first are being decompressed ahead.
			replaced = true
			tmp := paths[2] + ".new"
			if err := os.WriteFile(tmp, gzipBytes([]byte("@4000000065000000000000aa the replacement\n")), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(tmp, paths[2]); err != nil {
				t.Fatal(err)
			}
		}
	})
	if !replaced {
		t.Fatal("the first archive was not read")
	}
	if s := text.String(); !strings.Contains(s, "the replacement\n") || strings.Contains(s, "file 2 ") {
		t.Errorf("the replaced archive read as it was before (replacement there: %v)", strings.Contains(s, "the replacement"))
	}
}

// Close while archives are being decompressed ahead waits for them: no
// goroutine is left.
func TestReadAheadCloseLeavesNoGoroutine(t *testing.T) {
	dir, _ := aheadDir(t)
	before := runtime.NumGoroutine()
	for range 5 {
		r, err := OpenDir(dir, Options{ReadAhead: true, Map: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := Guard(func() {
			if _, err := r.NextLines(); err != nil {
				t.Fatal(err)
			}
		}); err != nil {
			t.Fatal(err)
		}
		r.Close()
	}
	// The decoders' own goroutines end when they are closed, which Close
	// did; they may take a moment to return.
	deadline := time.Now().Add(time.Minute) // a failure bound only
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines after Close, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(time.Millisecond)
	}
}

// scanned is what TestScanAhead's Options.Scan returns: a copy of the text
// it was given.
type scanned struct{ text []byte }

// Options.Scan runs on the whole content of each archive read ahead,
// decompressed or mapped, and its result comes with that archive's
// blocks, ScanOff saying where each begins in the text scanned, also when
// an archive comes in several blocks; the stream is as without it.
func TestScanAhead(t *testing.T) {
	dir, paths := aheadDir(t)
	// Until inside the last archive but one: the block that reaches it is
	// cut there.
	until := tai64n.FromUnix(1700000000, 0, tai64n.Daemontools)
	until.Sec += 8*100000 + 500
	for _, c := range []struct {
		window   int
		hasUntil bool
	}{{mapWindow, false}, {64 << 10, false}, {mapWindow, true}, {64 << 10, true}} {
		t.Run(fmt.Sprint(c.window, c.hasUntil), func(t *testing.T) {
			plain, _ := readAheadBlocks(t, dir, Options{Until: until, HasUntil: c.hasUntil})
			want := mapLines(t, plain)
			window := c.window
			defer func(w int) { mapWindow = w }(mapWindow)
			mapWindow = window
			var calls atomic.Int32
			opts := Options{Until: until, HasUntil: c.hasUntil, ReadAhead: true, Map: true, Scan: func(text []byte) any {
				calls.Add(1)
				return &scanned{bytes.Clone(text)}
			}}
			r, err := OpenDir(dir, opts)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var blocks []mapBlock
			withScan, archives := 0, map[*scanned]bool{}
			eachBlock(t, r, func(l Lines) {
				blocks = append(blocks, mapBlock{string(l.Bytes), string(l.Stamp.Append(nil)), r.Cursor()})
				if l.Scan == nil {
					return
				}
				s := l.Scan.(*scanned)
				withScan++
				archives[s] = true
				if l.ScanOff < 0 || l.ScanOff+len(l.Bytes) > len(s.text) || !bytes.Equal(s.text[l.ScanOff:l.ScanOff+len(l.Bytes)], l.Bytes) {
					t.Fatalf("a block of %d bytes at ScanOff %d is not that part of the text scanned (%d bytes)", len(l.Bytes), l.ScanOff, len(s.text))
				}
			})
			got := mapLines(t, blocks)
			if len(got) != len(want) || got[len(got)-1] != want[len(want)-1] {
				t.Fatalf("%d lines with Scan, %d without", len(got), len(want))
			}
			// Every archive but the first (opened before any is read
			// ahead) and the small plain one (not mapped); before Until.
			wantScans := len(paths) - 2
			if c.hasUntil {
				wantScans--
			}
			if n := len(archives); n != wantScans {
				t.Errorf("%d archives came with their scan (%d scans), want %d", n, calls.Load(), wantScans)
			}
			if window < mapWindow && withScan < 3*len(archives) {
				t.Errorf("%d blocks with a scan from %d archives: none in several blocks", withScan, len(archives))
			}
		})
	}
}

// An archive truncated while Scan reads its mapping ahead faults there:
// the fault does not kill the program, the archive comes without a scan,
// and it is read as it is when the Reader comes to it (here, empty). (The
// Reader comes to it only once the scan is over: one that comes to it
// meanwhile may read the mapping it took and get a *FaultError, as for
// any archive truncated while read: TestMapTruncatedFaultsIntoError.)
func TestScanAheadTruncated(t *testing.T) {
	dir, paths := aheadDir(t)
	victim := paths[3] // "plain-large", mapped ahead
	faulted := make(chan bool, 1)
	opts := Options{ReadAhead: true, Map: true, Scan: func(text []byte) any {
		if !bytes.Contains(text[:200], []byte(" plain-large ")) {
			return "scanned"
		}
		if err := os.Truncate(victim, 0); err != nil {
			t.Error(err)
		}
		ok := false
		defer func() { faulted <- !ok }() // a fault panics through here
		_ = bytes.Count(text, []byte("x"))
		ok = true
		return "scanned"
	}}
	r, err := OpenDir(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var blocks []string
	eachBlock(t, r, func(l Lines) {
		blocks = append(blocks, string(l.Bytes))
		if bytes.Contains(l.Bytes, []byte("file 2 gzip")) && len(faulted) == 0 {
			// The victim is next: let its scan end first.
			if f := <-faulted; !f {
				t.Fatal("the scan of the truncated archive did not fault")
			}
			faulted <- true
		}
	})
	if len(faulted) == 0 {
		t.Fatal("the victim was never scanned")
	}
	// The bytes cut off are named, not skipped in silence.
	if errs := r.Errors(); len(errs) != 1 || !strings.Contains(errs[0].Error(), victim+": the archive was truncated from ") {
		t.Errorf("errors %v; want one saying %s was truncated", errs, victim)
	}
	for _, b := range blocks {
		if strings.Contains(b, " plain-large ") {
			t.Fatalf("the truncated archive's lines were given")
		}
	}
	if last := blocks[len(blocks)-1]; last != "current's line\n" {
		t.Errorf("the stream ends with %.40q", last)
	}
}
