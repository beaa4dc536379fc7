package campaign

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/taikit/taikit/internal/conformance"
	"github.com/taikit/taikit/internal/testref"
)

// runOnce runs prog (multilogBin when empty) in dir with in as standard
// input, through a pipe, and returns exit code, stderr and how many bytes
// of input were left unread in the pipe (a start-up failure must read
// nothing).
func runOnce(t *testing.T, prog, dir string, in []byte, args ...string) (code int, stderr string, unread int) {
	t.Helper()
	return runLimited(t, prog, dir, in, 0, args...)
}

// stuck is the exit code runLimited gives a process it had to kill.
const stuck = -1000

// runLimited is runOnce, but a process still running after limit (if not
// 0) is killed and reported as stuck: daemontools' multilog retries some
// failures for ever.
func runLimited(t *testing.T, prog, dir string, in []byte, limit time.Duration, args ...string) (code int, stderr string, unread int) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// A pipe that holds the whole of a small input, so that what is left
	// unread can be counted after the process ends.
	size, err := unix.FcntlInt(w.Fd(), unix.F_SETPIPE_SZ, 1<<20)
	if err != nil {
		size = 64 << 10
	}
	small := len(in) <= size
	fed := make(chan error, 1)
	if small {
		_, err := w.Write(in)
		w.Close()
		fed <- err
	} else {
		go func() { // owned by runOnce: ends when all is written or the reader goes
			_, err := w.Write(in)
			w.Close()
			fed <- err
		}()
	}
	p := startProc(t, procOpts{prog: prog, dir: dir, stdin: r}, args...)
	if limit > 0 {
		select {
		case <-p.done:
		case <-time.After(limit):
			p.signal(syscall.SIGKILL)
			p.wait(t, time.Minute)
			code = stuck
		}
	}
	if code != stuck {
		code = p.wait(t, 5*time.Minute)
	}
	unread, _ = unix.IoctlGetInt(int(r.Fd()), unix.TIOCINQ)
	if !small {
		r.Close() // a writer blocked on a dead reader gets EPIPE
	}
	<-fed
	return code, p.errText(), unread
}

// dirStream returns the data of a log directory, as it is on disk:
// archives in name order, then current.
func dirStream(t *testing.T, dir string) []byte {
	t.Helper()
	files, err := readLogDirAs(dir, false) // its callers' scripts compress nothing; binary lines may look like gzip
	if err != nil {
		t.Fatal(err)
	}
	var b []byte
	for _, f := range files {
		b = append(b, f.data...)
	}
	return b
}

// binaryInput returns size bytes of lines made of every byte value: NUL,
// invalid UTF-8, carriage returns, lines of 0 to 3000 bytes (longer than
// the 1000-byte window), and no newline at the end.
func binaryInput(size int, seed int64) []byte {
	r := newRand(seed)
	b := make([]byte, 0, size)
	for len(b) < size {
		n := r.IntN(120)
		switch r.IntN(10) {
		case 0:
			n = 0
		case 1:
			n = 990 + r.IntN(20) // around the window's end
		case 2:
			n = 1000 + r.IntN(2000)
		}
		for i := 0; i < n && len(b) < size; i++ {
			c := byte(r.IntN(256))
			if c == '\n' {
				c = 0
			}
			b = append(b, c)
		}
		if len(b) < size-1 {
			b = append(b, '\n')
		}
	}
	return b
}

// TestBinaryStream sends megabytes of binary lines (NUL bytes, invalid
// UTF-8, lines beyond the window, no final newline) through multilog and
// daemontools' multilog with the same script: the directory holds the
// input exactly (a final newline added), and the alerts (e) and the
// status file are byte for byte daemontools'.
func TestBinaryStream(t *testing.T) {
	// The first archive begins as a gzip stream does: it is still the
	// line as it came.
	in := append([]byte("\x1f\x8b\x08 not gzip\n"), binaryInput(pick(2<<20, 32<<20), time.Now().UnixNano())...)
	args := []string{"e", "=status", "s16384", "n100000", "./d"}
	dir := t.TempDir()
	code, stderr, _ := runOnce(t, "", dir, in, args...)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	want := append(slices.Clone(in), '\n')
	got := dirStream(t, filepath.Join(dir, "d"))
	if !bytes.Equal(got, want) {
		t.Fatalf("the directory holds %d bytes that differ from the %d of the input", len(got), len(want))
	}
	status, _ := os.ReadFile(filepath.Join(dir, "status"))
	if _, err := os.Stat(refMultilog); err != nil {
		t.Logf("%s not installed: not compared", refMultilog)
	} else {
		rdir := t.TempDir()
		rcode, rstderr, _ := runOnce(t, refMultilog, rdir, in, args...)
		rstatus, _ := os.ReadFile(filepath.Join(rdir, "status"))
		if rcode != code || rstderr != stderr {
			t.Errorf("exit %d and %d bytes of alerts; daemontools: %d and %d bytes (%s)", code, len(stderr), rcode, len(rstderr), firstDiff(stderr, rstderr))
		}
		if !bytes.Equal(status, rstatus) {
			t.Errorf("status file %q; daemontools: %q", clip(status), clip(rstatus))
		}
		if r := dirStream(t, filepath.Join(rdir, "d")); !bytes.Equal(r, got) {
			t.Errorf("daemontools' directory holds %d bytes, ours %d, different", len(r), len(got))
		}
	}
	figure(t, "%d bytes of binary lines (NUL, invalid UTF-8, up to 3000 bytes): logged exactly; alerts (%d bytes) and status file as daemontools'", len(in), len(stderr))
}

