package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestNothingInTMPDIR: a write touches no directory but the destination's.
// $TMPDIR is on the same file system as the destination, where renameio by
// default makes its files; a directory whose entries change gets a new
// modification time, so an old one that survives the write shows nothing
// was made there, even briefly.
func TestNothingInTMPDIR(t *testing.T) {
	top := t.TempDir()
	tmp, dest := filepath.Join(top, "tmp"), filepath.Join(top, "dest")
	for _, d := range []string{tmp, dest} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	long := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := os.Chtimes(tmp, long, long); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TMPDIR", tmp)
	path := filepath.Join(dest, "cursor")
	for _, text := range []string{"first\n", "second\n"} {
		if err := WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != text {
			t.Fatalf("%s holds %q (%v), want %q", path, got, err, text)
		}
	}
	st, err := os.Stat(tmp)
	if err != nil {
		t.Fatal(err)
	}
	if !st.ModTime().Equal(long) {
		t.Errorf("$TMPDIR %s was written to during the writes (modified %v)", tmp, st.ModTime())
	}
	entries, err := os.ReadDir(dest)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("%s holds %d entries after the writes, want only the file", dest, len(entries))
	}
}

// TestModeKept: a new file gets the mode asked for, a replaced one keeps
// its own (a cursor file an operator made readable stays readable).
func TestModeKept(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state")
	if err := WriteFile(path, []byte("a"), 0o600); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("new file: %v %v, want mode 0600", st.Mode(), err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, []byte("b"), 0o600); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o644 {
		t.Fatalf("replaced file: %v %v, want its mode 0644 kept", st.Mode(), err)
	}
}
