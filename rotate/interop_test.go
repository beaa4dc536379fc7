package rotate

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/taikit/taikit/internal/testref"
)

// Interoperation with daemontools' multilog, s6-log and svlogd: each
// continues a directory the other wrote, recovers from the other's crash,
// and respects the other's lock.

const (
	interopMultilog = "/usr/bin/multilog"
	interopS6Log    = "/usr/bin/s6-log"
	interopSvlogd   = "/usr/bin/svlogd"
)

// interopLines returns lines from…to−1 of 100 bytes each: the number in five
// digits, "x" padding and a newline.
func interopLines(from, to int) []byte {
	var b []byte
	for i := from; i < to; i++ {
		b = fmt.Appendf(b, "%05d%s\n", i, strings.Repeat("x", 94))
	}
	return b
}

// interopRun runs a reference program in cwd with input from a regular file
// (so that its reads, and so its cuts, are deterministic).
func interopRun(t *testing.T, cwd string, input []byte, prog string, args ...string) testref.Result {
	t.Helper()
	in := filepath.Join(t.TempDir(), "input")
	if err := os.WriteFile(in, input, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(prog, args...)
	cmd.Dir, cmd.Stdin = cwd, f
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	res := testref.Result{}
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("running %s: %v", prog, err)
		}
		res.Code = ee.ExitCode()
		if ws := ee.Sys().(syscall.WaitStatus); ws.Signaled() {
			res.Code = -int(ws.Signal())
		}
	}
	res.Stdout, res.Stderr = o.Bytes(), e.Bytes()
	return res
}

// interopMustRun runs a reference program that must exit 0 and say nothing.
func interopMustRun(t *testing.T, cwd string, input []byte, prog string, args ...string) {
	t.Helper()
	if r := interopRun(t, cwd, input, prog, args...); r.Code != 0 || len(r.Stderr) > 0 || len(r.Stdout) > 0 {
		t.Fatalf("%s %q exited %d: stdout %q, stderr %q", prog, args, r.Code, r.Stdout, r.Stderr)
	}
}

// interopProc is a reference program reading from a pipe the test holds.
type interopProc struct {
	cmd    *exec.Cmd
	in     *os.File
	stderr bytes.Buffer
	done   bool
}

func interopStart(t *testing.T, cwd string, prog string, args ...string) *interopProc {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &interopProc{in: w}
	p.cmd = exec.Command(prog, args...)
	p.cmd.Dir, p.cmd.Stdin, p.cmd.Stderr = cwd, r, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r.Close()
	t.Cleanup(func() {
		if !p.done {
			p.cmd.Process.Kill()
			p.in.Close()
			p.cmd.Wait()
		}
	})
	return p
}

func (p *interopProc) write(t *testing.T, b []byte) {
	t.Helper()
	if _, err := p.in.Write(b); err != nil {
		t.Fatal(err)
	}
}

// kill kills the program with SIGKILL and reaps it.
func (p *interopProc) kill(t *testing.T) {
	t.Helper()
	p.cmd.Process.Kill()
	err := p.cmd.Wait()
	p.in.Close()
	p.done = true
	var ee *exec.ExitError
	if !errors.As(err, &ee) || !ee.Sys().(syscall.WaitStatus).Signaled() {
		t.Fatalf("%s was not killed: %v; stderr %q", p.cmd.Path, err, p.stderr.Bytes())
	}
}

// finish ends the program's input and waits for a clean exit.
func (p *interopProc) finish(t *testing.T) {
	t.Helper()
	p.in.Close()
	err := p.cmd.Wait()
	p.done = true
	if err != nil || p.stderr.Len() > 0 {
		t.Fatalf("%s: %v; stderr %q", p.cmd.Path, err, p.stderr.Bytes())
	}
}

// interopWait polls cond until it holds.
func interopWait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// interopData returns the archives' data in name order followed by current's,
// read raw, and whether a transient file (previous, processed) exists. A
// program may be writing the directory: files that vanish are skipped.
func interopData(t *testing.T, dir string) (data []byte, transient bool) {
	t.Helper()
	names, err := crashReadNames(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false
	}
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	var order []string
	for _, n := range names {
		switch {
		case strings.HasPrefix(n, "@"):
			order = append(order, n)
		case n == filePrevious || n == fileProcessed:
			transient = true
		}
	}
	for _, n := range append(order, fileCurrent) {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
		data = append(data, b...)
	}
	return data, transient
}

func interopRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func interopPerm(t *testing.T, path string) fs.FileMode {
	t.Helper()
	st, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

// interopArchives returns the directory's archives by name. A Dir's job may be
// archiving and pruning meanwhile: files that vanish are skipped.
func interopArchives(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	names, err := crashReadNames(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string][]byte{}
	for _, n := range names {
		if !isArchiveName(n) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, n))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		m[n] = b
	}
	return m
}

// interopHistory follows a directory that a Dir writes, archive by archive, so
// that what pruning removed is still known: every archive ever seen, in
// name order, followed by current must be everything ever written.
type interopHistory struct {
	t       *testing.T
	dir     string
	seen    map[string][]byte
	first   []string // archives there before following began
	written []byte
}

// newInteropHistory starts following dir: its archives and current so far count
// as written.
func newInteropHistory(t *testing.T, dir string) *interopHistory {
	t.Helper()
	h := &interopHistory{t: t, dir: dir, seen: interopArchives(t, dir)}
	h.first = slices.Sorted(maps.Keys(h.seen))
	h.written, _ = interopData(t, dir)
	return h
}

// snap records new archives and checks that seen ones did not change.
func (h *interopHistory) snap() {
	h.t.Helper()
	for n, data := range interopArchives(h.t, h.dir) {
		if old, ok := h.seen[n]; ok && !bytes.Equal(old, data) {
			h.t.Fatalf("archive %s changed", n)
		}
		h.seen[n] = data
	}
}

// write writes p line by line to d.
func (h *interopHistory) write(d *Dir, p []byte) {
	h.t.Helper()
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n') + 1
		write(h.t, d, p[:i])
		h.written = append(h.written, p[:i]...)
		p = p[i:]
		h.snap()
	}
}

// pruned returns how many of the first archives are gone.
func (h *interopHistory) pruned() int {
	h.t.Helper()
	now := interopArchives(h.t, h.dir)
	n := 0
	for _, name := range h.first {
		if _, ok := now[name]; !ok {
			n++
		}
	}
	return n
}

// check checks that the directory keeps the newest keep−1 archives ever
// seen and that all archives ever seen, in name order, then current, are
// everything written.
func (h *interopHistory) check(keep int) {
	h.t.Helper()
	h.snap()
	all := slices.Sorted(maps.Keys(h.seen))
	want := all[max(0, len(all)-(keep-1)):]
	if got := crashArchiveNames(h.t, h.dir); !slices.Equal(got, want) {
		h.t.Fatalf("archives %q, want the newest %d of %q", got, keep-1, all)
	}
	var got []byte
	for _, n := range all {
		got = append(got, h.seen[n]...)
	}
	got = append(got, interopRead(h.t, filepath.Join(h.dir, fileCurrent))...)
	if !bytes.Equal(got, h.written) {
		h.t.Fatalf("the archives ever seen and current are not what was written:\n%s", testref.Diff(string(h.written), string(got)))
	}
}