func firstDiff(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return fmt.Sprintf("first difference at byte %d: %q vs %q", i, clip([]byte(a[i:])), clip([]byte(b[i:])))
}

// TestHugeLine streams one line of 1 GiB (64 MiB in the short form)
// through a pipe: multilog never holds it whole, its peak resident memory
// (VmHWM, read from /proc while it runs) stays
// under 16 MiB, and the line is split into files of exactly s bytes.
// (wait4's ru_maxrss is no use here: after fork and exec it keeps the
// test process's larger peak.)
func TestHugeLine(t *testing.T) {
	total := pick(int64(64<<20), int64(1<<30))
	const s = 16777215
	work := t.TempDir()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	p := startProc(t, procOpts{dir: work, stdin: r}, "s16777215", "n3", "./d")
	r.Close()
	peak := int64(-1)
	polled := make(chan struct{})
	go func() { // owned by the test: ends when multilog does
		defer close(polled)
		for !p.exited() {
			peak = max(peak, testref.VmHWM(p.pid()))
			time.Sleep(10 * time.Millisecond)
		}
	}()
	chunk := bytes.Repeat([]byte("0123456789abcdef"), 4096)
	began := time.Now()
	for n := int64(0); n < total; n += int64(len(chunk)) {
		if _, err := w.Write(chunk); err != nil {
			t.Fatalf("writing: %v; stderr %q", err, p.errText())
		}
	}
	w.Write([]byte{'\n'})
	w.Close()
	code := p.wait(t, 10*time.Minute)
	took := time.Since(began)
	<-polled
	if code != 0 {
		t.Fatalf("exit %d: %s", code, p.errText())
	}
	if peak < 0 || peak > 16<<10 {
		t.Errorf("peak RSS (VmHWM) %d KiB: more than 16 MiB, or unreadable", peak)
	}
	// total/s files closed at exactly s bytes; n3 keeps the last two.
	d := filepath.Join(work, "d")
	files, err := readLogDir(d)
	if err != nil {
		t.Fatal(err)
	}
	pos := total + 1 - int64(len(files[len(files)-1].data)) - int64(len(files)-1)*s
	if len(files) != 3 || pos < 0 {
		t.Fatalf("%d files", len(files))
	}
	for _, f := range files {
		want := len(f.data)
		if f.name != "current" && want != s {
			t.Errorf("%s: %d bytes, want %d", f.name, want, s)
		}
		for i := 0; i < len(f.data); i += 1 << 20 { // spot checks: the pattern at the right phase
			off := pos + int64(i)
			if off < total && f.data[i] != "0123456789abcdef"[off%16] {
				t.Fatalf("%s byte %d: %q, want %q", f.name, i, f.data[i], "0123456789abcdef"[off%16])
			}
		}
		pos += int64(len(f.data))
	}
	if cur := files[len(files)-1].data; cur[len(cur)-1] != '\n' {
		t.Errorf("current does not end with the line's newline")
	}
	figure(t, "one line of %d MiB through a pipe in %v: peak RSS %.1f MiB (VmHWM); split at exactly s",
		total>>20, took.Round(time.Millisecond), float64(peak)/1024)
}

