package rotate

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/taikit/taikit/internal/testref"
)

// TestLockExcludesS6Log: s6-log locks with fcntl, which flock alone does
// not exclude on Linux (spec 7.4); the open file description lock does, so
// s6-log cannot take over a directory a Dir is writing.
func TestLockExcludesS6Log(t *testing.T) {
	testref.Need(t, "/usr/bin/s6-log")
	tmp := t.TempDir()
	d := mustOpen(t, filepath.Join(tmp, "d"), Options{Name: "./d"})
	write(t, d, []byte("ours\n"))
	cmd := exec.Command("/usr/bin/s6-log", "./d")
	cmd.Dir = tmp
	cmd.Stdin = strings.NewReader("theirs\n")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("s6-log took a directory rotate holds: %s", out)
	}
	d.Close()
	cur, _ := os.ReadFile(filepath.Join(tmp, "d", "current"))
	names, _ := archives(t, filepath.Join(tmp, "d"))
	if string(cur) != "ours\n" || len(names) != 0 {
		t.Fatalf("current %q, archives %q: s6-log changed the directory", cur, names)
	}
	t.Logf("s6-log refused: %v: %s", err, strings.TrimSpace(string(out)))
}
