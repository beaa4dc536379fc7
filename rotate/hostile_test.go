package rotate

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/taikit/taikit/internal/testref"
)

// TestOpenRefusesNonRegular: a FIFO, a device or a directory at lock, or
// at a cleanly closed current, is refused by Open at once with
// ErrNotRegular and a message naming the file and what it is. A FIFO used
// to hold open(2) for ever: without a writer for a read, without a reader
// for a write.
func TestOpenRefusesNonRegular(t *testing.T) {
	type plant func(t *testing.T, path string)
	mkfifo := func(t *testing.T, path string) {
		if err := syscall.Mkfifo(path, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	mkdev := func(t *testing.T, path string) {
		// /dev/null's numbers: 1, 3.
		if err := syscall.Mknod(path, syscall.S_IFCHR|0o600, 1<<8|3); err != nil {
			t.Skip("cannot make a device node here:", err)
		}
	}
	for _, c := range []struct {
		name, what string
		plant      plant
		wantOp     string
	}{
		{"lock", "a FIFO", mkfifo, "unable to lock directory d"},
		{"current", "a FIFO", mkfifo, "unable to append to d/current"},
		{"lock", "a character device", mkdev, "unable to lock directory d"},
		{"current", "a character device", mkdev, "unable to append to d/current"},
	} {
		t.Run(c.name+" "+c.what, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "d")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			c.plant(t, filepath.Join(dir, c.name))
			// Cleanly closed: the owner-execute bit.
			os.Chmod(filepath.Join(dir, c.name), 0o744)
			var w warnings
			o := testOptions(&w)
			o.Name = "d"
			d, err := Open(dir, o)
			if err == nil {
				d.Close()
				t.Fatal("opened")
			}
			want := c.wantOp + ": " + c.name + " is " + c.what + ", not a regular file"
			if !errors.Is(err, ErrNotRegular) || err.Error() != want {
				t.Errorf("error %q (ErrNotRegular: %v); want %q", err, errors.Is(err, ErrNotRegular), want)
			}
			if fi, err := os.Lstat(filepath.Join(dir, c.name)); err != nil || fi.Mode().IsRegular() {
				t.Errorf("%s was replaced: %v %v", c.name, fi.Mode(), err)
			}
		})
	}
}

// TestProcessorFilesNotRegular: a FIFO at state, newstate or processed
// makes the processor's run fail with a message naming it (and be retried)
// instead of holding the job in open(2); Interrupt and Close then keep the
// rotated file as a .u archive.
func TestProcessorFilesNotRegular(t *testing.T) {
	for _, name := range []string{"state", "newstate", "processed"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "d")
			var w warnings
			o := testOptions(&w)
			o.Processor, o.HasProcessor = "cat", true
			var stderr testref.Buffer
			o.Stderr = &stderr
			d, err := Open(dir, o)
			if err != nil {
				t.Fatal(err)
			}
			os.Remove(filepath.Join(dir, name))
			if err := syscall.Mkfifo(filepath.Join(dir, name), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := d.Write([]byte("x\n")); err != nil {
				t.Fatal(err)
			}
			if err := d.Rotate(); err != nil {
				t.Fatal(err)
			}
			testref.WaitFor(t, "a failed run", func() bool {
				return strings.Contains(stderr.String(), name+" is a FIFO, not a regular file")
			})
			d.Interrupt()
			d.Close()
			n := 0
			for _, e := range listDir(t, dir) {
				if strings.HasSuffix(e.name, ".u") {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%d .u archives; want the rotated file kept", n)
			}
		})
	}
}

// TestOpenDirectoryNotADirectory: a FIFO where the log directory should be
// held Open in open(2) for ever; it is refused as multilog refuses it,
// "not a directory".
func TestOpenDirectoryNotADirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	if err := syscall.Mkfifo(dir, 0o600); err != nil {
		t.Fatal(err)
	}
	var w warnings
	o := testOptions(&w)
	o.Name = "./d"
	done := make(chan error, 1)
	go func() {
		d, err := Open(dir, o)
		if err == nil {
			d.Close()
		}
		done <- err
	}()
	err := testref.Receive(t, "Open to return", done)
	if want := "unable to open directory ./d: not a directory"; err == nil || err.Error() != want {
		t.Errorf("error %v; want %q", err, want)
	}
}

// TestForeignHardLinkNotWritten: a hard link planted at a clean current
// (owner-execute bit) or at lock, to a file of another account's, is
// refused by name and the file keeps its content; without the check the
// clean current would be appended to.
func TestForeignHardLinkNotWritten(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root, to give the directory to another account: run as root, as CI does")
	}
	for _, name := range []string{"current", "lock"} {
		t.Run(name, func(t *testing.T) {
			victim := filepath.Join(t.TempDir(), "victim")
			const content = "root's file, mode 0744\n"
			if err := os.WriteFile(victim, []byte(content), 0o744); err != nil {
				t.Fatal(err)
			}
			os.Chmod(victim, 0o744)
			dir := filepath.Join(t.TempDir(), "d")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Chown(dir, 65534, 65534); err != nil {
				t.Fatal(err)
			}
			if err := os.Link(victim, filepath.Join(dir, name)); err != nil {
				t.Fatal(err)
			}
			var w warnings
			o := testOptions(&w)
			o.Name = "d"
			d, err := Open(dir, o)
			if err == nil {
				d.Write([]byte("a line\n"))
				d.Close()
				t.Fatal("opened")
			}
			op := map[string]string{"current": "unable to append to d/current", "lock": "unable to lock directory d"}[name]
			want := op + ": " + name + " is a hard link (2 names) to a file of another account (uid 0), not written"
			if !errors.Is(err, ErrNotRegular) || err.Error() != want {
				t.Fatalf("error %q, want %q", err, want)
			}
			if b, _ := os.ReadFile(victim); string(b) != content {
				t.Fatalf("the victim now holds %q", b)
			}
		})
	}
}