// interopContinueClean opens a directory another program closed cleanly
// and continues it with Keep 5 for as many rotations as make the archives
// five (so that one of that program's archives must go), then a few lines
// more. It checks that current was appended to, that the other program's
// archives counted against Keep and went first, and that nothing written
// by either was lost or reordered. Archiving runs beside the writer, so
// what was pruned is checked only after Close.
func interopContinueClean(t *testing.T, dir string, from int) {
	t.Helper()
	cur := filepath.Join(dir, fileCurrent)
	if m := interopPerm(t, cur); m != 0o744 {
		t.Fatalf("current has mode %04o after a clean exit", m)
	}
	oldCur := interopRead(t, cur)
	h := newInteropHistory(t, dir)
	theirs := len(h.first)
	if theirs < 2 || theirs > 4 {
		t.Fatalf("the other program left %d archives; the test needs 2 to 4", theirs)
	}
	var w warnings
	o := testOptions(&w)
	o.MaxSize, o.Keep, o.Name = 4096, 5, "./d"
	d := mustOpen(t, dir, o)
	if m := interopPerm(t, cur); m != 0o644 {
		t.Fatalf("current has mode %04o while open", m)
	}
	h.write(d, interopLines(from, from+1))
	if got := interopRead(t, cur); len(oldCur)+100 < 2096 && !bytes.Equal(got, append(oldCur, interopLines(from, from+1)...)) {
		t.Fatalf("current was not appended to: %q", got)
	}
	rotations := int64(5 - theirs)
	n := from + 1
	for ; d.Stats().Rotations < rotations; n++ {
		if n > from+1000 {
			t.Fatal("no rotation")
		}
		h.write(d, interopLines(n, n+1))
	}
	h.write(d, interopLines(n, n+5))
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	h.check(5)
	if got := h.pruned(); got != 1 {
		t.Fatalf("archives %q; of the other program's %q, %d pruned, want the oldest",
			crashArchiveNames(t, dir), h.first, got)
	}
	if m := interopPerm(t, cur); m != 0o744 {
		t.Fatalf("current has mode %04o after Close", m)
	}
	if ws := w.all(); len(ws) > 0 {
		t.Fatalf("warnings: %q", ws)
	}
}

