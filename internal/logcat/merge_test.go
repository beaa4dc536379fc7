package logcat

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/taikit/taikit/internal/logtest"
	"github.com/taikit/taikit/tzlocal"
)

// runLogcat runs the command with args and returns its output, messages
// and exit code.
func runLogcat(args ...string) (string, string, int) {
	var out, errs bytes.Buffer
	code := Run(args, Env{
		Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errs,
		Now:       time.Now,
		LocalZone: func() *tzlocal.Zone { return nil },
	})
	return out.String(), errs.String(), code
}

func TestMergeThreeDirectories(t *testing.T) {
	dirs, want := logtest.MergeFixture(t, t.TempDir(), -1)
	for _, d := range dirs {
		if archives, _ := filepath.Glob(filepath.Join(d, "@*.s")); len(archives) < 5 {
			t.Fatalf("%s: %d archives, want several", d, len(archives))
		}
	}
	out, errs, code := runLogcat(dirs...)
	if code != 0 || errs != "" {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if out != want {
		t.Fatalf("merge differs:\n%s", firstDiff(want, out))
	}
}

func TestMergeWithAnEmptyDirectory(t *testing.T) {
	dirs, want := logtest.MergeFixture(t, t.TempDir(), 1)
	out, errs, code := runLogcat(dirs...)
	if code != 0 || errs != "" {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if out != want {
		t.Fatalf("merge differs:\n%s", firstDiff(want, out))
	}
}

// A directory that is not there is named in a warning; the others are
// still read and merged, and the exit code says something was missing.
func TestMergeWithAMissingDirectory(t *testing.T) {
	root := t.TempDir()
	dirs, want := logtest.MergeFixture(t, root, 1)
	missing := filepath.Join(root, "nope")
	for _, args := range [][]string{
		{dirs[0], missing, dirs[2]},
		{missing, dirs[0], dirs[2]},
		{dirs[0], dirs[2], missing},
	} {
		out, errs, code := runLogcat(args...)
		if code != 111 {
			t.Errorf("%q: exit %d, want 111", args, code)
		}
		if wantMsg := "logcat: warning: unable to read " + missing + ": file does not exist\n"; errs != wantMsg {
			t.Errorf("%q: messages %q, want %q", args, errs, wantMsg)
		}
		if out != want {
			t.Errorf("%q: merge differs:\n%s", args, firstDiff(want, out))
		}
	}
}

// firstDiff describes where two outputs first differ.
func firstDiff(want, got string) string {
	w, g := strings.SplitAfter(want, "\n"), strings.SplitAfter(got, "\n")
	for i := range min(len(w), len(g)) {
		if w[i] != g[i] {
			return fmt.Sprintf("line %d: got %q, want %q", i+1, g[i], w[i])
		}
	}
	return fmt.Sprintf("%d lines, want %d", len(g), len(w))
}
