package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/taikit/taikit/internal/testref"
	"github.com/taikit/taikit/rotate"
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

// stderrOf returns what a follower started by startQuietFollower has said.
func stderrOf(t *testing.T, f *follower) string {
	t.Helper()
	b, err := os.ReadFile(f.errFile)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// logcat -F follows the directory by name, as tail -F: a redeploy that
// renames or removes the directory and starts a new writer in a new one
// under the name is said once on standard error, and the new directory is
// read from its start; stopped by SIGTERM, logcat exits 0.
func TestFollowRedeploy(t *testing.T) {
	for _, how := range []string{"renamed", "removed"} {
		t.Run(how, func(t *testing.T) {
			w := startWriter(t, "t", "s4096")
			out := filepath.Join(t.TempDir(), "out")
			f := startQuietFollower(t, out, "-F", w.dir)
			w.lines(t, 0, 100)
			w.finish(t)
			old := finalContent(t, w.dir)
			testref.WaitFor(t, "the old directory followed", func() bool { return len(f.output(t)) >= len(old) })
			if how == "renamed" {
				if err := os.Rename(w.dir, w.dir+".old"); err != nil {
					t.Fatal(err)
				}
			} else if err := os.RemoveAll(w.dir); err != nil {
				t.Fatal(err)
			}
			gone := "logcat: warning: " + w.dir + " went away (file does not exist): waiting for it to come back\n"
			testref.WaitFor(t, "logcat to say the directory went away", func() bool { return strings.HasSuffix(stderrOf(t, f), gone) })
			if e := stderrOf(t, f); e != gone {
				t.Fatalf("said %q, want %q", e, gone)
			}

			// The new writer makes the directory again.
			nw := startWriterIn(t, w.dir, "t", "s4096")
			nw.lines(t, 100, 300)
			nw.finish(t)
			want := old + finalContent(t, w.dir)
			testref.WaitFor(t, "the new directory followed", func() bool { return len(f.output(t)) >= len(want) })
			f.cmd.Process.Signal(syscall.SIGTERM)
			if err := f.cmd.Wait(); err != nil {
				t.Fatalf("logcat -F after SIGTERM: %v", err)
			}
			if got := f.output(t); got != want {
				t.Fatalf("%s", testref.Diff(want, got))
			}
			back := "logcat: warning: " + w.dir + " is back: reading it from its start\n"
			if e := stderrOf(t, f); e != gone+back {
				t.Fatalf("said %q, want %q", e, gone+back)
			}
		})
	}
}

// SIGTERM is honoured by a follower in every hostile state: a link, a
// FIFO or a directory at "current" or "previous", each refused with a
// message naming it, then waited on without spinning; logcat exits 111 (a
// file could not be read).
func TestFollowHostileSIGTERM(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "shadow")
	os.WriteFile(secret, []byte("SECRET\n"), 0o600)
	for _, name := range []string{"current", "previous"} {
		for _, kind := range []string{"link", "fifo", "directory"} {
			t.Run(name+"/"+kind, func(t *testing.T) {
				dir := writeDir(t, numbered(1_800_000_000, 50), 4096, rotate.NoCompression)
				p := filepath.Join(dir, name)
				os.Remove(p)
				var err error
				what := ""
				switch kind {
				case "link":
					err, what = os.Symlink(secret, p), "a symbolic link"
				case "fifo":
					err, what = syscall.Mkfifo(p, 0o644), "a FIFO"
				case "directory":
					err, what = os.Mkdir(p, 0o755), "a directory"
				}
				if err != nil {
					t.Fatal(err)
				}
				out := filepath.Join(t.TempDir(), "out")
				f := startQuietFollower(t, out, "-F", dir)
				msg := "logcat: warning: unable to open " + p + ": not a regular file: " + what + "\n"
				testref.WaitFor(t, "the refusal", func() bool { return strings.Contains(stderrOf(t, f), msg) })
				// Waiting, not spinning: the process sleeps.
				testref.WaitFor(t, "logcat to sleep", func() bool { return procState(t, f.cmd.Process.Pid) == 'S' })
				f.cmd.Process.Signal(syscall.SIGTERM)
				done := make(chan error, 1)
				go func() { done <- f.cmd.Wait() }()
				var werr error
				testref.WaitFor(t, "logcat to exit after SIGTERM", func() bool {
					select {
					case werr = <-done:
						return true
					default:
						return false
					}
				})
				if code := exitCode(t, werr); code != 111 {
					t.Fatalf("exit %d, want 111", code)
				}
				if e := stderrOf(t, f); e != msg {
					t.Fatalf("said %q, want %q", e, msg)
				}
				if strings.Contains(f.output(t), "SECRET") {
					t.Fatal("read through the link")
				}
			})
		}
	}
}