// interopContinueCrashed opens a directory whose writer was killed: current
// (mode 0644) must become a ".u" archive with exactly its content, state
// is truncated, a new empty current started; then writing continues.
// written is what the killed program was given; the directory must end up
// holding it and what is written here, in order.
func interopContinueCrashed(t *testing.T, dir string, written []byte, from int) {
	t.Helper()
	cur := filepath.Join(dir, fileCurrent)
	if m := interopPerm(t, cur); m != 0o644 {
		t.Fatalf("current has mode %04o after kill -9", m)
	}
	oldCur := interopRead(t, cur)
	before := interopArchives(t, dir)
	// What a processor may have left in state must go.
	if err := os.WriteFile(filepath.Join(dir, fileState), []byte("S\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var w warnings
	o := testOptions(&w)
	o.MaxSize, o.Keep, o.Name = 4096, 100, "./d"
	d := mustOpen(t, dir, o)
	after := interopArchives(t, dir)
	var added []string
	for n, data := range after {
		if old, ok := before[n]; !ok {
			added = append(added, n)
		} else if !bytes.Equal(old, data) {
			t.Fatalf("archive %s changed", n)
		}
	}
	if len(added) != 1 || !strings.HasSuffix(added[0], ".u") || len(after) != len(before)+1 {
		t.Fatalf("Open added archives %q; want one .u", added)
	}
	if got := after[added[0]]; !bytes.Equal(got, oldCur) {
		t.Fatalf("the .u holds %q, not the crashed current %q", got, oldCur)
	}
	if m := interopPerm(t, filepath.Join(dir, added[0])); m != 0o644 {
		t.Fatalf("the .u has mode %04o", m)
	}
	for _, last := range slices.Sorted(maps.Keys(before)) {
		if added[0] <= last {
			t.Fatalf("the .u %s sorts before the older archive %s", added[0], last)
		}
	}
	if got := interopRead(t, filepath.Join(dir, fileState)); len(got) != 0 {
		t.Fatalf("state holds %q after crash recovery", got)
	}
	if got := modes(listDir(t, dir)); !strings.HasSuffix(got, "current 0644, lock 0600, state 0644") &&
		!strings.HasSuffix(got, "current 0644, lock 0644, state 0644") {
		t.Fatalf("entries after recovery: %s", got)
	}
	if st, _ := os.Stat(cur); st.Size() != 0 {
		t.Fatalf("the new current holds %d bytes", st.Size())
	}
	h := newInteropHistory(t, dir)
	h.write(d, interopLines(from, from+60))
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	h.check(100)
	if got := h.written; !bytes.Equal(got, append(slices.Clip(written), interopLines(from, from+60)...)) {
		t.Fatalf("the directory holds:\n%s", testref.Diff(string(written)+string(interopLines(from, from+60)), string(got)))
	}
	if ws := w.all(); len(ws) > 0 {
		t.Fatalf("warnings: %q", ws)
	}
}

// TestInteropMultilogDirContinued: a directory multilog wrote and closed
// is continued: current appended to, multilog's archives counted by Keep
// and pruned oldest first, every byte kept in order.
func TestInteropMultilogDirContinued(t *testing.T) {
	testref.Need(t, interopMultilog)
	tmp := t.TempDir()
	in := interopLines(0, 60)
	interopMustRun(t, tmp, in, interopMultilog, "s4096", "n5", "./d")
	dir := filepath.Join(tmp, "d")
	if got, _ := interopData(t, dir); !bytes.Equal(got, in) {
		t.Fatalf("multilog left:\n%s", testref.Diff(string(in), string(got)))
	}
	interopContinueClean(t, dir, 60)
}

// TestInteropMultilogKilledContinued: multilog killed by SIGKILL leaves
// current 0644; Open keeps it as a .u with its exact content (P07).
func TestInteropMultilogKilledContinued(t *testing.T) {
	testref.Need(t, interopMultilog)
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "d")
	p := interopStart(t, tmp, interopMultilog, "s4096", "./d")
	in := interopLines(0, 35)
	p.write(t, in)
	interopWait(t, "multilog to write its input", func() bool {
		got, transient := interopData(t, dir)
		return !transient && bytes.Equal(got, in)
	})
	p.kill(t)
	if len(crashArchiveNames(t, dir)) == 0 {
		t.Fatal("multilog made no archive before the kill")
	}
	interopContinueCrashed(t, dir, in, 35)
}

// TestInteropRotateDirContinuedByMultilog: multilog continues a directory
// a Dir closed: it appends to current (no .u), and its n counts our
// archives, pruning the oldest first.
func TestInteropRotateDirContinuedByMultilog(t *testing.T) {
	testref.Need(t, interopMultilog)
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "d")
	d := mustOpen(t, dir, Options{MaxSize: 4096, Keep: 100})
	ours := interopLines(0, 70)
	write(t, d, ours)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	before := interopArchives(t, dir)
	ourNames := slices.Sorted(maps.Keys(before))
	if len(ourNames) != 3 {
		t.Fatalf("%d archives", len(ourNames))
	}
	theirs := interopLines(70, 130)
	interopMustRun(t, tmp, theirs, interopMultilog, "s4096", "n5", "./d")
	after := interopArchives(t, dir)
	names := slices.Sorted(maps.Keys(after))
	var kept, added []string
	for _, n := range names {
		if _, ok := before[n]; ok {
			kept = append(kept, n)
		} else {
			added = append(added, n)
			if !strings.HasSuffix(n, ".s") {
				t.Fatalf("multilog made the archive %s: it did not continue current", n)
			}
		}
	}
	if len(added) < 2 {
		t.Fatalf("multilog made %d archives; the test needs 2 to reach n5", len(added))
	}
	wantKept := ourNames[max(0, len(ourNames)+len(added)-4):]
	if len(names) != 4 || !slices.Equal(kept, wantKept) {
		t.Fatalf("archives %q: want our newest %q and multilog's %q", names, wantKept, added)
	}
	if ourNames[len(ourNames)-1] >= added[0] {
		t.Fatalf("multilog's archive %s sorts before ours %s", added[0], ourNames[len(ourNames)-1])
	}
	var pruned []byte
	for _, n := range ourNames[:len(ourNames)-len(wantKept)] {
		pruned = append(pruned, before[n]...)
	}
	got, _ := interopData(t, dir)
	all := append(slices.Clip(ours), theirs...)
	if !bytes.Equal(append(pruned, got...), all) {
		t.Fatalf("pruned archives + directory:\n%s", testref.Diff(string(all), string(append(pruned, got...))))
	}
	if m := interopPerm(t, filepath.Join(dir, fileCurrent)); m != 0o744 {
		t.Fatalf("current has mode %04o", m)
	}
}

