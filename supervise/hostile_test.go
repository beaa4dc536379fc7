package supervise

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/taikit/taikit/internal/testref"
)

// TestControlNotAFIFO: supervise/control (or supervise/ok) found as a
// regular file, or as a symbolic link to one, is replaced by a new FIFO,
// with a warning naming it; the link's target is left alone. Reading the
// regular file gave end of file at once, no command ever arrived, and with
// a down file the supervisor died ("all goroutines are asleep"). It now
// takes commands as usual.
func TestControlNotAFIFO(t *testing.T) {
	for _, c := range []struct{ name, kind string }{
		{"control", "regular file"}, {"control", "link"}, {"ok", "regular file"}, {"ok", "link"},
	} {
		t.Run(c.name+" "+c.kind, func(t *testing.T) {
			dir := service(t, "exec sleep 1000")
			if err := os.WriteFile(filepath.Join(dir, "down"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Mkdir(filepath.Join(dir, "supervise"), 0o700); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "supervise", c.name)
			victim := filepath.Join(t.TempDir(), "victim")
			const secret = "secret\n"
			if err := os.WriteFile(victim, []byte(secret), 0o640); err != nil {
				t.Fatal(err)
			}
			if c.kind == "link" {
				if err := os.Symlink(victim, path); err != nil {
					t.Fatal(err)
				}
			} else if err := os.WriteFile(path, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			warnings := started(t, &Supervisor{Dir: dir, Name: "svc"})
			// A link is followed: what is wrong is the regular file.
			want := "supervise: warning: svc/supervise/" + c.name + " is a regular file, not a FIFO: replaced it with a new FIFO\n"
			// Running sees a regular ok as a supervisor's: wait for the
			// supervisor itself.
			testref.WaitFor(t, "the warning", func() bool { return warnings.String() != "" })
			if got := warnings.String(); got != want {
				t.Errorf("warnings %q; want %q", got, want)
			}
			if fi, err := os.Lstat(path); err != nil || fi.Mode().Type() != os.ModeNamedPipe {
				t.Errorf("supervise/%s is %v (%v), want a FIFO", c.name, fi.Mode(), err)
			}
			control(t, dir, "u")
			testref.WaitFor(t, "run up after svc -u", func() bool { return status(t, dir).Up() })
			if b, err := os.ReadFile(victim); err != nil || string(b) != secret {
				t.Errorf("the link's target now holds %q (%v)", b, err)
			}
		})
	}
}

// TestControlADirectory: a directory at supervise/control cannot be
// replaced; the supervisor refuses it, naming it, as daemontools does.
func TestControlADirectory(t *testing.T) {
	dir := service(t, "exec sleep 1000")
	if err := os.MkdirAll(filepath.Join(dir, "supervise", "control"), 0o700); err != nil {
		t.Fatal(err)
	}
	err := (&Supervisor{Dir: dir, Name: "svc"}).Run(context.Background())
	if err == nil || !strings.HasPrefix(err.Error(), "unable to read svc/supervise/control: is a directory") {
		t.Errorf("Run: %v; want a refusal naming supervise/control", err)
	}
}

// runBounded runs a Supervisor until it returns, failing the test if it
// does not return on its own (a hang in open(2)).
func runBounded(t *testing.T, s *Supervisor) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- s.Run(context.Background()) }()
	err := testref.Receive(t, "Run to return", done)
	return err
}

// TestLockNotRegular: a FIFO at supervise/lock held the supervisor in
// open(2) for ever; a symbolic link there made it create a file wherever
// the link led. Both are refused with a message naming the lock (a FIFO
// with daemontools too: "device not configured").
func TestLockNotRegular(t *testing.T) {
	for _, kind := range []string{"FIFO", "link", "dangling link"} {
		t.Run(kind, func(t *testing.T) {
			dir := service(t, "exec sleep 1000")
			if err := os.Mkdir(filepath.Join(dir, "supervise"), 0o700); err != nil {
				t.Fatal(err)
			}
			lock := filepath.Join(dir, "supervise", "lock")
			target := filepath.Join(t.TempDir(), "target")
			var want string
			switch kind {
			case "FIFO":
				if err := syscall.Mkfifo(lock, 0o600); err != nil {
					t.Fatal(err)
				}
				want = "unable to acquire svc/supervise/lock: is a FIFO, not a regular file"
			case "link":
				os.WriteFile(target, nil, 0o600)
				fallthrough
			case "dangling link":
				if err := os.Symlink(target, lock); err != nil {
					t.Fatal(err)
				}
				want = "unable to acquire svc/supervise/lock: is a symbolic link, not a regular file"
			}
			err := runBounded(t, &Supervisor{Dir: dir, Name: "svc"})
			if err == nil || err.Error() != want {
				t.Errorf("Run: %v; want %q", err, want)
			}
			if kind == "dangling link" {
				if _, err := os.Lstat(target); err == nil {
					t.Errorf("the link's target was created")
				}
			}
		})
	}
}

// TestReadersDoNotBlock: ReadStatus, ReadExtra and Describe (svstat) on
// a status or extra file that is a FIFO, or a link to a device, used to
// block for ever in open(2) (a FIFO without a writer) or read a device;
// they now say what the file is.
func TestReadersDoNotBlock(t *testing.T) {
	for _, c := range []struct{ name, kind, want string }{
		{"status", "FIFO", "unable to read supervise/status: is a FIFO, not a regular file"},
		{"status", "device", "unable to read supervise/status: is a character device, not a regular file"},
		{"extra", "FIFO", ""},
		{"extra", "device", ""},
	} {
		t.Run(c.name+" "+c.kind, func(t *testing.T) {
			dir := service(t, "exec sleep 1000")
			sup := filepath.Join(dir, "supervise")
			if err := os.Mkdir(sup, 0o700); err != nil {
				t.Fatal(err)
			}
			// A supervisor seems to run: supervise/ok has a reader.
			if err := syscall.Mkfifo(filepath.Join(sup, "ok"), 0o600); err != nil {
				t.Fatal(err)
			}
			ok, err := os.OpenFile(filepath.Join(sup, "ok"), os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer ok.Close()
			if c.name == "extra" {
				rec := Status{When: readyLabel(time.Now()), PID: 0, Want: WantUp}.Append(nil)
				if err := os.WriteFile(filepath.Join(sup, "status"), rec, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			path := filepath.Join(sup, c.name)
			if c.kind == "FIFO" {
				if err := syscall.Mkfifo(path, 0o600); err != nil {
					t.Fatal(err)
				}
			} else if err := os.Symlink("/dev/zero", path); err != nil {
				t.Fatal(err)
			}
			var got string
			done := make(chan string, 1)
			go func() { done <- Describe(dir, time.Now()) }()
			testref.WaitFor(t, "Describe to return", func() bool {
				select {
				case got = <-done:
					return true
				default:
					return false
				}
			})
			if c.want != "" && got != c.want {
				t.Errorf("Describe: %q; want %q", got, c.want)
			}
			if c.want == "" && !strings.HasPrefix(got, "down ") {
				t.Errorf("Describe: %q; want the status record's words without extra", got)
			}
			read := ReadStatus
			if c.name == "extra" {
				read = func(dir string) (Status, error) { _, err := ReadExtra(dir); return Status{}, err }
			}
			errc := make(chan error, 1)
			go func() { _, err := read(dir); errc <- err }()
			testref.WaitFor(t, "the reader to return", func() bool {
				select {
				case err = <-errc:
					return true
				default:
					return false
				}
			})
			if !errors.Is(err, ErrFileType) {
				t.Errorf("reading %s: %v; want ErrFileType", c.name, err)
			}
		})
	}
}
