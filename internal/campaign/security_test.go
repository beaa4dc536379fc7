package campaign

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/taikit/taikit/internal/conformance"
)

// modeClass names a file of a log directory by its role, for comparing
// modes: archive names by suffix, other names as they are.
func modeClass(rel string) string {
	base := filepath.Base(rel)
	if conformance.IsArchiveName(base) {
		return filepath.Join(filepath.Dir(rel), "@archive"+base[25:])
	}
	return rel
}

// modes returns the set of permission bits (and type) each class of file
// under root has.
func modes(t *testing.T, root string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	filepath.WalkDir(root, func(path string, de fs.DirEntry, err error) error {
		if err != nil || path == root {
			return nil
		}
		st, err := os.Lstat(path)
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		c := modeClass(rel)
		m := fmt.Sprintf("%v", st.Mode())
		if !slices.Contains(out[c], m) {
			out[c] = append(out[c], m)
			slices.Sort(out[c])
		}
		return nil
	})
	return out
}

// TestModes runs multilog under umasks 000, 022 and 077 with a processor
// directory, a plain one and a status file, and compares the modes of
// everything it creates, while it runs and after a clean stop, with
// daemontools' multilog run the same way: current 0644 while written and
// 0744 after, archives 0744, lock 0600, state 0644, a new directory 0700
// — whatever the umask, since multilog forces 022.
func TestModes(t *testing.T) {
	ref := true
	if _, err := os.Stat(refMultilog); err != nil {
		t.Logf("%s not installed: compared with the manual's modes only", refMultilog)
		ref = false
	}
	in := newStream(3000) // ~105 kB: dozens of archives with s4096
	data := in.bytesAt(0, in.size())
	script := []string{"s4096", "n1000000", "./plain", "=status", "!cat", "./proc"}
	// What the manual promises (doc/man8/multilog.8, THE LOG DIRECTORY).
	want := map[string]string{
		"plain": "drwx------", "plain/lock": "-rw-------", "plain/state": "-rw-r--r--", "plain/current": "-rwxr--r--",
		"plain/@archive.s": "-rwxr--r--", "status": "-rw-------",
		"proc": "drwx------", "proc/lock": "-rw-------", "proc/state": "-rw-r--r--", "proc/current": "-rwxr--r--",
		"proc/@archive.s": "-rwxr--r--",
	}
	run := func(prog, umask string) (running, stopped map[string][]string) {
		work := t.TempDir()
		os.Chmod(work, 0o755)
		if prog == "" {
			prog = multilogBin
		}
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("/bin/sh", append([]string{"-c", "umask " + umask + "; exec \"$0\" \"$@\"", prog}, script...)...)
		cmd.Dir, cmd.Stdin = work, r
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		r.Close()
		w.Write(data)
		// While it runs: wait until the processor directory has archives,
		// then look (current is being written).
		deadline := time.Now().Add(time.Minute)
		for len(archiveNames(filepath.Join(work, "proc"))) < 3 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		running = modes(t, work)
		// A new current is created 0600 and then given 0644 (fchmod), by
		// daemontools' multilog as by ours: a look in between sees 0600.
		for _, class := range []string{"plain/current", "proc/current"} {
			for i, m := range running[class] {
				if m == "-rw-------" {
					running[class][i] = "-rw-r--r--"
				}
			}
		}
		w.Close()
		if err := cmd.Wait(); err != nil {
			t.Fatalf("%s under umask %s: %v: %s", prog, umask, err, stderr.String())
		}
		return running, modes(t, work)
	}
	for _, umask := range []string{"000", "022", "077"} {
		running, stopped := run("", umask)
		if got := running["plain/current"]; !slices.Equal(got, []string{"-rw-r--r--"}) {
			t.Errorf("umask %s: current while written %v, want -rw-r--r--", umask, got)
		}
		for class, m := range want {
			if got := stopped[class]; !slices.Equal(got, []string{m}) {
				t.Errorf("umask %s: %s has modes %v after a clean stop, want %s", umask, class, got, m)
			}
		}
		for class := range stopped {
			if _, ok := want[class]; !ok {
				t.Errorf("umask %s: unexpected %s after a clean stop", umask, class)
			}
		}
		if ref {
			rrunning, rstopped := run(refMultilog, umask)
			// daemontools leaves ./plain/current at 0644 until its end,
			// and so do we; compare both moments class by class.
			for _, pair := range [][2]map[string][]string{{running, rrunning}, {stopped, rstopped}} {
				for class, m := range pair[1] {
					if class == "status" || strings.HasSuffix(class, "/@archive.u") {
						continue // compared below / a rotation in flight
					}
					// previous, processed and newstate exist only during a
					// rotation, which one look may catch and the other not.
					inFlight := strings.HasSuffix(class, "/previous") || strings.HasSuffix(class, "/processed") ||
						strings.HasSuffix(class, "/newstate")
					if got := pair[0][class]; !slices.Equal(got, m) && !inFlight {
						t.Errorf("umask %s: %s has modes %v; daemontools %v", umask, class, got, m)
					}
				}
			}
			if !slices.Equal(stopped["status"], rstopped["status"]) {
				t.Errorf("umask %s: status %v; daemontools %v", umask, stopped["status"], rstopped["status"])
			}
		}
	}
	figure(t, "modes under umask 000, 022 and 077 as the manual lists them (current 0644 while written, 0744 after; archives 0744; lock 0600; state 0644; new directory 0700; status 0600)%s",
		map[bool]string{true: ", and as daemontools' multilog leaves them", false: ""}[ref])
}

