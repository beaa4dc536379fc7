package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/taikit/taikit/internal/testref"
)

// TestRefIgnoresFullDiskWords: a script with taikit's full-disk words L
// and N still runs under daemontools' multilog, which ignores words with
// letters it does not know, and logs the same lines as without them; ours
// logs the same lines too (the words matter only on a full disk).
func TestRefIgnoresFullDiskWords(t *testing.T) {
	testref.Need(t, refMultilog)
	input := []byte("one\ntwo\nthree\n")
	for _, prog := range []string{refMultilog, ours(t)} {
		dir := t.TempDir()
		res := run(t, prog, dir, input, nil, "L", "N3", "./d")
		if res.Exit != 0 || len(res.Stderr) != 0 {
			t.Fatalf("%s L N3 ./d: exit %d, stderr %q", prog, res.Exit, res.Stderr)
		}
		got, err := os.ReadFile(filepath.Join(dir, "d", "current"))
		if err != nil || !bytes.Equal(got, input) {
			t.Fatalf("%s L N3 ./d logged %q (%v), want %q", prog, got, err, input)
		}
	}
}
