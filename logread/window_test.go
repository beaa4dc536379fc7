package logread

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// Crafted zstd frames whose header declares a huge window: the decoder
// would allocate it before decoding a byte.

// zstdFrame is a frame with header descriptor fhd, then the header's other
// bytes, then one raw last block holding data.
func zstdFrame(fhd byte, header []byte, data string) []byte {
	b := append([]byte{0x28, 0xb5, 0x2f, 0xfd, fhd}, header...)
	n := len(data)<<3 | 1 // raw block, last
	b = append(b, byte(n), byte(n>>8), byte(n>>16))
	return append(b, data...)
}

var hugeWindows = []struct {
	name  string
	frame []byte
	mib   int
}{
	// Window descriptor 19<<3: 2^(10+19) bytes.
	{"window 512 MiB", zstdFrame(0x00, []byte{19 << 3}, "x\n"), 512},
	// Single segment (bit 5) with an 8-byte content size (bits 6-7): the
	// window is the content size, 256 MiB.
	{"single segment 256 MiB", zstdFrame(0xe0, []byte{0, 0, 0, 0x10, 0, 0, 0, 0}, "x\n"), 256},
}

// allocated returns the bytes allocated while f ran.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestZstdWindowRefused: an archive whose zstd header declares a huge
// window is refused, named, without allocating it, and the rest is read.
func TestZstdWindowRefused(t *testing.T) {
	for _, c := range hugeWindows {
		t.Run(c.name, func(t *testing.T) {
			d := newBadDir(t, t.TempDir())
			p := filepath.Join(d.dir, d.names[2])
			if err := os.WriteFile(p, c.frame, 0o744); err != nil {
				t.Fatal(err)
			}
			var got []byte
			var errs []error
			n := allocated(func() { got, errs = readAll(t, d.dir, Options{Name: "./log"}) })
			if n > 64<<20 {
				t.Errorf("%d MiB allocated", n>>20)
			}
			if want := d.without(2); !bytes.Equal(got, want) {
				t.Fatal(firstDiff(got, want))
			}
			msg := "unable to decompress ./log/" + d.names[2] + ": zstd window of " + itoa(c.mib) +
				" MiB is more than the 32 MiB allowed"
			if len(errs) != 1 || !strings.HasPrefix(errs[0].Error(), msg) {
				t.Fatalf("errors %q, want one beginning %q", errs, msg)
			}
			if !errors.Is(errs[0], zstd.ErrWindowSizeExceeded) {
				t.Fatalf("%v is not zstd.ErrWindowSizeExceeded", errs[0])
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestZstdWindowRefusedInStreams: the decoders that read a stream and
// those that tell a compressed copy (identity checks) are bounded too.
func TestZstdWindowRefusedInStreams(t *testing.T) {
	for _, c := range hugeWindows {
		t.Run(c.name, func(t *testing.T) {
			var errs []error
			n := allocated(func() {
				r := NewStream(bytes.NewReader(c.frame), Options{Name: "standard input"})
				for {
					if _, err := r.Next(); err != nil {
						break
					}
				}
				errs = r.Errors()
				r.Close()
			})
			if n > 64<<20 {
				t.Errorf("stream: %d MiB allocated", n>>20)
			}
			if len(errs) != 1 || !strings.HasPrefix(errs[0].Error(), "unable to decompress standard input: ") ||
				!strings.Contains(errs[0].Error(), "32 MiB") {
				t.Fatalf("stream: errors %q", errs)
			}
			n = allocated(func() {
				rd, done, err := newDecompressor(bytes.NewReader(c.frame), compZstd)
				if err == nil {
					_, err = io.Copy(io.Discard, rd)
					done()
				}
				if err == nil {
					t.Error("identity check's decoder: no error")
				}
			})
			if n > 64<<20 {
				t.Errorf("identity check's decoder: %d MiB allocated", n>>20)
			}
		})
	}
}