// TestInteropRotateCrashRecoveredByMultilog: a Dir's writer killed by
// SIGKILL (current 0644, no Close) is recovered by multilog as a .u.
func TestInteropRotateCrashRecoveredByMultilog(t *testing.T) {
	testref.Need(t, interopMultilog)
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "d")
	w := startCrashWriter(t, dir, crashEnvStart+"=0", crashEnvMode+"=plain", crashEnvCount+"=150", crashEnvSettle+"=1")
	if !w.await(t, "done") {
		w.kill(t, dir)
	}
	w.kill(t, dir)
	cur := interopRead(t, filepath.Join(dir, fileCurrent))
	if m := interopPerm(t, filepath.Join(dir, fileCurrent)); m != 0o644 || len(cur) == 0 {
		t.Fatalf("the killed writer left current with mode %04o and %d bytes", m, len(cur))
	}
	before := interopArchives(t, dir)
	var tail []byte
	for n := 150; n < 160; n++ {
		tail = append(tail, crashLine(n)...)
	}
	interopMustRun(t, tmp, tail, interopMultilog, "s4096", "n100", "./d")
	after := interopArchives(t, dir)
	var added []string
	for n := range after {
		if _, ok := before[n]; !ok {
			added = append(added, n)
		}
	}
	if len(added) != 1 || !strings.HasSuffix(added[0], ".u") || !bytes.Equal(after[added[0]], cur) {
		t.Fatalf("multilog added %q; want one .u holding the crashed current", added)
	}
	if got := modes(listDir(t, dir)); !strings.HasSuffix(got, "@.u 0644, current 0744, lock 0600, state 0644") {
		t.Fatalf("entries: %s", got)
	}
	if got := interopRead(t, filepath.Join(dir, fileCurrent)); !bytes.Equal(got, tail) {
		t.Fatalf("current = %q", got)
	}
	if last, _ := checkCrashData(t, dir, 4096); last != 159 {
		t.Fatalf("the directory ends at line %d", last)
	}
}

// TestInteropRotateHalfProcessedRecoveredByMultilog: a Dir killed while
// its processor ran leaves previous (0744) and an incomplete processed;
// multilog deletes processed and keeps previous and current as .u.
func TestInteropRotateHalfProcessedRecoveredByMultilog(t *testing.T) {
	testref.Need(t, interopMultilog)
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "d")
	// The processor copies previous, says so with its process id and
	// sleeps: it outlives the writer, as multilog's processor would, until
	// the test kills it (or a minute passes).
	started := filepath.Join(tmp, "started")
	t.Cleanup(func() {
		if b, err := os.ReadFile(started); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 1 {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	proc := "!cat; echo $$ >../started.new && mv ../started.new ../started; exec sleep 60"
	// 2096 bytes close the first file; the 60 lines are 2430 bytes.
	w := startCrashWriter(t, dir, crashEnvStart+"=0", crashEnvMode+"="+proc, crashEnvCount+"=60")
	if !w.await(t, "done") {
		w.kill(t, dir)
	}
	interopWait(t, "the processor to start", func() bool {
		_, err := os.Stat(started)
		return err == nil
	})
	w.kill(t, dir)
	prev := interopRead(t, filepath.Join(dir, filePrevious))
	cur := interopRead(t, filepath.Join(dir, fileCurrent))
	if m := interopPerm(t, filepath.Join(dir, filePrevious)); m != 0o744 || len(prev) == 0 || len(cur) == 0 {
		t.Fatalf("the killed writer left previous %04o (%d bytes), current %d bytes", m, len(prev), len(cur))
	}
	if len(crashArchiveNames(t, dir)) != 0 {
		t.Fatalf("archives %q", crashArchiveNames(t, dir))
	}
	var tail []byte
	for n := 60; n < 70; n++ {
		tail = append(tail, crashLine(n)...)
	}
	interopMustRun(t, tmp, tail, interopMultilog, "./d")
	names, files := archives(t, dir)
	if got := modes(listDir(t, dir)); got != "@.u 0744, @.u 0644, current 0744, lock 0600, state 0644" {
		t.Fatalf("entries: %s", got)
	}
	if !bytes.Equal(files[0], prev) || !bytes.Equal(files[1], cur) {
		t.Fatalf("%s and %s do not hold previous and current", names[0], names[1])
	}
	if last, _ := checkCrashData(t, dir, 4096); last != 69 {
		t.Fatalf("the directory ends at line %d", last)
	}
}

// TestInteropS6LogDirContinued: s6-log's directory (lock 0644, archives
// over s, names 27 s ahead of ours since s6-log counts leap seconds) is
// continued; our archives still sort after s6-log's.
func TestInteropS6LogDirContinued(t *testing.T) {
	testref.Need(t, interopS6Log)
	tmp := t.TempDir()
	in := interopLines(0, 200)
	interopMustRun(t, tmp, in, interopS6Log, "n5", "s4096", "./d")
	dir := filepath.Join(tmp, "d")
	if got, _ := interopData(t, dir); !bytes.Equal(got, in) {
		t.Fatalf("s6-log left:\n%s", testref.Diff(string(in), string(got)))
	}
	interopContinueClean(t, dir, 200)
	if m := interopPerm(t, filepath.Join(dir, fileLock)); m != 0o644 {
		t.Errorf("s6-log's lock now has mode %04o", m)
	}
}

// TestInteropS6LogKilledContinued: s6-log killed by SIGKILL.
func TestInteropS6LogKilledContinued(t *testing.T) {
	testref.Need(t, interopS6Log)
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "d")
	p := interopStart(t, tmp, interopS6Log, "n5", "s4096", "./d")
	in := interopLines(0, 15)
	p.write(t, in)
	interopWait(t, "s6-log to write its input", func() bool {
		got, transient := interopData(t, dir)
		return !transient && bytes.Equal(got, in)
	})
	p.kill(t)
	interopContinueCrashed(t, dir, in, 15)
}

// TestInteropSvlogdDirContinued: svlogd's directory (config, no state,
// archives renamed straight from current) is continued.
func TestInteropSvlogdDirContinued(t *testing.T) {
	testref.Need(t, interopSvlogd)
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "d")
	os.Mkdir(dir, 0o700)
	os.WriteFile(filepath.Join(dir, "config"), []byte("s4096\nn5\n"), 0o644)
	in := interopLines(0, 100)
	interopMustRun(t, tmp, in, interopSvlogd, "./d")
	if got, _ := interopData(t, dir); !bytes.Equal(got, in) {
		t.Fatalf("svlogd left:\n%s", testref.Diff(string(in), string(got)))
	}
	interopContinueClean(t, dir, 100)
	if got := interopRead(t, filepath.Join(dir, "config")); string(got) != "s4096\nn5\n" {
		t.Errorf("config = %q", got)
	}
}