// TestArchiveNamedDirectory: a directory named like the oldest archive in
// a log directory with n2, so that every rotation tries to prune it. It is
// reported once and left alone, and the newest data is kept (daemontools
// retries it for ever and stops logging: a documented difference).
func TestArchiveNamedDirectory(t *testing.T) {
	work := t.TempDir()
	d := filepath.Join(work, "d")
	junk := "@400000000000000000000000.s"
	must(t, os.MkdirAll(filepath.Join(d, junk), 0o755))
	must(t, os.WriteFile(filepath.Join(d, junk, "keep"), []byte("x\n"), 0o644))
	in := newStream(20_000)
	data := in.bytesAt(0, in.size())
	code, stderr, _ := runOnce(t, "", work, data, "s4096", "n3", "./d")
	want := "multilog: warning: unable to remove ./d/" + junk + ": is a directory; leaving it"
	lines := stderrLines(stderr)
	if code != 0 || len(lines) == 0 {
		t.Errorf("exit %d, stderr %q; want 0 and a warning", code, stderr)
	}
	for _, l := range lines {
		if l != want {
			t.Errorf("message %q, want %q", l, want)
		}
	}
	if len(lines) > 1 {
		t.Errorf("the manual says an archive that cannot be removed is reported once; it was reported %d times", len(lines))
	}
	if st, err := os.Stat(filepath.Join(d, junk)); err != nil || !st.IsDir() {
		t.Errorf("the directory %s is gone: %v", junk, err)
	}
	// n3: the directory left alone, two archives and current remain; they
	// are the end of the input, cut by the contract.
	must(t, os.RemoveAll(filepath.Join(d, junk)))
	files, err := readLogDir(d)
	if err != nil {
		t.Fatal(err)
	}
	var kept []byte
	for _, f := range files {
		if err := checkFileCut(f, 4096); err != nil {
			t.Error(err)
		}
		kept = append(kept, f.data...)
	}
	if !bytes.HasSuffix(data, kept) || len(files) != 3 {
		t.Errorf("kept %d files, %d bytes, not the end of the input", len(files), len(kept))
	}
	figure(t, "a directory named %s in a pruned log directory: %q (%d times), logging goes on, the newest data kept", junk, want, len(lines))
}

// dirEntry is what a directory holds under one name, for comparing
// directories written by two programs.
type dirEntry struct {
	Name, Kind, Target string
	Mode               fs.FileMode
	Data               string
}

