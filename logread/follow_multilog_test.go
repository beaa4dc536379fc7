package logread

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/taikit/taikit/internal/testref"
)

// Following a directory written by taikit's multilog command, a separate
// process that rotates and compresses on its own schedule, as a follower
// in production sees it.

// TestFollowOurMultilog: our multilog, with small files and compression,
// is fed numbered lines as fast as it takes them; a follower, stopped and
// restarted from its cursor (through its text form) every so often, gives
// exactly the input, which is also what the directory holds at the end.
func TestFollowOurMultilog(t *testing.T) {
	bin := testref.Ours(t, "multilog")
	for _, comp := range []string{"z", "zg"} {
		t.Run(comp, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "log")
			cmd := exec.Command(bin, "s4096", "n100000", comp, dir)
			stdin, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
			// multilog makes the directory: wait for it before following.
			deadline := time.Now().Add(30 * time.Second)
			for {
				if _, err := os.Stat(filepath.Join(dir, fileCurrent)); err == nil {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("multilog made no %s/current in 30 s: %s", dir, stderr.Bytes())
				}
				time.Sleep(5 * time.Millisecond)
			}
			in := numbered(0, 30000)
			var got []byte
			f := startFollower(t, dir, Options{}, true)
			restarts := 0
			for p, pieces := in, 0; len(p) > 0; pieces++ {
				n := min(len(p), 1000+len(p)%7000)
				if _, err := stdin.Write(p[:n]); err != nil {
					t.Fatalf("writing to multilog: %v: %s", err, stderr.Bytes())
				}
				p = p[n:]
				if pieces%20 == 19 {
					out, c := f.stop(t)
					if errs := f.r.Errors(); len(errs) > 0 {
						t.Fatalf("follower %d: %v", restarts, errs)
					}
					got = append(got, out...)
					text, _ := c.MarshalText()
					var back Cursor
					if err := back.UnmarshalText(text); err != nil {
						t.Fatalf("%v\n%s", err, text)
					}
					f = startFollower(t, dir, Options{Cursor: &back}, true)
					restarts++
				}
			}
			stdin.Close()
			if err := cmd.Wait(); err != nil {
				t.Fatalf("multilog: %v: %s", err, stderr.Bytes())
			}
			f.waitFor(t, len(in)-len(got))
			out, _ := f.stop(t)
			if errs := f.r.Errors(); len(errs) > 0 {
				t.Fatal(errs)
			}
			got = append(got, out...)
			if !bytes.Equal(got, in) {
				t.Fatalf("after %d restarts: %s", restarts, firstDiff(got, in))
			}
			final, errs := readAll(t, dir, Options{})
			if len(errs) > 0 || !bytes.Equal(final, in) {
				t.Fatalf("directory content: %v\n%s", errs, firstDiff(final, in))
			}
			n, _ := countArchives(t, dir)
			if n < 100 || restarts < 5 {
				t.Fatalf("only %d archives and %d restarts: the test proves little", n, restarts)
			}
			compressed := 0
			des, _ := os.ReadDir(dir)
			for _, de := range des {
				if _, _, ok := parseArchiveName(de.Name()); ok {
					b, _ := os.ReadFile(filepath.Join(dir, de.Name()))
					if bytes.HasPrefix(b, magicGzip) || bytes.HasPrefix(b, magicZstd) {
						compressed++
					}
				}
			}
			if compressed < n/2 {
				t.Fatalf("only %d of %d archives compressed", compressed, n)
			}
		})
	}
}
