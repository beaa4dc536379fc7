package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/taikit/taikit/internal/testref"
)

// Gaps: data that retention prunes before logcat reads it is named on
// standard error (the directory, what was pruned and how much, where
// reading resumed), logcat exits 3 (0 with --allow-gaps), and every line
// still in the directory is written once, in order.

// procState returns the state letter of process pid ('T' when stopped).
func procState(t *testing.T, pid int) byte {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	return s[strings.LastIndexByte(s, ')')+2]
}

// heldFile returns the descriptor path (/proc/<pid>/fd/<n>) through which
// process pid holds a file of dir other than "lock".
func heldFile(t *testing.T, pid int, dir string) string {
	t.Helper()
	fds, _ := filepath.Glob(fmt.Sprintf("/proc/%d/fd/*", pid))
	for _, fd := range fds {
		if l, err := os.Readlink(fd); err == nil && strings.HasPrefix(l, dir+"/") && !strings.HasSuffix(l, "/lock") {
			return fd
		}
	}
	t.Fatalf("process %d holds no file of %s", pid, dir)
	return ""
}

// oldestArchive returns the name of the oldest archive of dir.
func oldestArchive(t *testing.T, dir string) string {
	t.Helper()
	names, _ := filepath.Glob(filepath.Join(dir, "@*"))
	sort.Strings(names)
	if len(names) == 0 {
		t.Fatalf("no archive in %s", dir)
	}
	return filepath.Base(names[0])
}

// exitCode returns the exit status of a process that has exited.
func exitCode(t *testing.T, err error) int {
	t.Helper()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	t.Fatal(err)
	return -1
}

// A follower stopped (SIGSTOP) while our multilog, with retention n2 (one
// archive kept), writes many files: when it goes on (SIGCONT), the file it
// was in is gone and so are the ones after it. It writes the rest of its
// file (it holds it open), says on standard error which files after it
// were pruned, how much is known lost, and where it resumed, then
// writes everything still in the directory; stopped by SIGTERM it exits 3,
// or 0 with --allow-gaps.
func TestFollowGapWhileStopped(t *testing.T) {
	for _, allow := range []bool{false, true} {
		name := "exit 3"
		if allow {
			name = "--allow-gaps"
		}
		t.Run(name, func(t *testing.T) {
			w := startWriter(t, "t", "s4096", "n2")
			out := filepath.Join(t.TempDir(), "out")
			args := []string{"-F", w.dir}
			if allow {
				args = append([]string{"--allow-gaps"}, args...)
			}
			f := startQuietFollower(t, out, args...)
			pid := f.cmd.Process.Pid
			w.lines(t, 0, 20)
			testref.WaitFor(t, "the follower to catch up", func() bool { return strings.HasSuffix(f.output(t), lineText(19)) })

			f.cmd.Process.Signal(syscall.SIGSTOP)
			testref.WaitFor(t, "the follower to stop", func() bool { return procState(t, pid) == 'T' })
			held := heldFile(t, pid, w.dir)
			w.lines(t, 20, 5000) // some 80 files: every one of them but the last pruned
			w.finish(t)
			// The follower's file is pruned (it reads it through its
			// descriptor), and lines after it are gone with the files
			// pruned since: a real gap.
			if l, _ := os.Readlink(held); !strings.HasSuffix(l, " (deleted)") {
				t.Fatalf("the follower's file is still there: %s", l)
			}
			inHeld, err := os.ReadFile(held)
			if err != nil {
				t.Fatal(err)
			}
			lastHeld := lineNumber(lastLine(string(inHeld)))
			content := finalContent(t, w.dir)
			firstLeft := lineNumber(firstLine(content))
			if firstLeft <= lastHeld+1 {
				t.Fatalf("nothing lost: the follower's file ends at line %d, the directory begins at %d", lastHeld, firstLeft)
			}

			f.cmd.Process.Signal(syscall.SIGCONT)
			testref.WaitFor(t, "the follower to write the directory's last line", func() bool {
				return strings.HasSuffix(f.output(t), lineText(4999))
			})
			f.cmd.Process.Signal(syscall.SIGTERM)
			code := exitCode(t, f.cmd.Wait())
			if want := map[bool]int{false: 3, true: 0}[allow]; code != want {
				t.Errorf("exit %d after SIGTERM, want %d", code, want)
			}
			stderr, _ := os.ReadFile(f.errFile)
			// The follower's inotify history names the archives pruned
			// while it was stopped; had the kernel's queue of events
			// overflowed meanwhile, it could not tell how many.
			prefix := "logcat: warning: gap in " + w.dir + " after the line stamped " + stampOf(lastLine(string(inHeld))) +
				" (in the file that was current): "
			suffix := ": an unknown amount lost; reading resumed in " + oldestArchive(t, w.dir) +
				" at the line stamped " + stampOf(firstLine(content)) + "\n"
			named := regexp.MustCompile(`^\d+ files, from @[0-9a-f]{24}\.s \(size unknown\) to @[0-9a-f]{24}\.s \(size unknown\), were pruned before logcat read them$`)
			unknown := "files written after it may have been pruned before logcat read them (how many is unknown)"
			what, ok := strings.CutPrefix(string(stderr), prefix)
			what, ok2 := strings.CutSuffix(what, suffix)
			if !ok || !ok2 || !named.MatchString(what) && what != unknown {
				t.Errorf("standard error:\n%q\nwant\n%q (N files, from … to …, were pruned before logcat read them, or %s) %q", stderr, prefix, unknown, suffix)
			}
			// Every line up to the end of the follower's file, then
			// everything the directory still holds: each once, in order.
			got := f.output(t)
			if !strings.HasSuffix(got, content) {
				t.Fatalf("the output does not end with the directory's content: %s", testref.Diff(content, got))
			}
			before := got[:len(got)-len(content)]
			n := 0
			for l := range strings.Lines(before) {
				if lineNumber(l) != n {
					t.Fatalf("line %d of the output is %q", n, l)
				}
				n++
			}
			if n != lastHeld+1 {
				t.Fatalf("%d lines before the gap, want %d (to the end of the follower's file)", n, lastHeld+1)
			}
		})
	}
}

