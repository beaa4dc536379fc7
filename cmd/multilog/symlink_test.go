package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestStatusSpareSymlink: a symbolic link planted at the status file's
// spare name (.st.new), in a directory another user can write, pointing at
// a file of root's (mode 0640), must not be followed: the victim keeps its content and
// its mode, and st ends up a regular file holding the record. Daemontools'
// multilog, which writes st in place and has no spare, leaves the victim
// intact too (compared when installed). Both the first run (st created)
// and a second one (st there, the link planted again) are tried.
func TestStatusSpareSymlink(t *testing.T) {
	t.Parallel()
	progs := map[string]string{"ours": ours(t)}
	if refOK(t) {
		progs["daemontools"] = refMultilog
	}
	record := "x" + strings.Repeat("\n", 1000)
	for name, prog := range progs {
		victim := filepath.Join(t.TempDir(), "victim")
		// Mode 0640, not the status file's 0600: a chmod through the link
		// shows.
		const secret = "secret, mode 0640\n"
		if err := os.WriteFile(victim, []byte(secret), 0o640); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(victim, 0o640); err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		for run_ := 1; run_ <= 2; run_++ {
			link := filepath.Join(dir, ".st.new")
			os.Remove(link)
			if err := os.Symlink(victim, link); err != nil {
				t.Fatal(err)
			}
			res := run(t, prog, dir, []byte("x\n"), nil, "=st")
			if res.Exit != 0 {
				t.Errorf("%s, run %d: exit %d, stderr %q", name, run_, res.Exit, res.Stderr)
			}
			if got := string(readFile(victim)); got != secret {
				t.Errorf("%s, run %d: BUG: the victim now holds %d bytes %.40q", name, run_, len(got), got)
			}
			if fi, err := os.Lstat(victim); err != nil || fi.Mode() != 0o640 {
				t.Errorf("%s, run %d: BUG: the victim's mode is %v (%v), want 0640", name, run_, fi.Mode(), err)
			}
			fi, err := os.Lstat(filepath.Join(dir, "st"))
			if err != nil || !fi.Mode().IsRegular() {
				t.Errorf("%s, run %d: st is %v (%v), want a regular file", name, run_, fi.Mode(), err)
			} else if name == "ours" {
				if got := string(readFile(filepath.Join(dir, "st"))); got != record {
					t.Errorf("%s, run %d: st holds %q", name, run_, got)
				}
			}
			if fi, err := os.Lstat(link); err == nil && fi.Mode()&fs.ModeSymlink != 0 && name == "ours" {
				t.Logf("%s, run %d: the planted link is still there", name, run_)
			}
		}
	}
}
