package logcat

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// An archive truncated while logcat reads it from its mapping (its owner
// truncating it under a reader of another account) ends that input with
// a warning naming the archive and exit 111, not with a crash: the output
// is the archive's first lines, whole.
func TestTruncatedArchiveWhileMapped(t *testing.T) {
	dir := t.TempDir()
	var b bytes.Buffer
	// More than the most a block from a mapping holds (16 MiB): what is
	// read after the truncation is not all in the first block.
	for i := 0; b.Len() < 20<<20; i++ {
		fmt.Fprintf(&b, "@4000000065000000%08x worker: job=%d needle\n", i, i)
	}
	archive := filepath.Join(dir, "@4000000065300000000000aa.s")
	if err := os.WriteFile(archive, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "current"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	truncated := false
	stdout := writerFunc(func(p []byte) (int, error) {
		if !truncated {
			// The first output: the archive is being read.
			truncated = true
			if err := os.Truncate(archive, 0); err != nil {
				t.Error(err)
			}
		}
		return out.Write(p)
	})
	code := Run([]string{"-E", "needle", dir}, Env{Stdout: stdout, Stderr: &errOut, Now: time.Now})
	if !truncated {
		t.Fatal("nothing was written")
	}
	if code != 111 || !strings.Contains(errOut.String(), "unable to read "+archive+": the archive was truncated") {
		t.Fatalf("exit %d, stderr %q", code, errOut.String())
	}
	if out.Len() == 0 || out.Len() >= b.Len() || !bytes.HasPrefix(b.Bytes(), out.Bytes()) || !bytes.HasSuffix(out.Bytes(), []byte("needle\n")) {
		t.Fatalf("output of %d bytes is not the archive's first lines", out.Len())
	}
}