// lineText is the text our writer gives line i (after the stamp).
func lineText(i int) string { return fmt.Sprintf(" line %d %s\n", i, strings.Repeat("y", i%50)) }

func lastLine(s string) string {
	s = strings.TrimSuffix(s, "\n")
	return s[strings.LastIndexByte(s, '\n')+1:] + "\n"
}

func firstLine(s string) string { return s[:strings.IndexByte(s, '\n')+1] }

// stampOf returns the "@…" stamp a line begins with.
func stampOf(l string) string { return l[:25] }

// A follower with a cursor, stopped cleanly in current; the writer then
// fills and rotates many files with retention n2, so that the cursor's
// file is pruned. Started again from the cursor, logcat says that the
// cursor's file was pruned (not that current cannot be found: there is a
// new one), how much of it it had read, and where it resumed; it writes
// everything the directory holds and exits 3. With --allow-gaps, reading
// from the same cursor warns the same and exits 0; a run after the gap
// has nothing to say.
func TestCursorGap(t *testing.T) {
	w := startWriter(t, "t", "s4096", "n2")
	tmp := t.TempDir()
	out := filepath.Join(tmp, "out")
	cursor := filepath.Join(tmp, "cursor")
	f := startQuietFollower(t, out, "-F", "-C", cursor, w.dir)
	w.lines(t, 0, 20) // well within current's first file
	testref.WaitFor(t, "the follower to catch up", func() bool { return strings.HasSuffix(f.output(t), lineText(19)) })
	testref.WaitFor(t, "the follower to read the directory", func() bool { return reading(f.cmd.Process.Pid, w.dir) })
	f.cmd.Process.Signal(syscall.SIGTERM)
	if code := exitCode(t, f.cmd.Wait()); code != 0 {
		t.Fatalf("logcat -F -C exited %d", code)
	}
	read := len(f.output(t))
	w.lines(t, 20, 3000)
	w.finish(t)
	content := finalContent(t, w.dir)
	if lineNumber(firstLine(content)) <= 20 {
		t.Fatalf("the cursor's file was not pruned: the directory begins with %q", firstLine(content))
	}
	kept, _ := os.ReadFile(cursor)
	cursor2 := filepath.Join(tmp, "cursor2")
	if err := os.WriteFile(cursor2, kept, 0o644); err != nil {
		t.Fatal(err)
	}
	wantErr := "logcat: warning: gap in " + w.dir + ": the cursor's file (current when the cursor was saved, " +
		fmt.Sprint(read) + " bytes of it read) was pruned before logcat read the rest of it; files written after it " +
		"may have been pruned before logcat read them (how many is unknown): an unknown amount lost; reading resumed in " +
		oldestArchive(t, w.dir) + " at the line stamped " + stampOf(firstLine(content)) + "\n"

	// Following from the cursor.
	out2 := filepath.Join(tmp, "out2")
	f = startQuietFollower(t, out2, "-F", "-C", cursor, w.dir)
	testref.WaitFor(t, "the follower to write the directory", func() bool { return len(f.output(t)) >= len(content) })
	f.cmd.Process.Signal(syscall.SIGTERM)
	if code := exitCode(t, f.cmd.Wait()); code != 3 {
		t.Errorf("logcat -F -C after the gap: exit %d, want 3", code)
	}
	if got := f.output(t); got != content {
		t.Errorf("output vs the directory's content: %s", testref.Diff(content, got))
	}
	if stderr, _ := os.ReadFile(f.errFile); string(stderr) != wantErr {
		t.Errorf("standard error:\n%q\nwant\n%q", stderr, wantErr)
	}

	// Reading from the same cursor, gaps allowed.
	r := run(t, "", "--allow-gaps", "-C", cursor2, w.dir)
	if r.code != 0 || r.out != content || r.err != wantErr {
		t.Errorf("logcat --allow-gaps -C: exit %d, stderr %q (want %q), output %s", r.code, r.err, wantErr, testref.Diff(content, r.out))
	}
	// The gap is told once: the cursors now stand after it. Nothing new
	// is nothing selected: exit 1, as grep.
	for _, c := range []string{cursor, cursor2} {
		if r := run(t, "", "-C", c, w.dir); r.code != 1 || r.out != "" || r.err != "" {
			t.Errorf("logcat -C %s after the gap: exit %d, %q, output %q", c, r.code, r.err, r.out)
		}
	}
}
