package rotate

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

func TestProcessorProtocol(t *testing.T) {
	// ML21: the processor reads previous on 0; its output becomes the .s;
	// it gets the old state on 4 and writes the new one on 5; its working
	// directory is the log directory.
	dir := filepath.Join(t.TempDir(), "d")
	var w warnings
	o := testOptions(&w)
	o.MaxSize, o.HasProcessor = 4096, true
	o.Processor = `echo "in=$(wc -c) state=[$(cat <&4)] cwd=$(basename $(pwd))"; echo NEXT >&5`
	d := mustOpen(t, dir, o)
	write(t, d, genLines(60))
	d.Close()
	_, files := archives(t, dir)
	want := []string{"in=2100 state=[] cwd=d\n", "in=2100 state=[NEXT] cwd=d\n"}
	if len(files) != 2 || string(files[0]) != want[0] || string(files[1]) != want[1] {
		t.Fatalf("archives %q, want %q", files, want)
	}
	if got := modes(listDir(t, dir)); got != "@.s 0744, @.s 0744, current 0744, lock 0600, state 0644" {
		t.Fatalf("entries %s", got)
	}
	if st, _ := os.ReadFile(filepath.Join(dir, "state")); string(st) != "NEXT\n" {
		t.Fatalf("state %q", st)
	}
	if len(w.all()) != 0 {
		t.Fatalf("warnings %q", w.all())
	}
}

func TestEmptyProcessorDiscards(t *testing.T) {
	// ML22: "!" alone is a processor; its archives are empty.
	dir := filepath.Join(t.TempDir(), "d")
	d := mustOpen(t, dir, Options{MaxSize: 4096, HasProcessor: true})
	write(t, d, genLines(30))
	d.Close()
	_, files := archives(t, dir)
	if len(files) != 1 || len(files[0]) != 0 {
		t.Fatalf("archives %q", files)
	}
}

func TestProcessorFailureAndCrashAreRetried(t *testing.T) {
	for _, c := range []struct{ name, proc, warning string }{
		{"exit 1", `if [ -e failed ]; then cat; else : > failed; exit 1; fi`, "processor failed in ./d, pausing"},
		{"killed", `if [ -e crashed ]; then cat; else : > crashed; kill -9 $$; fi`, "processor crashed in ./d, pausing: killed by signal 9 (killed)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "d")
			var w warnings
			o := testOptions(&w)
			o.MaxSize, o.HasProcessor, o.Processor, o.Name = 4096, true, c.proc, "./d"
			d := mustOpen(t, dir, o)
			in := genLines(30)
			write(t, d, in)
			d.Close()
			_, files := archives(t, dir)
			if len(files) != 1 || !bytes.Equal(files[0], in[:2100]) {
				t.Fatalf("archives %q", files)
			}
			if ws := w.all(); len(ws) != 1 || ws[0] != c.warning {
				t.Fatalf("warnings %q, want %q", ws, c.warning)
			}
			if d.Stats().Pauses != 1 {
				t.Fatalf("pauses %d", d.Stats().Pauses)
			}
		})
	}
}

func TestProcessorDoesNotStallTheWriter(t *testing.T) {
	// The processor waits for a file that only the test creates, after the
	// writer has gone on writing into the new current.
	dir := filepath.Join(t.TempDir(), "d")
	o := Options{MaxSize: 4096, HasProcessor: true, Processor: `while [ ! -e go ]; do sleep 0.01; done; cat`}
	d := mustOpen(t, dir, o)
	in := genLines(40) // one rotation (2100 bytes) and 1900 more
	write(t, d, in)
	if _, err := os.Stat(filepath.Join(dir, "previous")); err != nil {
		t.Fatalf("the processor has not started or the writer waited for it: %v", err)
	}
	if d.Size() != 1900 {
		t.Fatalf("current holds %d bytes; writing must go on while the processor runs", d.Size())
	}
	os.WriteFile(filepath.Join(dir, "go"), nil, 0o644)
	d.Close()
	_, files := archives(t, dir)
	cur, _ := os.ReadFile(filepath.Join(dir, "current"))
	if len(files) != 1 || !bytes.Equal(append(files[0], cur...), in) {
		t.Fatalf("archives %d", len(files))
	}
}

