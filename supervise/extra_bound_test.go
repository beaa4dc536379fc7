package supervise

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/taikit/taikit/tai64n"
)

// extraFile writes content as the extra file of a new service directory
// and makes the file size bytes long (a sparse tail of NULs).
func extraFile(t *testing.T, content string, size int64) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "supervise"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ExtraPath(dir), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(ExtraPath(dir), size); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestReadExtraHuge: a 1 GiB extra file (a valid record followed by a
// sparse line of NULs, which a reader would skip as a line it does not
// know) is refused as too long, and reading it allocates only about the
// bound, not the file (svstat once took 3.9 GB for it).
func TestReadExtraHuge(t *testing.T) {
	record := string(Extra{Status: tai64n.Label{Sec: 1 << 62}, Restarts: 2}.Append(nil))
	dir := extraFile(t, record, 1<<30)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := ReadExtra(dir)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrExtraFormat) || !strings.Contains(err.Error(), "longer than 4096 bytes") {
		t.Errorf("ReadExtra of a 1 GiB file: %v, want it refused as too long", err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 64<<10 {
		t.Errorf("ReadExtra of a 1 GiB file allocated %d bytes, want at most 64 KiB", n)
	}
}

// TestReadExtraBound: readExtra consumes at most MaxExtraSize+1 bytes of
// an endless input, and a file of exactly MaxExtraSize bytes is read.
func TestReadExtraBound(t *testing.T) {
	r := &countingReader{}
	if _, err := readExtra(r); !errors.Is(err, ErrExtraFormat) {
		t.Errorf("readExtra of an endless input: %v, want ErrExtraFormat", err)
	}
	if r.n != MaxExtraSize+1 {
		t.Errorf("readExtra consumed %d bytes of an endless input, want %d", r.n, MaxExtraSize+1)
	}
	want := Extra{Status: tai64n.Label{Sec: 1 << 62}, Restarts: 3}
	record := string(want.Append(nil))
	// Pad with a line no reader knows, up to the bound exactly.
	padded := record + "future " + strings.Repeat("x", MaxExtraSize-len(record)-len("future \n")) + "\n"
	if len(padded) != MaxExtraSize {
		t.Fatalf("padded to %d bytes", len(padded))
	}
	got, err := ReadExtra(extraFile(t, padded, MaxExtraSize))
	if err != nil || got != want {
		t.Errorf("ReadExtra of %d bytes: %+v, %v; want %+v", MaxExtraSize, got, err, want)
	}
	if _, err := ReadExtra(extraFile(t, padded, MaxExtraSize+1)); !errors.Is(err, ErrExtraFormat) {
		t.Errorf("ReadExtra of %d bytes: %v, want ErrExtraFormat", MaxExtraSize+1, err)
	}
}

// countingReader is an endless input of 'a' that counts what it gives.
type countingReader struct{ n int }

func (r *countingReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	r.n += len(p)
	return len(p), nil
}

var _ io.Reader = (*countingReader)(nil)
