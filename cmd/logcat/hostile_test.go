package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/taikit/taikit/internal/testref"
)

// A writer killed mid-line leaves, at its restart, a ".u" archive that
// ends without a newline: that line ends there, and the next file's first
// line is a line of its own, stamped, selected, counted.
func TestCutLineOfUArchive(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "log")
	cmd := exec.Command(ourMultilog(t), "t", dir)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	in.Write([]byte("one\ncut mid-li"))
	testref.WaitFor(t, "the unfinished line in current", func() bool {
		b, _ := os.ReadFile(filepath.Join(dir, "current"))
		return strings.HasSuffix(string(b), " cut mid-li")
	})
	cmd.Process.Kill()
	cmd.Wait()
	in.Close()
	restart := exec.Command(ourMultilog(t), "t", dir)
	restart.Stdin = strings.NewReader("three\n")
	if out, err := restart.CombinedOutput(); err != nil {
		t.Fatalf("multilog: %v %s", err, out)
	}
	if u, _ := filepath.Glob(filepath.Join(dir, "@*.u")); len(u) != 1 {
		t.Fatalf("no .u archive: %v", u)
	}

	if r := run(t, "", "-c", dir); r.code != 0 || r.out != "3\n" {
		t.Errorf("-c: exit %d, %q %q; want 3", r.code, r.out, r.err)
	}
	if r := run(t, "", "-E", "^@[0-9a-f]{24} three$", dir); r.code != 0 || !strings.HasSuffix(r.out, " three\n") ||
		strings.Count(r.out, "\n") != 1 {
		t.Errorf("-E: exit %d, %q %q", r.code, r.out, r.err)
	}
	if r := run(t, "", "-p", "+@* three", dir); r.code != 0 || strings.Count(r.out, "\n") != 1 || strings.Contains(r.out, "cut") {
		t.Errorf("-p: exit %d, %q %q", r.code, r.out, r.err)
	}
	r := run(t, "", "-u", "-t", dir)
	want := regexp.MustCompile(`^\d{4}-\d\d-\d\d [0-9:.]{18} one\n\d{4}-\d\d-\d\d [0-9:.]{18} cut mid-li\n\d{4}-\d\d-\d\d [0-9:.]{18} three\n$`)
	if r.code != 0 || !want.MatchString(r.out) {
		t.Errorf("-t: exit %d, %q %q", r.code, r.out, r.err)
	}
	r = run(t, "", "-j", dir)
	if r.code != 0 || strings.Count(r.out, `"tai64n":"@`) != 3 || !strings.Contains(r.out, `"line":"three"`) {
		t.Errorf("-j: exit %d, %q %q", r.code, r.out, r.err)
	}
	r = run(t, "", dir)
	if lines := strings.Split(r.out, "\n"); r.code != 0 || len(lines) != 4 || !strings.HasSuffix(lines[1], " cut mid-li") {
		t.Errorf("raw: exit %d, %q %q", r.code, r.out, r.err)
	}
}