// snapshotDir lists dir recursively with archive names masked (as
// conformance.MaskNames does), kinds, modes, link targets and contents.
func snapshotDir(t *testing.T, dir string) []dirEntry {
	t.Helper()
	var out []dirEntry
	filepath.WalkDir(dir, func(path string, de fs.DirEntry, err error) error {
		if err != nil || path == dir {
			return nil
		}
		rel, _ := filepath.Rel(dir, path)
		st, err := os.Lstat(path)
		if err != nil {
			return nil
		}
		e := dirEntry{Name: rel, Mode: st.Mode()}
		switch {
		case st.Mode()&fs.ModeSymlink != 0:
			e.Kind = "symlink"
			e.Target, _ = os.Readlink(path)
		case st.IsDir():
			e.Kind = "dir"
		default:
			e.Kind = "file"
			b, _ := os.ReadFile(path)
			e.Data = string(b)
		}
		out = append(out, e)
		return nil
	})
	names := make([]string, len(out))
	for i, e := range out {
		names[i] = filepath.Base(e.Name)
	}
	for i, m := range conformance.MaskNames(names) {
		out[i].Name = filepath.Join(filepath.Dir(out[i].Name), m)
		if conformance.IsArchiveName(filepath.Base(out[i].Target)) {
			out[i].Target = "@<archive>"
		}
	}
	slices.SortFunc(out, func(a, b dirEntry) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// TestBadCurrent: current a symbolic link (to a file inside the directory,
// to one outside, dangling) or a directory, each with a clean-stop or a
// crash mode. Ours and daemontools' multilog are run on copies of the same
// directory with the same input: the same exit code, the same message and
// the same files afterwards; when multilog runs, no input line is lost.
func TestBadCurrent(t *testing.T) {
	ref := true
	if _, err := os.Stat(refMultilog); err != nil {
		t.Logf("%s not installed: outcomes not compared", refMultilog)
		ref = false
	}
	type setup func(t *testing.T, work, d string)
	link := func(target string, mode os.FileMode) setup {
		return func(t *testing.T, work, d string) {
			must(t, os.WriteFile(filepath.Join(work, "target"), []byte("old line\n"), mode))
			must(t, os.Chmod(filepath.Join(work, "target"), mode))
			must(t, os.Symlink(target, filepath.Join(d, "current")))
		}
	}
	// same: ours must do what daemontools does. Otherwise the difference
	// is documented in doc/man8/multilog.8 and code is our exit code: taikit
	// writes only inside the directory (os.Root), so a current leading out
	// of it stops it at start-up (111), and it keeps a dangling current or
	// a current directory left as by a crash as a .u archive (0).
	cases := []struct {
		name string
		same bool
		set  setup
		code int
	}{
		{"symlink inside the directory, clean stop (0744)", true, func(t *testing.T, work, d string) {
			must(t, os.WriteFile(filepath.Join(d, "real"), []byte("old line\n"), 0o744))
			must(t, os.Chmod(filepath.Join(d, "real"), 0o744))
			must(t, os.Symlink("real", filepath.Join(d, "current")))
		}, 0},
		{"symlink inside the directory, crash (0644)", true, func(t *testing.T, work, d string) {
			must(t, os.WriteFile(filepath.Join(d, "real"), []byte("old line\n"), 0o644))
			must(t, os.Symlink("real", filepath.Join(d, "current")))
		}, 0},
		{"symlink outside, clean stop (0744)", false, link("../target", 0o744), 111},
		{"symlink outside, crash (0644)", false, link("../target", 0o644), 111},
		{"symlink to an absolute path, crash", false, func(t *testing.T, work, d string) {
			link(filepath.Join(work, "target"), 0o644)(t, work, d)
		}, 111},
		{"dangling symlink", false, func(t *testing.T, work, d string) {
			must(t, os.Symlink("nowhere", filepath.Join(d, "current")))
		}, 0},
		{"directory, 0755", true, func(t *testing.T, work, d string) {
			must(t, os.Mkdir(filepath.Join(d, "current"), 0o755))
			must(t, os.WriteFile(filepath.Join(d, "current", "inside"), []byte("x\n"), 0o644))
		}, 0},
		{"directory, 0700", true, func(t *testing.T, work, d string) { must(t, os.Mkdir(filepath.Join(d, "current"), 0o700)) }, 0},
		// daemontools retries "unable to remove ./d/current" for ever.
		{"directory, 0600", false, func(t *testing.T, work, d string) { must(t, os.Mkdir(filepath.Join(d, "current"), 0o600)) }, 0},
	}
	in := []byte("line 1\nline 2 \x00\xff\n")
	for _, c := range cases {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			type outcome struct {
				code   int
				stderr string
				unread int
				snap   []dirEntry
			}
			runIn := func(prog string) outcome {
				work := t.TempDir()
				d := filepath.Join(work, "d")
				must(t, os.Mkdir(d, 0o700))
				c.set(t, work, d)
				limit := time.Duration(0)
				if prog != "" {
					limit = 5 * time.Second
				}
				code, stderr, unread := runLimited(t, prog, work, in, limit, "./d")
				if code == stuck {
					// Only its first messages: it repeats them for ever.
					stderr = strings.Join(stderrLines(stderr)[:min(1, len(stderrLines(stderr)))], "") + " (repeated; still running after 5 s)"
				}
				snap := snapshotDir(t, work)
				return outcome{code, strings.ReplaceAll(stderr, work, "<work>"), unread, snap}
			}
			ours := runIn("")
			if ours.code == 0 {
				all := ""
				for _, e := range ours.snap {
					all += e.Data
				}
				if !strings.Contains(all, string(in)) {
					t.Errorf("exit 0 but the input is not in any file: %+v", ours.snap)
				}
			} else if ours.unread != len(in) || !strings.HasPrefix(ours.stderr, "multilog: fatal: ") {
				t.Errorf("exit %d with %d of %d input bytes unread, stderr %q: a start-up failure must say why and read nothing", ours.code, ours.unread, len(in), ours.stderr)
			}
			t.Logf("exit %d, stderr %q", ours.code, ours.stderr)
			if !c.same && ours.code != c.code {
				t.Errorf("exit %d; doc/man8/multilog.8 says %d", ours.code, c.code)
			}
			if !ref {
				return
			}
			theirs := runIn(refMultilog)
			var diffs []string
			if ours.code != theirs.code || ours.stderr != theirs.stderr {
				diffs = append(diffs, fmt.Sprintf("exit %d, stderr %q; daemontools: exit %d, stderr %q", ours.code, ours.stderr, theirs.code, theirs.stderr))
			}
			if diff := diffSnapshots(ours.snap, theirs.snap, ours.code == 0); diff != "" {
				diffs = append(diffs, "the directories differ from daemontools':\n"+diff)
			}
			switch {
			case len(diffs) == 0:
				figure(t, "current is a %s: as daemontools: exit %d %q", c.name, ours.code, strings.TrimSpace(ours.stderr))
			case c.same:
				t.Error(strings.Join(diffs, "\n"))
			default:
				figure(t, "current is a %s: a difference from daemontools documented in doc/man8/multilog.8: %s", c.name, strings.Join(diffs, "; "))
			}
		})
	}
}

