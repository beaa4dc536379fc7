package rotate

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/taikit/taikit/errtext"
)

// TestOpenCurrentLeadingOutside: a current that a symbolic link leads out
// of the directory (relative or absolute) stops Open with ErrOutside as the
// cause, worded as doc/multilog.8 says, and nothing outside is touched.
func TestOpenCurrentLeadingOutside(t *testing.T) {
	for _, target := range []string{"../elsewhere", "ABS"} {
		work := t.TempDir()
		dir := filepath.Join(work, "d")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		elsewhere := filepath.Join(work, "elsewhere")
		if err := os.WriteFile(elsewhere, []byte("old line\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if target == "ABS" {
			target = elsewhere
		}
		if err := os.Symlink(target, filepath.Join(dir, "current")); err != nil {
			t.Fatal(err)
		}
		d, err := Open(dir, Options{Name: "./d", Warn: func(string) {}})
		if err == nil {
			d.Close()
			t.Fatalf("%s: Open succeeded", target)
		}
		var e *errtext.Error
		if !errors.As(err, &e) || !errors.Is(err, ErrOutside) ||
			err.Error() != "unable to stat ./d/current: symbolic link leads outside the directory" {
			t.Errorf("%s: Open = %T %q", target, err, err)
		}
		if b, _ := os.ReadFile(elsewhere); string(b) != "old line\n" {
			t.Errorf("%s: the file outside became %q", target, b)
		}
	}
}

// TestOutsideKeepsErrno: only os.Root's own refusal, which has no errno,
// becomes ErrOutside; errors with an errno and a closed Root stay as they
// are.
func TestOutsideKeepsErrno(t *testing.T) {
	dir := t.TempDir()
	f, err := OpenDirFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Stat("missing"); !errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrOutside) {
		t.Errorf("Stat of a missing name: %v", err)
	}
	if err := os.Symlink("/", filepath.Join(dir, "up")); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Lstat("up"); err != nil {
		t.Errorf("Lstat of the link itself: %v", err)
	}
	if err := f.Rename("up/etc", "x"); !errors.Is(err, ErrOutside) || errtext.Of(errtext.WithoutPath(err)) != "symbolic link leads outside the directory" {
		t.Errorf("Rename through the link: %v", err)
	}
	f.Close()
	var errno syscall.Errno
	if _, err := f.Stat("x"); !errors.Is(err, fs.ErrClosed) || errors.As(err, &errno) {
		t.Errorf("Stat after Close: %v", err)
	}
}