// TestInteropSvlogdKilledContinued: svlogd killed by SIGKILL.
func TestInteropSvlogdKilledContinued(t *testing.T) {
	testref.Need(t, interopSvlogd)
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "d")
	os.Mkdir(dir, 0o700)
	os.WriteFile(filepath.Join(dir, "config"), []byte("s4096\nn5\n"), 0o644)
	p := interopStart(t, tmp, interopSvlogd, "./d")
	in := interopLines(0, 15)
	p.write(t, in)
	interopWait(t, "svlogd to write its input", func() bool {
		got, _ := interopData(t, dir)
		return bytes.Equal(got, in)
	})
	p.kill(t)
	interopContinueCrashed(t, dir, in, 15)
}

// TestInteropLockHeldByRotate: while a Dir holds ./d, multilog and svlogd
// are refused (P08, P11) and change nothing.
func TestInteropLockHeldByRotate(t *testing.T) {
	testref.Need(t, interopMultilog)
	testref.Need(t, interopSvlogd)
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "d")
	d := mustOpen(t, dir, Options{Name: "./d"})
	defer d.Close()
	write(t, d, []byte("ours\n"))
	want := modes(listDir(t, dir))

	r := interopRun(t, tmp, []byte("x\n"), interopMultilog, "./d")
	if r.Code != 111 || string(r.Stderr) != "multilog: fatal: unable to lock directory ./d: temporary failure\n" || len(r.Stdout) > 0 {
		t.Errorf("multilog: exit %d, stderr %q, stdout %q", r.Code, r.Stderr, r.Stdout)
	}
	r = interopRun(t, tmp, []byte("x\n"), interopSvlogd, "./d")
	if r.Code != 111 || string(r.Stderr) != "svlogd: warning: unable to lock directory: ./d: temporary failure\n"+
		"svlogd: fatal: no functional log directories.\n" {
		t.Errorf("svlogd: exit %d, stderr %q", r.Code, r.Stderr)
	}
	if got := modes(listDir(t, dir)); got != want {
		t.Errorf("entries %s, were %s", got, want)
	}
	if got := interopRead(t, filepath.Join(dir, fileCurrent)); string(got) != "ours\n" {
		t.Errorf("current = %q", got)
	}
}

