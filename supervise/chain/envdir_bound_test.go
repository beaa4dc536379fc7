package chain

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEnvDirLineBound: a first line of MaxEnvLine bytes is read, with or
// without its newline; one byte more is ErrLineTooLong, naming the file.
func TestEnvDirLineBound(t *testing.T) {
	line := strings.Repeat("v", MaxEnvLine)
	for _, c := range []struct {
		content string
		tooLong bool
	}{
		{line, false},
		{line + "\n", false},
		{line + "\nmore", false},
		{line + "v", true},
		{line + "v\n", true},
	} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "V"), []byte(c.content), 0o644); err != nil {
			t.Fatal(err)
		}
		changes, err := ReadEnvDir(dir)
		switch {
		case c.tooLong:
			want := "unable to read " + dir + "/V: first line longer than 131072 bytes"
			if !errors.Is(err, ErrLineTooLong) || err.Error() != want {
				t.Errorf("%d bytes: %v, want %q", len(c.content), err, want)
			}
		case err != nil:
			t.Errorf("%d bytes: %v", len(c.content), err)
		default:
			if env := changes.Apply(nil); len(env) != 1 || env[0] != "V="+line {
				t.Errorf("%d bytes: environment of %d entries, want V of %d bytes", len(c.content), len(env), len(line))
			}
		}
	}
}
