package supervise

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/taikit/taikit/internal/testref"
)

// TestPlantedSymlinkNotFollowed: symbolic links planted at supervise's
// temporary names (extra.new, status.new), pointing at a file outside of
// mode 0640, are never written through and never given a mode: the victim
// is unchanged, and extra and status are regular files that go together.
func TestPlantedSymlinkNotFollowed(t *testing.T) {
	dir := service(t, "exec sleep 1000")
	if err := os.Mkdir(filepath.Join(dir, "supervise"), 0o700); err != nil {
		t.Fatal(err)
	}
	const secret = "secret, mode 0640\n"
	victims := map[string]string{}
	for _, name := range []string{"extra", "status"} {
		v := filepath.Join(t.TempDir(), "victim")
		if err := os.WriteFile(v, []byte(secret), 0o640); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(v, 0o640); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(v, filepath.Join(dir, "supervise", name+".new")); err != nil {
			t.Fatal(err)
		}
		victims[name] = v
	}
	started(t, &Supervisor{Dir: dir})
	testref.WaitFor(t, "run up", func() bool { return status(t, dir).Up() })
	testref.WaitFor(t, "extra to go with the status record", func() bool {
		ex, err := ReadExtra(dir)
		return err == nil && ex.Matches(status(t, dir))
	})
	for name, v := range victims {
		if b, err := os.ReadFile(v); err != nil || string(b) != secret {
			t.Errorf("BUG: %s.new's victim now holds %q (%v)", name, b, err)
		}
		if fi, err := os.Lstat(v); err != nil || fi.Mode() != 0o640 {
			t.Errorf("BUG: %s.new's victim has mode %v (%v), want 0640", name, fi.Mode(), err)
		}
		if fi, err := os.Lstat(filepath.Join(dir, "supervise", name)); err != nil || !fi.Mode().IsRegular() {
			t.Errorf("supervise/%s is %v (%v), want a regular file", name, fi.Mode(), err)
		}
	}
}
