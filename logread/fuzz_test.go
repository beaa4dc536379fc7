package logread

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/taikit/taikit/errtext"
	"github.com/taikit/taikit/internal/testref"
)

// FuzzReadArchive gives the directory reader an archive holding arbitrary
// bytes — stored as they are, gzip- or zstd-compressed, or cut short after
// compression — followed by a current. The reader must never fail other
// than with an *errtext.Error naming the archive, must always go on to current,
// and must give back exactly what was stored wherever the archive is sound.
func FuzzReadArchive(f *testing.F) {
	f.Add([]byte("@4000000065f1a2b3001e8480 hello\nno stamp\n"), uint8(0), uint16(0))
	f.Add([]byte("\x1f\x8b\x08\x00garbage"), uint8(0), uint16(0))
	f.Add([]byte("(\xb5/\xfd\x00garbage"), uint8(0), uint16(0))
	f.Add(bytes.Repeat([]byte("@4000000065f1a2b3001e8480 a long line\n"), 200), uint8(1), uint16(3))
	f.Add([]byte("line without newline"), uint8(2), uint16(9))
	f.Fuzz(func(t *testing.T, data []byte, method uint8, cut uint16) {
		stored := data
		switch method % 3 {
		case 1:
			var b bytes.Buffer
			w := gzip.NewWriter(&b)
			w.Write(data)
			w.Close()
			stored = b.Bytes()
		case 2:
			stored = fuzzZstd().EncodeAll(data, nil)
		}
		truncated := method%3 != 0 && int(cut) > 0 && int(cut) < len(stored)
		if truncated {
			stored = stored[:len(stored)-int(cut)]
		}
		dir := fuzzDir(t)
		const archive = "@4000000065f1a2b3001e8480.s"
		if err := os.WriteFile(filepath.Join(dir, archive), stored, 0o744); err != nil {
			t.Fatal(err)
		}
		const tail = "@4000000065f1a2b4001e8480 current line\n"
		if err := os.WriteFile(filepath.Join(dir, "current"), []byte(tail), 0o744); err != nil {
			t.Fatal(err)
		}
		var fileErrs []error
		r, err := OpenDir(dir, Options{OnError: func(err error) { fileErrs = append(fileErrs, err) }})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		var got bytes.Buffer
		for {
			l, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("Next: %v", err)
			}
			got.Write(l.Bytes)
		}
		for _, err := range fileErrs {
			var fe *errtext.Error
			if !errors.As(err, &fe) || !bytes.Contains([]byte(err.Error()), []byte(archive)) {
				t.Fatalf("error %v is not an *errtext.Error naming the archive", err)
			}
		}
		if !bytes.HasSuffix(got.Bytes(), []byte(tail)) {
			t.Fatalf("current was not read after the archive: got %q", got.Bytes())
		}
		body := got.Bytes()[:got.Len()-len(tail)]
		// Plain bytes that happen to start like a compressed stream are
		// taken for one; everything else that is sound must come back.
		// So is a compressed stream cut so short that its magic number is
		// gone: it is plain bytes now.
		switch {
		case !looksCompressed(stored):
			data = stored
		case truncated:
			if len(fileErrs) == 0 {
				t.Fatalf("an archive cut short after compression gave no error (read %q)", body)
			}
			return
		case method%3 == 0:
			return // plain bytes that look compressed: any outcome but a crash
		}
		if len(fileErrs) > 0 {
			t.Fatalf("a sound archive gave errors: %v", fileErrs)
		}
		if !bytes.Equal(body, data) {
			t.Fatalf("archive read back as %q, stored %q", body, data)
		}
	})
}

// fuzzDir is one directory for all runs of a fuzzing process, each run
// writing the same two names: a directory per run would cost more than the
// run. TestMain removes it when the process ends.
func fuzzDir(t *testing.T) string {
	fuzzDirOnce.Do(func() { fuzzDirPath, fuzzDirErr = testref.TempDirForBinary("taikit-fuzz-read-") })
	if fuzzDirErr != nil {
		t.Fatal(fuzzDirErr)
	}
	return fuzzDirPath
}

var (
	fuzzDirOnce sync.Once
	fuzzDirPath string
	fuzzDirErr  error
)

// fuzzZstd is one encoder for all runs: making one costs more than a run.
var fuzzZstd = sync.OnceValue(func() *zstd.Encoder {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
	if err != nil {
		panic(err)
	}
	return enc
})

func looksCompressed(b []byte) bool {
	return bytes.HasPrefix(b, []byte{0x1f, 0x8b}) || bytes.HasPrefix(b, []byte{0x28, 0xb5, 0x2f, 0xfd})
}