// TestInteropLockHeldByMultilog: while multilog (or svlogd) holds ./d,
// Open fails with multilog's words and changes nothing; once it exits,
// Open succeeds and continues its current.
func TestInteropLockHeldByMultilog(t *testing.T) {
	for _, prog := range []string{interopMultilog, interopSvlogd} {
		t.Run(filepath.Base(prog), func(t *testing.T) {
			testref.Need(t, prog)
			tmp := t.TempDir()
			dir := filepath.Join(tmp, "d")
			if prog == interopSvlogd {
				os.Mkdir(dir, 0o700)
			}
			p := interopStart(t, tmp, prog, "./d")
			p.write(t, []byte("theirs\n"))
			interopWait(t, filepath.Base(prog)+" to write", func() bool {
				b, _ := os.ReadFile(filepath.Join(dir, fileCurrent))
				return string(b) == "theirs\n"
			})
			want := modes(listDir(t, dir))
			d, err := Open(dir, Options{Name: "./d"})
			if err == nil {
				d.Close()
				t.Fatal("Open took a directory locked by " + prog)
			}
			if err.Error() != "unable to lock directory ./d: temporary failure" || !errors.Is(err, syscall.EWOULDBLOCK) {
				t.Fatalf("Open: %v", err)
			}
			if got := modes(listDir(t, dir)); got != want {
				t.Fatalf("entries %s, were %s", got, want)
			}
			p.finish(t)
			d = mustOpen(t, dir, Options{Name: "./d"})
			write(t, d, []byte("ours\n"))
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}
			if got := interopRead(t, filepath.Join(dir, fileCurrent)); string(got) != "theirs\nours\n" {
				t.Fatalf("current = %q", got)
			}
		})
	}
}

// TestInteropSvlogdDirContinuedWithProcessor: svlogd keeps no "state"
// file, and a processor gets "state" on descriptor 4. Continuing svlogd's
// cleanly closed directory with a processor must still archive through
// it (svlogd itself creates an empty state when it needs one), rather
// than retrying "unable to run" for ever as multilog does (P05).
func TestInteropSvlogdDirContinuedWithProcessor(t *testing.T) {
	testref.Need(t, interopSvlogd)
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "d")
	os.Mkdir(dir, 0o700)
	os.WriteFile(filepath.Join(dir, "config"), []byte("s4096\nn5\n"), 0o644)
	interopMustRun(t, tmp, interopLines(0, 10), interopSvlogd, "./d")
	if _, err := os.Stat(filepath.Join(dir, fileState)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("svlogd left a state file: %v", err)
	}
	var w warnings
	o := testOptions(&w)
	o.MaxSize, o.Keep, o.Name, o.Processor, o.HasProcessor, o.Stderr = 4096, 100, "./d", "cat", true, &testref.Buffer{}
	d := mustOpen(t, dir, o)
	write(t, d, interopLines(10, 21))           // 2100 bytes: one rotation
	deadline := time.Now().Add(3 * time.Second) // cat takes milliseconds
	for len(crashArchiveNames(t, dir)) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if len(crashArchiveNames(t, dir)) == 0 {
		d.Interrupt()
		d.Close()
		ws := w.all()
		t.Fatalf("the processor never ran on a directory svlogd wrote (no state file): %d warnings (first %q); processor stderr starts %q",
			len(ws), ws[0], interopFirstLine(o.Stderr.(*testref.Buffer).String()))
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	names, files := archives(t, dir)
	if len(names) != 1 || !strings.HasSuffix(names[0], ".s") || !bytes.Equal(files[0], interopLines(0, 21)) {
		t.Fatalf("archives %q", names)
	}
	if ws := w.all(); len(ws) > 0 {
		t.Fatalf("warnings: %q", ws)
	}
}

func interopFirstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
