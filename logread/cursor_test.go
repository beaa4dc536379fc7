package logread

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// cursorText is a cursor as the reader saved it when it was part of package
// rotate: the text format has not changed, so such files still load, and
// give back the same text.
const cursorText = "taikit-rotate-cursor 1\n" +
	"after @4000000065a1b2c3d4e5f607\n" +
	"read 2049 131074 4096 4096 00ab00cd00ef0011\n" +
	"at current - 2049 131075 1234 1234 1122334455667788\n"

func TestCursorTextUnchanged(t *testing.T) {
	var c Cursor
	if err := c.UnmarshalText([]byte(cursorText)); err != nil {
		t.Fatal(err)
	}
	if c.nq != 1 || !c.has || c.kind != kindCurrent || c.off != 1234 || c.file.id != (fileID{2049, 131075}) {
		t.Fatalf("parsed %+v", c)
	}
	if text, _ := c.MarshalText(); string(text) != cursorText {
		t.Fatalf("written back as\n%s", text)
	}
}

// SaveCursor replaces the file whole, leaves no temporary file, makes a
// new file 0600 and keeps an existing file's mode; LoadCursor reads it.
func TestSaveCursor(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cursor")
	if c, err := LoadCursor(path); !errors.Is(err, fs.ErrNotExist) || c != (Cursor{}) {
		t.Fatalf("a missing cursor: %v, %+v", err, c)
	}
	var c Cursor
	if err := c.UnmarshalText([]byte(cursorText)); err != nil {
		t.Fatal(err)
	}
	for i, want := range []Cursor{c, {}, c} {
		if err := SaveCursor(path, want); err != nil {
			t.Fatal(err)
		}
		got, err := LoadCursor(path)
		if err != nil || got != want {
			t.Fatalf("save %d: loaded %+v, %v", i, got, err)
		}
		if names := listDir(t, dir); len(names) != 1 {
			t.Fatalf("save %d left %q", i, names)
		}
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %o", st.Mode().Perm())
	}
	os.Chmod(path, 0o644)
	if err := SaveCursor(path, c); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o644 {
		t.Fatalf("mode %o after a save over a 0644 file", st.Mode().Perm())
	}
	os.WriteFile(path, []byte("not a cursor\n"), 0o644)
	if _, err := LoadCursor(path); !errors.Is(err, ErrCursorSyntax) {
		t.Fatalf("a malformed cursor: %v", err)
	}
	if err := SaveCursor(filepath.Join(dir, "missing", "cursor"), c); err == nil {
		t.Fatal("saved into a missing directory")
	}
}
