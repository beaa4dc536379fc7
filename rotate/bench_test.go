package rotate

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"
)

// benchLines returns about size bytes of 92-byte log lines.
func benchLines(size int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "@4000000069c8a3f12a05f200 sshd[%05d]: Accepted publickey for deploy from 10.0.%d.%d port %05d\n",
			i%50000, i%256, (i*7)%256, 20000+i%40000)
	}
	return b.Bytes()
}

// BenchmarkWrite writes 64 MiB in 128 KiB batches, as multilog's engine
// hands them over, with s16777215: four rotations with fsync each.
func BenchmarkWrite(b *testing.B) {
	data := benchLines(64 << 20)
	for _, c := range []struct {
		name string
		comp Compression
	}{{"plain", Compression{}}, {"zstd", Compression{Method: Zstd}}, {"gzip", Compression{Method: Gzip}}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				dir := filepath.Join(b.TempDir(), "d")
				d, err := Open(dir, Options{MaxSize: 16777215, Keep: 100, Compression: c.comp})
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				for p := data; len(p) > 0; {
					k := min(len(p), 128<<10)
					if _, err := d.Write(p[:k]); err != nil {
						b.Fatal(err)
					}
					p = p[k:]
				}
				if err := d.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestWriteDoesNotAllocate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	d := mustOpen(t, dir, Options{MaxSize: 16777215})
	defer d.Close()
	batch := benchLines(128 << 10)
	if n := testing.AllocsPerRun(50, func() { d.Write(batch) }); n != 0 {
		t.Fatalf("Write allocates %v times per batch", n)
	}
}