func TestInterruptAbandonsProcessingKeepingTheData(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	o := Options{MaxSize: 4096, HasProcessor: true, Processor: `sleep 60; cat`}
	d := mustOpen(t, dir, o)
	in := genLines(30)
	write(t, d, in)
	start := time.Now()
	d.Interrupt()
	d.Close()
	if time.Since(start) > 30*time.Second {
		t.Fatal("Close waited for the processor after Interrupt")
	}
	names, files := archives(t, dir)
	cur, _ := os.ReadFile(filepath.Join(dir, "current"))
	if len(names) != 1 || !strings.HasSuffix(names[0], ".u") || !bytes.Equal(append(files[0], cur...), in) {
		t.Fatalf("archives %q: the unprocessed file must be kept as .u", names)
	}
	if got := modes(listDir(t, dir)); got != "@.u 0744, current 0744, lock 0600, state 0644" {
		t.Fatalf("entries %s", got)
	}
}

func decompress(t *testing.T, b []byte) []byte {
	t.Helper()
	switch {
	case bytes.HasPrefix(b, []byte{0x1f, 0x8b}):
		r, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		out, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		return out
	case bytes.HasPrefix(b, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		r, err := zstd.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		out, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	t.Fatalf("archive is neither gzip nor zstd: % x", b[:min(len(b), 8)])
	return nil
}

func TestBuiltInCompression(t *testing.T) {
	in := genLines(1000)
	for _, c := range []Compression{{Method: Gzip}, {Method: Gzip, Level: 9}, {Method: Zstd}, {Method: Zstd, Level: 19}} {
		t.Run(c.Method.String(), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "d")
			d := mustOpen(t, dir, Options{MaxSize: 16384, Keep: 1000, Compression: c})
			write(t, d, in)
			d.Close()
			names, files := archives(t, dir)
			var all []byte
			for i, f := range files {
				if !strings.HasSuffix(names[i], ".s") {
					t.Fatalf("archive %s", names[i])
				}
				plain := decompress(t, f)
				if len(plain) > 16384 || len(f) >= len(plain) {
					t.Fatalf("archive %s: %d compressed, %d plain", names[i], len(f), len(plain))
				}
				all = append(all, plain...)
				// The archives are what the standard tools read.
				tool := map[Method][]string{Gzip: {"gzip", "-dc"}, Zstd: {"zstd", "-dcq"}}[c.Method]
				if p, err := exec.LookPath(tool[0]); err == nil {
					out, err := exec.Command(p, append(tool[1:], filepath.Join(dir, names[i]))...).Output()
					if err != nil || !bytes.Equal(out, plain) {
						t.Fatalf("%s %s: %v", tool[0], names[i], err)
					}
				}
			}
			cur, _ := os.ReadFile(filepath.Join(dir, "current"))
			if !bytes.Equal(append(all, cur...), in) {
				t.Fatal("decompressed archives and current differ from the input")
			}
		})
	}
}

func TestMaxTotalCountsCompressedBytes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	d := mustOpen(t, dir, Options{MaxSize: 4096, Keep: 1000, MaxTotal: 5000})
	write(t, d, genLines(100))
	d.Close()
	_, files := archives(t, dir)
	total := 0
	for _, f := range files {
		total += len(f)
	}
	if len(files) != 2 || total > 5000 {
		t.Fatalf("%d archives of %d bytes in all, cap 5000", len(files), total)
	}
}

func TestPeriodRotatesANonEmptyCurrent(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	d := mustOpen(t, dir, Options{Period: 50 * time.Millisecond})
	defer d.Close()
	write(t, d, []byte("first\n"))
	deadline := time.Now().Add(10 * time.Second)
	var files [][]byte
	for len(files) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		_, files = archives(t, dir)
	}
	if len(files) != 1 || string(files[0]) != "first\n" {
		t.Fatalf("archives %q", files)
	}
	time.Sleep(200 * time.Millisecond)
	if n := d.Stats().Rotations; n != 1 {
		t.Fatalf("an empty current was rotated: %d rotations", n)
	}
}

func TestRotateOnDemandSkipsAnEmptyCurrent(t *testing.T) {
	// P01: ALRM rotates only a non-empty current.
	dir := filepath.Join(t.TempDir(), "d")
	d := mustOpen(t, dir, Options{})
	write(t, d, []byte("line1\n"))
	d.Rotate()
	d.Rotate()
	d.Close()
	names, files := archives(t, dir)
	if len(names) != 1 || string(files[0]) != "line1\n" {
		t.Fatalf("archives %q", names)
	}
}