// waitExit waits for the process of cmd, started, to exit and returns its
// exit code.
func waitExit(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	err := testref.Receive(t, "logcat to exit after SIGTERM", done)
	return exitCode(t, err)
}

// SIGTERM is honoured while logcat waits in a read of a pipe whose writer
// is idle (logcat -f -), or in the open of a FIFO nobody writes (logcat
// FIFO): it writes what it has and exits 0.
func TestSIGTERMWhileBlocked(t *testing.T) {
	t.Run("idle pipe", func(t *testing.T) {
		cmd := exec.Command(testref.Self(t), "-f", "-")
		cmd.Env = testref.Environ(testref.BeCommand)
		in, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		defer in.Close()
		out := filepath.Join(t.TempDir(), "out")
		of, _ := os.Create(out)
		defer of.Close()
		cmd.Stdout = of
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill() })
		in.Write([]byte("@400000006b13500000000001 first\n"))
		testref.WaitFor(t, "the line written", func() bool { b, _ := os.ReadFile(out); return len(b) > 0 })
		testref.WaitFor(t, "logcat to sleep", func() bool { return procState(t, cmd.Process.Pid) == 'S' })
		cmd.Process.Signal(syscall.SIGTERM)
		if code := waitExit(t, cmd); code != 0 {
			t.Fatalf("exit %d, want 0", code)
		}
		if b, _ := os.ReadFile(out); string(b) != "@400000006b13500000000001 first\n" {
			t.Fatalf("output %q", b)
		}
	})
	t.Run("fifo", func(t *testing.T) {
		fifo := filepath.Join(t.TempDir(), "fifo")
		if err := syscall.Mkfifo(fifo, 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(testref.Self(t), fifo)
		cmd.Env = testref.Environ(testref.BeCommand)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill() })
		// In open(2) on the FIFO: a thread of logcat waits for a writer
		// (wait_for_partner, in the kernel's fifo_open).
		testref.WaitFor(t, "logcat to wait on the FIFO", func() bool {
			tasks, _ := filepath.Glob("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/task/*/wchan")
			for _, w := range tasks {
				if b, _ := os.ReadFile(w); strings.Contains(string(b), "wait_for_partner") || strings.Contains(string(b), "fifo") {
					return true
				}
			}
			return false
		})
		cmd.Process.Signal(syscall.SIGTERM)
		if code := waitExit(t, cmd); code != 0 {
			t.Fatalf("exit %d, want 0", code)
		}
	})
}

// TestFollowMissingAtStart: -F on a directory not there yet (a service
// being set up) says so once, waits, and reads the directory from its
// start once a writer makes it, with -n 5 too (the last lines of nothing
// are none), as tail -F waits for a file; -f still refuses at once.
func TestFollowMissingAtStart(t *testing.T) {
	for _, args := range [][]string{{"-F"}, {"-F", "-n", "5"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "main")
			out := filepath.Join(t.TempDir(), "out")
			f := startQuietFollower(t, out, append(args, dir)...)
			gone := "logcat: warning: " + dir + " went away (file does not exist): waiting for it to come back\n"
			testref.WaitFor(t, "logcat to say the directory is not there", func() bool { return stderrOf(t, f) == gone })

			w := startWriterIn(t, dir, "t", "s4096")
			w.lines(t, 0, 200)
			w.finish(t)
			want := finalContent(t, dir)
			testref.WaitFor(t, "the new directory followed", func() bool { return len(f.output(t)) >= len(want) })
			f.cmd.Process.Signal(syscall.SIGTERM)
			if err := f.cmd.Wait(); err != nil {
				t.Fatalf("logcat %v after SIGTERM: %v", args, err)
			}
			if got := f.output(t); got != want {
				t.Fatalf("%s", testref.Diff(want, got))
			}
			back := "logcat: warning: " + dir + " is back: reading it from its start\n"
			if e := stderrOf(t, f); e != gone+back {
				t.Fatalf("said %q, want %q", e, gone+back)
			}
		})
	}
	t.Run("-f", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "main")
		res := run(t, "", "-f", dir)
		if want := "logcat: warning: unable to open directory " + dir + ": file does not exist\n"; res.code != 111 || res.err != want {
			t.Fatalf("exit %d, stderr %q; want 111, %q", res.code, res.err, want)
		}
	})
}