func archiveNames(dir string) []string {
	des, _ := os.ReadDir(dir)
	var out []string
	for _, de := range des {
		if conformance.IsArchiveName(de.Name()) {
			out = append(out, de.Name())
		}
	}
	return out
}

// treeEntry is a path under the sandbox with what identifies its content.
type treeEntry struct {
	mode  fs.FileMode
	size  int64
	mtime time.Time
	ino   uint64
}

func snapshotTree(t *testing.T, root string) map[string]treeEntry {
	t.Helper()
	out := map[string]treeEntry{}
	filepath.WalkDir(root, func(path string, de fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		st, err := os.Lstat(path)
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		out[rel] = treeEntry{st.Mode(), st.Size(), st.ModTime(), st.Sys().(*syscall.Stat_t).Ino}
		return nil
	})
	return out
}

// TestWritesOnlyWhereNamed runs multilog in a sandbox full of bait (files
// and directories whose names the input mentions, symbolic links out of
// the sandbox) with input lines crafted to look like paths, script words,
// archive names and control bytes, with SIGALRM rotations and a processor.
// Every file created or changed in the sandbox is inside a directory or
// is a status file the script names (including a directory reached
// through ".."): a line's contents never decide where data goes.
func TestWritesOnlyWhereNamed(t *testing.T) {
	root := t.TempDir()
	sandbox := filepath.Join(root, "sandbox")
	outside := filepath.Join(root, "outside")
	for _, d := range []string{sandbox, outside, filepath.Join(sandbox, "logs"), filepath.Join(sandbox, "bait"), filepath.Join(sandbox, "x")} {
		must(t, os.MkdirAll(d, 0o755))
	}
	must(t, os.WriteFile(filepath.Join(outside, "secret"), []byte("keep\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(sandbox, "bait", "current"), []byte("bait\n"), 0o644))
	must(t, os.Symlink(outside, filepath.Join(sandbox, "escape")))
	before := snapshotTree(t, root)

	evil := []string{
		"../outside/secret", "/etc/passwd", "./escape/secret", "escape/pwned", "=../outside/secret", "./bait",
		"!touch ../outside/pwned", "@400000006b0197683700997a.s", "current", "lock", "../../../../tmp/x",
		"\x00/etc/shadow\x00", "\r./bait\r", "$(touch pwned)", "`touch pwned`", "; touch pwned", "e", "t", "s4096",
		strings.Repeat("../", 400) + "etc/passwd", "\xff\xfe./logs/other",
	}
	var in []byte
	for i := 0; i < 4000; i++ {
		in = fmt.Appendf(in, "%06d %s\n", i, evil[i%len(evil)])
	}
	script := []string{"t", "s4096", "n5", "./logs/main", "=logs/status", "-*", "+*pwned*", "n1000", "!cat", "./x/../logs/pwned", "=x/../logs/pwned.status"}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	p := startProc(t, procOpts{dir: sandbox, stdin: r, ready: true}, script...)
	r.Close()
	p.awaitReady(t)
	for i := 0; i < len(in); i += 8192 {
		w.Write(in[i:min(len(in), i+8192)])
		p.signal(syscall.SIGALRM)
	}
	w.Close()
	if code := p.wait(t, time.Minute); code != 0 || p.errText() != "" {
		t.Fatalf("exit %d, stderr %q", code, p.errText())
	}
	after := snapshotTree(t, root)
	allowed := func(rel string) bool {
		for _, prefix := range []string{"sandbox/logs/main/", "sandbox/logs/pwned/"} {
			if strings.HasPrefix(rel+"/", prefix) {
				return true
			}
		}
		return slices.Contains([]string{"sandbox/logs/status", "sandbox/logs/pwned.status", "sandbox/logs"}, rel)
	}
	created, changed := 0, 0
	for rel, e := range after {
		b, ok := before[rel]
		if !ok {
			created++
		} else if b != e {
			changed++
		} else {
			continue
		}
		if !allowed(rel) {
			t.Errorf("%s was created or changed, outside the directories and status files the script names", rel)
		}
	}
	for rel := range before {
		if _, ok := after[rel]; !ok {
			t.Errorf("%s disappeared", rel)
		}
	}
	if s, _ := os.ReadFile(filepath.Join(outside, "secret")); string(s) != "keep\n" {
		t.Errorf("outside/secret changed: %q", s)
	}
	// The crafted lines were logged as data.
	main := dirStream(t, filepath.Join(sandbox, "logs", "main"))
	pwned := dirStream(t, filepath.Join(sandbox, "logs", "pwned"))
	if unstamped := stripStamps(main); len(unstamped) == 0 || !strings.HasSuffix(string(in), string(unstamped)) {
		t.Errorf("logs/main (%d bytes without stamps) is not the end of the input", len(unstamped))
	}
	plines := stderrLines(string(stripStamps(pwned)))
	for _, l := range plines {
		if !strings.Contains(l, "pwned") || !strings.Contains(string(in), l+"\n") {
			t.Errorf("logs/pwned holds %q, not a selected input line", l)
		}
	}
	if len(plines) == 0 {
		t.Errorf("logs/pwned is empty")
	}
	figure(t, "%d crafted lines (paths, script words, archive names, shell syntax, control bytes), SIGALRM every 8 kB, a processor, a directory named through \"..\": %d paths created and %d changed, all inside the named directories and status files",
		4000, created, changed)
}

// stripStamps removes the "@<24 hex digits> " in front of each line.
func stripStamps(b []byte) []byte {
	var out []byte
	for _, l := range strings.SplitAfter(string(b), "\n") {
		if len(l) > 26 && l[0] == '@' {
			l = l[26:]
		}
		out = append(out, l...)
	}
	return out
}
