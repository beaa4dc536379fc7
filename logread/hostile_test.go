package logread

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/taikit/taikit/internal/testref"
)

// A hostile directory: whoever may write the log directory (its writer's
// account) can plant anything under the names a Reader opens. A Reader,
// often root's, must never follow a link out of the directory, never block
// on a FIFO or a device, never loop: each such entry is refused with an
// error naming it and what it is, and the rest of the directory is read.

// plant puts an object of the given kind at path; secret is a file
// outside the directory that a link may point to.
func plant(t *testing.T, kind, path, secret string) {
	t.Helper()
	os.RemoveAll(path)
	var err error
	switch kind {
	case "link out":
		err = os.Symlink(secret, path)
	case "link in":
		inside := filepath.Join(filepath.Dir(path), "real")
		if err = os.WriteFile(inside, []byte("INSIDE-LINK-TARGET\n"), 0o644); err == nil {
			err = os.Symlink("real", path)
		}
	case "dangling link":
		err = os.Symlink(filepath.Join(filepath.Dir(secret), "nothing"), path)
	case "fifo":
		err = syscall.Mkfifo(path, 0o644)
	case "directory":
		err = os.Mkdir(path, 0o755)
	case "device":
		if os.Geteuid() != 0 {
			t.Skip("making a device node needs root")
		}
		err = syscall.Mknod(path, syscall.S_IFCHR|0o644, 1<<8|5) // /dev/zero's 1:5
	default:
		t.Fatalf("unknown kind %q", kind)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// hostileKinds are the objects planted, with what the error calls them.
var hostileKinds = []struct{ kind, what string }{
	{"link out", "a symbolic link"},
	{"link in", "a symbolic link"},
	{"dangling link", "a symbolic link"},
	{"fifo", "a FIFO"},
	{"directory", "a directory"},
	{"device", "a character device"},
}

// readAllBounded is readAll, failing instead of hanging when the Reader
// does not end.
func readAllBounded(t *testing.T, dir string, opts Options) ([]byte, []error) {
	t.Helper()
	type result struct {
		out  []byte
		errs []error
		err  error
	}
	done := make(chan result, 1)
	go func() {
		r, err := OpenDir(dir, opts)
		if err != nil {
			done <- result{err: err}
			return
		}
		defer r.Close()
		var out []byte
		for {
			l, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				done <- result{err: err}
				return
			}
			out = append(out, l.Bytes...)
		}
		done <- result{out: out, errs: r.Errors()}
	}()
	select {
	case res := <-done:
		if res.err != nil {
			t.Fatal(res.err)
		}
		return res.out, res.errs
	case <-time.After(60 * time.Second):
		t.Fatal("the Reader did not end: it hangs or loops")
	}
	return nil, nil
}

// TestRefuseNonRegular plants each kind of object at each name a Reader
// opens: it is refused, named, and the rest is read; no byte of a link's
// target is read.
func TestRefuseNonRegular(t *testing.T) {
	secretDir := t.TempDir()
	secret := filepath.Join(secretDir, "shadow")
	if err := os.WriteFile(secret, []byte("SECRET-OUTSIDE-THE-DIRECTORY\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"archive", fileCurrent, filePrevious, fileProcessed} {
		for _, k := range hostileKinds {
			t.Run(name+"/"+k.kind, func(t *testing.T) {
				d := newBadDir(t, t.TempDir())
				want := d.without(-1)
				target := name
				if name == "archive" {
					target = d.names[2]
					want = d.without(2)
				} else if name == fileCurrent {
					want = d.without(5)
				}
				plant(t, k.kind, filepath.Join(d.dir, target), secret)
				got, errs := readAllBounded(t, d.dir, Options{Name: "./log"})
				if bytes.Contains(got, []byte("SECRET")) || bytes.Contains(got, []byte("INSIDE-LINK")) {
					t.Fatal("read through the link")
				}
				if !bytes.Equal(got, want) {
					t.Fatal(firstDiff(got, want))
				}
				msg := "unable to open ./log/" + target + ": not a regular file: " + k.what
				if len(errs) != 1 || errs[0].Error() != msg {
					t.Fatalf("errors %q, want one: %q", errs, msg)
				}
				if !errors.Is(errs[0], ErrNotRegular) {
					t.Fatalf("%v is not ErrNotRegular", errs[0])
				}
			})
		}
	}
}

// TestDirectoryThroughLink: the directory named may itself be reached
// through a symbolic link (/service/x/log/main, /service/x a link): only
// what is inside is checked.
func TestDirectoryThroughLink(t *testing.T) {
	d := newBadDir(t, t.TempDir())
	link := filepath.Join(t.TempDir(), "main")
	if err := os.Symlink(d.dir, link); err != nil {
		t.Fatal(err)
	}
	got, errs := readAllBounded(t, link, Options{})
	if want := d.without(-1); len(errs) > 0 || !bytes.Equal(got, want) {
		t.Fatalf("%v\n%s", errs, firstDiff(got, want))
	}
}

// TestFollowRefusedCurrent: a follower whose "current" is a link (or a
// FIFO) says so once, waits without spinning, reads the regular "current"
// that replaces it, and stops when interrupted.
func TestFollowRefusedCurrent(t *testing.T) {
	for _, k := range []string{"link out", "fifo", "directory"} {
		t.Run(k, func(t *testing.T) {
			secret := filepath.Join(t.TempDir(), "shadow")
			os.WriteFile(secret, []byte("SECRET\n"), 0o600)
			d := newBadDir(t, t.TempDir())
			cur := filepath.Join(d.dir, fileCurrent)
			plant(t, k, cur, secret)
			errc := make(chan error, 100)
			f := startFollower(t, d.dir, Options{Name: "./log", PollInterval: 20 * time.Millisecond,
				OnError: func(err error) { errc <- err }}, false)
			var first error
			select {
			case first = <-errc:
			case <-time.After(60 * time.Second):
				t.Fatal("no error for the planted current")
			}
			if !strings.HasPrefix(first.Error(), "unable to open ./log/current: not a regular file: ") {
				t.Fatalf("error %v", first)
			}
			// Many looks at the directory while the object stays.
			for i := range 20 {
				os.WriteFile(filepath.Join(d.dir, "poke"), []byte{byte(i)}, 0o644)
			}
			os.RemoveAll(cur)
			os.WriteFile(cur, []byte("now a file\n"), 0o644)
			want := append(d.without(5), "now a file\n"...)
			testref.WaitFor(t, "the new current", func() bool { return f.len() >= len(want) })
			out, _ := f.stop(t)
			if !bytes.Equal(out, want) {
				t.Fatal(firstDiff(out, want))
			}
			if n := len(errc); n != 0 {
				t.Fatalf("%d more errors after the first: %v", n, <-errc)
			}
		})
	}
}

// TestRefuseForeignHardLink: a hard link planted at current or an archive
// name, to a file of another account's, is refused by name and not read;
// the writer's own file with two names (the directory's owner's) is read.
func TestRefuseForeignHardLink(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root, to give the directory to another account: run as root, as CI does")
	}
	secretDir := t.TempDir()
	secret := filepath.Join(secretDir, "shadow")
	if err := os.WriteFile(secret, []byte("SECRET-OUTSIDE-THE-DIRECTORY\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"archive", fileCurrent} {
		t.Run(name, func(t *testing.T) {
			d := newBadDir(t, t.TempDir())
			target, want := name, d.without(5)
			if name == "archive" {
				target, want = d.names[2], d.without(2)
			}
			// The directory and its files are the log account's.
			filepath.WalkDir(d.dir, func(p string, _ os.DirEntry, err error) error {
				if err == nil {
					err = os.Lchown(p, 65534, 65534)
				}
				return err
			})
			os.Remove(filepath.Join(d.dir, target))
			if err := os.Link(secret, filepath.Join(d.dir, target)); err != nil {
				t.Fatal(err)
			}
			got, errs := readAllBounded(t, d.dir, Options{Name: "./log"})
			if bytes.Contains(got, []byte("SECRET")) {
				t.Fatal("read the file of another account through a hard link")
			}
			if !bytes.Equal(got, want) {
				t.Fatal(firstDiff(got, want))
			}
			msg := "unable to open ./log/" + target + ": a hard link (2 names) to a file of uid 0, in a directory of uid 65534: not read"
			if len(errs) != 1 || errs[0].Error() != msg || !errors.Is(errs[0], ErrNotRegular) {
				t.Fatalf("errors %q, want one: %q", errs, msg)
			}
		})
	}
	// The writer's own file under two names is read.
	d := newBadDir(t, t.TempDir())
	if err := os.Link(filepath.Join(d.dir, d.names[2]), filepath.Join(d.dir, "spare-name")); err != nil {
		t.Fatal(err)
	}
	got, errs := readAllBounded(t, d.dir, Options{Name: "./log"})
	if want := d.without(-1); len(errs) > 0 || !bytes.Equal(got, want) {
		t.Fatalf("own hard link: %v\n%s", errs, firstDiff(got, want))
	}
}

// TestWaitForDir: only a follower may open a directory that is not there
// yet; it starts as one whose directory went away.
func TestWaitForDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "main")
	if _, err := OpenDir(dir, Options{WaitForDir: true}); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("without Follow: %v, want file does not exist", err)
	}
	r, err := OpenDir(dir, Options{WaitForDir: true, Follow: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var dc *DirChange
	if errs := r.Errors(); len(errs) != 1 || !errors.As(errs[0], &dc) || !dc.Gone {
		t.Fatalf("errors %v, want one DirChange, gone", errs)
	}
}