// diffSnapshots describes how two snapshots differ. After a run that
// logged (clean), the modes of current and lock are compared too; a
// daemontools multilog that failed at start-up leaves its current at 0644
// where ours may have closed it (see doc/man8/multilog.8), so modes of files are
// left out then.
func diffSnapshots(a, b []dirEntry, clean bool) string {
	var out []string
	m := map[string]dirEntry{}
	for _, e := range b {
		m[e.Name] = e
	}
	for _, e := range a {
		o, ok := m[e.Name]
		delete(m, e.Name)
		if !ok {
			out = append(out, fmt.Sprintf("  %s (%s) only in ours", e.Name, e.Kind))
			continue
		}
		if e.Kind != o.Kind || e.Target != o.Target || e.Data != o.Data || (clean && e.Mode != o.Mode) {
			out = append(out, fmt.Sprintf("  %s: ours %s %v %q %q; daemontools %s %v %q %q", e.Name, e.Kind, e.Mode, e.Target, clip([]byte(e.Data)), o.Kind, o.Mode, o.Target, clip([]byte(o.Data))))
		}
	}
	for n, o := range m {
		out = append(out, fmt.Sprintf("  %s (%s) only in daemontools'", n, o.Kind))
	}
	slices.Sort(out)
	return strings.Join(out, "\n")
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestReadOnlyDirectory: a log directory (new, or left by a clean run) on
// a read-only file system — a read-only tmpfs as root, a directory without
// write permission otherwise. multilog fails at start-up with daemontools'
// message and exit code, reading nothing from its input.
func TestReadOnlyDirectory(t *testing.T) {
	ref := true
	if _, err := os.Stat(refMultilog); err != nil {
		t.Logf("%s not installed: messages not compared", refMultilog)
		ref = false
	}
	in := []byte("a line that must stay in the pipe\n")
	for _, existing := range []bool{false, true} {
		name := map[bool]string{false: "new", true: "existing"}[existing]
		t.Run(name, func(t *testing.T) {
			type outcome struct {
				code   int
				stderr string
				unread int
			}
			runIn := func(prog string) outcome {
				var work string
				if os.Geteuid() == 0 {
					work = mountTmpfs(t, "1m")
				} else {
					work = t.TempDir()
				}
				if existing {
					if code, e, _ := runOnce(t, "", work, []byte("earlier\n"), "./d"); code != 0 {
						t.Fatalf("setting up: exit %d: %s", code, e)
					}
				}
				if os.Geteuid() == 0 {
					must(t, syscall.Mount("", work, "", syscall.MS_REMOUNT|syscall.MS_RDONLY, ""))
				} else {
					must(t, os.Chmod(work, 0o555))
					if existing {
						must(t, os.Chmod(filepath.Join(work, "d"), 0o555))
						must(t, os.Chmod(filepath.Join(work, "d", "lock"), 0o400))
					}
					t.Cleanup(func() {
						os.Chmod(work, 0o755)
						os.Chmod(filepath.Join(work, "d"), 0o755)
					})
				}
				code, stderr, unread := runOnce(t, prog, work, in, "./d")
				return outcome{code, stderr, unread}
			}
			ours := runIn("")
			if ours.code != 111 || ours.unread != len(in) || !strings.HasPrefix(ours.stderr, "multilog: fatal: ") || strings.Count(ours.stderr, "\n") != 1 {
				t.Errorf("exit %d, %d of %d bytes left unread, stderr %q; want 111, all unread, one fatal message", ours.code, ours.unread, len(in), ours.stderr)
			}
			if ref {
				theirs := runIn(refMultilog)
				if ours.code != theirs.code || ours.stderr != theirs.stderr || ours.unread != theirs.unread {
					t.Errorf("exit %d, stderr %q, %d unread; daemontools: %d, %q, %d", ours.code, ours.stderr, ours.unread, theirs.code, theirs.stderr, theirs.unread)
				}
			}
			figure(t, "%s log directory on a read-only file system: exit %d, %q, input left in the pipe", name, ours.code, strings.TrimSpace(ours.stderr))
		})
	}
}
