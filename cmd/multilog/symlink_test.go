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

// TestStatusLinkOfAnotherAccount: a status file that is a symbolic link
// made by another account (in a directory it can write) is refused with a
// message, before anything is read, and the file it points to is left as
// it was; daemontools' multilog writes the record into it (compared when
// installed). A link made by multilog's own account is followed, as
// daemontools does.
func TestStatusLinkOfAnotherAccount(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root, to make a link owned by another account: run as root, as CI does")
	}
	t.Parallel()
	const secret = "secret, mode 0640\n"
	plant := func(t *testing.T, owner int) (dir, victim string) {
		victim = filepath.Join(t.TempDir(), "victim")
		if err := os.WriteFile(victim, []byte(secret), 0o640); err != nil {
			t.Fatal(err)
		}
		dir = t.TempDir()
		if err := os.Symlink(victim, filepath.Join(dir, "st")); err != nil {
			t.Fatal(err)
		}
		if err := os.Lchown(filepath.Join(dir, "st"), owner, owner); err != nil {
			t.Fatal(err)
		}
		return dir, victim
	}
	dir, victim := plant(t, 65534)
	res := run(t, ours(t), dir, []byte("x\n"), nil, "=st")
	want := "multilog: fatal: unable to write st: a symbolic link owned by another account (uid 65534), not followed: remove it, or make it with the account multilog runs as (uid 0)\n"
	if res.Exit != 111 || string(res.Stderr) != want {
		t.Errorf("exit %d, stderr %q; want 111, %q", res.Exit, res.Stderr, want)
	}
	if got := string(readFile(victim)); got != secret {
		t.Errorf("BUG: the file the link points to now holds %d bytes %.40q", len(got), got)
	}
	if refOK(t) {
		dir, victim := plant(t, 65534)
		res := run(t, refMultilog, dir, []byte("x\n"), nil, "=st")
		t.Logf("daemontools' multilog: exit %d, the file it points to now holds %d bytes", res.Exit, len(readFile(victim)))
	}

	// Our own link is followed: the record lands in the file it names.
	dir, victim = plant(t, 0)
	if res := run(t, ours(t), dir, []byte("x\n"), nil, "=st"); res.Exit != 0 {
		t.Fatalf("own link: exit %d, stderr %q", res.Exit, res.Stderr)
	}
	if got := string(readFile(victim)); got != "x"+strings.Repeat("\n", 1000) {
		t.Errorf("own link: the file it names holds %.40q, want the record", got)
	}
}
