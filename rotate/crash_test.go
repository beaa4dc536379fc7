package rotate

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/taikit/taikit/internal/testref"
)

// The test binary doubles as a writer process that a test can kill -9 at
// any moment (see crashWriter). These variables configure it.
const (
	crashEnvWriter = "ROTATE_CRASH_WRITER" // "1": be the writer instead of running the tests
	crashEnvDir    = "ROTATE_CRASH_DIR"    // the log directory
	crashEnvStart  = "ROTATE_CRASH_START"  // number of the first line to write
	crashEnvMode   = "ROTATE_CRASH_MODE"   // plain, cat, gzip, zstd, or "!cmd" for a processor
	crashEnvSeed   = "ROTATE_CRASH_SEED"   // seeds the choice of batch sizes
	crashEnvCount  = "ROTATE_CRASH_COUNT"  // if set, write that many lines, say "done" and wait
	crashEnvSettle = "ROTATE_CRASH_SETTLE" // with COUNT: "1" waits for the last rotation's job before "done"
)

// crashMaxSize is the writers' MaxSize: small, so that rotations are frequent.
const crashMaxSize = 4096

// TestMain runs the writer instead of the tests when the test binary is
// started as one (rotate has no command whose main it could borrow, so
// testref.TestMainOr does not fit).
func TestMain(m *testing.M) {
	if os.Getenv(crashEnvWriter) == "1" {
		crashWriter()
		os.Exit(3) // crashWriter never returns normally
	}
	os.Exit(m.Run())
}

// crashLine is line n of a writer: its number in 9 digits, a space, then
// n%61 copies of a letter that depends on n, and a newline (11–71 bytes).
func crashLine(n int) []byte {
	b := make([]byte, 0, 80)
	b = fmt.Appendf(b, "%09d ", n)
	for i := 0; i < n%61; i++ {
		b = append(b, byte('a'+n%26))
	}
	return append(b, '\n')
}

// crashOptions are the writer's options for a mode.
func crashOptions(mode string) Options {
	o := Options{MaxSize: crashMaxSize, Keep: 100000, Pause: 10 * time.Millisecond, Stderr: os.Stderr}
	switch {
	case mode == "cat":
		o.Processor, o.HasProcessor = "cat", true
	case strings.HasPrefix(mode, "!"):
		o.Processor, o.HasProcessor = mode[1:], true
	case mode == "gzip":
		o.Compression = Compression{Method: Gzip}
	case mode == "zstd":
		o.Compression = Compression{Method: Zstd}
	}
	return o
}

// crashWriter is the writer process. It says "opening" before Open and
// "open" after, then writes numbered lines from $ROTATE_CRASH_START, one
// line or a random batch per Write, as fast as it can, and never closes
// the directory: it ends by being killed. With $ROTATE_CRASH_COUNT it
// writes that many lines, says "done" and waits for its standard input to
// end, then exits without closing (a crash at a known point).
func crashWriter() {
	fail := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "crash writer: "+format+"\n", args...)
		os.Exit(2)
	}
	start, err := strconv.Atoi(os.Getenv(crashEnvStart))
	if err != nil {
		fail("bad %s: %v", crashEnvStart, err)
	}
	seed, _ := strconv.ParseUint(os.Getenv(crashEnvSeed), 10, 64)
	o := crashOptions(os.Getenv(crashEnvMode))
	count := -1
	if s := os.Getenv(crashEnvCount); s != "" {
		if count, err = strconv.Atoi(s); err != nil {
			fail("bad %s: %v", crashEnvCount, err)
		}
	}
	os.Stdout.WriteString("opening\n")
	d, err := Open(os.Getenv(crashEnvDir), o)
	if err != nil {
		fail("%v", err)
	}
	os.Stdout.WriteString("open\n")
	r := rand.New(rand.NewPCG(seed, uint64(start)))
	deadline := time.Now().Add(20 * time.Second) // the parent kills us long before
	var buf []byte
	for n := start; count < 0 || n < start+count; {
		k := 1
		if r.IntN(2) == 0 {
			k = 1 + r.IntN(60)
		}
		if count >= 0 {
			k = min(k, start+count-n)
		}
		buf = buf[:0]
		for i := 0; i < k; i++ {
			buf = append(buf, crashLine(n+i)...)
		}
		if _, err := d.Write(buf); err != nil {
			fail("Write: %v", err)
		}
		n += k
		if count < 0 && n%512 < k && time.Now().After(deadline) {
			fail("not killed after 20 s")
		}
	}
	if os.Getenv(crashEnvSettle) == "1" {
		// The job archives "previous" beside the writer; wait for it.
		dir := os.Getenv(crashEnvDir)
		for t0 := time.Now(); ; time.Sleep(time.Millisecond) {
			_, e1 := os.Lstat(filepath.Join(dir, filePrevious))
			_, e2 := os.Lstat(filepath.Join(dir, fileProcessed))
			if errors.Is(e1, fs.ErrNotExist) && errors.Is(e2, fs.ErrNotExist) {
				break
			}
			if time.Since(t0) > 20*time.Second {
				fail("previous is never archived")
			}
		}
	}
	os.Stdout.WriteString("done\n")
	io.Copy(io.Discard, os.Stdin)
	os.Exit(4) // without Close: the directory is left as a crash leaves it
}

// crashProc is a running writer process, in a process group of its own.
// A processor it runs is in another group (see runProcessor) and outlives
// it, as multilog's processor outlives multilog.
type crashProc struct {
	cmd    *exec.Cmd
	lines  chan string // what it says on standard output
	stdin  io.WriteCloser
	stderr *os.File // a file, not a pipe: a surviving processor keeps it open
}

func startCrashWriter(t *testing.T, dir string, env ...string) *crashProc {
	t.Helper()
	w := &crashProc{lines: make(chan string, 8)}
	w.cmd = exec.Command(testref.Self(t), "-test.run=^$")
	w.cmd.Env = testref.Environ(append([]string{crashEnvWriter + "=1", crashEnvDir + "=" + dir}, env...)...)
	w.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	w.stderr = stderr
	w.cmd.Stderr = stderr
	out, err := w.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if w.stdin, err = w.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(w.lines)
		s := bufio.NewScanner(out)
		for s.Scan() {
			w.lines <- s.Text()
		}
	}()
	return w
}

// await waits until the writer says want; false if it ended first.
func (w *crashProc) await(t *testing.T, want string) bool {
	t.Helper()
	timeout := time.After(60 * time.Second)
	for {
		select {
		case l, ok := <-w.lines:
			if !ok {
				return false
			}
			if l == want {
				return true
			}
		case <-timeout:
			t.Fatalf("writer did not say %q within 60 s", want)
		}
	}
}

// kill kills the writer's process group with SIGKILL and reaps it. It
// fails the test if the writer had ended by itself.
func (w *crashProc) kill(t *testing.T, dir string) {
	t.Helper()
	syscall.Kill(-w.cmd.Process.Pid, syscall.SIGKILL)
	for range w.lines {
	}
	err := w.cmd.Wait()
	stderr, _ := os.ReadFile(w.stderr.Name())
	w.stderr.Close()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("writer ended by itself (%v): %s", err, stderr)
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("writer ended by itself (%v): %s", err, stderr)
	}
	// The writer is reaped, but a processor it had just forked may still
	// be dying with the lock's descriptor not yet closed by exec: the
	// next writer could find the directory locked. Wait until the lock is
	// free, as the next writer needs it.
	waitLockFree(t, filepath.Join(dir, "lock"))
}

// waitLockFree waits until nobody holds an flock on path (or there is no
// such file).
func waitLockFree(t *testing.T, path string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != nil {
			return
		}
		err = syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB)
		syscall.Close(fd)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still locked 30 s after the writer was killed", path)
		}
		time.Sleep(time.Millisecond)
	}
}

// awaitCrashLockFree waits until no process holds dir's lock, which a
// killed writer can leave held for a moment: a processor it was starting
// has a copy of the lock's descriptor from its fork until its exec, and is
// in a group of its own, which the kill spares.
func awaitCrashLockFree(t *testing.T, dir string) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(dir, fileLock), os.O_WRONLY|os.O_APPEND, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close() // releases the lock
	begin, held := time.Now(), false
	for syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		if time.Since(begin) > 60*time.Second {
			t.Fatalf("%s/lock still held 60 s after its writer was killed", dir)
		}
		held = true
		time.Sleep(time.Millisecond)
	}
	if held {
		t.Logf("the lock was still held for %v after its writer was killed", time.Since(begin).Round(time.Millisecond))
	}
}

// crashDecode returns an archive's data, decompressing it by its magic
// number.
func crashDecode(data []byte) ([]byte, error) {
	switch {
	case bytes.HasPrefix(data, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, err
		}
		defer dec.Close()
		return dec.DecodeAll(data, nil)
	case bytes.HasPrefix(data, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		return io.ReadAll(zr)
	}
	return data, nil
}

// crashSource is one file of a directory's data, in reading order.
type crashSource struct {
	name string
	data []byte // decompressed
	raw  int    // size on disk
}

// crashSingleLink reports whether the file at path exists with one link:
// a file with two is already an archive too (a crash between link and
// unlink) and must not be read twice.
func crashSingleLink(t *testing.T, path string) (fs.FileInfo, bool) {
	t.Helper()
	st, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return st, st.Sys().(*syscall.Stat_t).Nlink == 1
}

// crashSources lists the directory's data in the order it was written, as
// crash recovery will archive it: archives in name order, then what a
// rotation left in processing ("processed" if complete, else "previous"),
// then "current". With all false, only the newest non-empty source with a
// line end is read (the archives are read from the newest back).
func crashSources(t *testing.T, dir string, all bool) []crashSource {
	t.Helper()
	names, err := crashReadNames(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, n := range names {
		if isArchiveName(n) {
			order = append(order, n)
		}
	}
	slices.Sort(order)
	if st, ok := crashSingleLink(t, filepath.Join(dir, fileProcessed)); ok && st.Mode()&0o100 != 0 {
		order = append(order, fileProcessed)
	} else if _, ok := crashSingleLink(t, filepath.Join(dir, filePrevious)); ok {
		order = append(order, filePrevious)
	}
	if _, ok := crashSingleLink(t, filepath.Join(dir, fileCurrent)); ok {
		order = append(order, fileCurrent)
	}
	read := func(name string) crashSource {
		raw, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		data, err := crashDecode(raw)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return crashSource{name, data, len(raw)}
	}
	if all {
		out := make([]crashSource, len(order))
		for i, n := range order {
			out[i] = read(n)
		}
		return out
	}
	for i := len(order) - 1; i >= 0; i-- {
		if s := read(order[i]); bytes.IndexByte(s.data, '\n') >= 0 {
			return []crashSource{s}
		}
	}
	return nil
}

func crashReadNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}

// lastCrashLine returns the number of the last complete line in the
// newest data of dir, or -1.
func lastCrashLine(t *testing.T, dir string) int {
	t.Helper()
	src := crashSources(t, dir, false)
	if len(src) == 0 {
		return -1
	}
	data := src[0].data
	data = data[:bytes.LastIndexByte(data, '\n')+1]
	i := bytes.LastIndexByte(data[:len(data)-1], '\n') + 1
	n, err := strconv.Atoi(string(data[i : i+9]))
	if err != nil || !bytes.Equal(data[i:], crashLine(n)) {
		t.Fatalf("%s: last line %q is not a writer's line", src[0].name, data[i:])
	}
	return n
}

// checkCrashData checks the directory's data: complete lines numbered
// 0…last with no gap and no duplicate, a partial line only at the very end
// of a ".u" archive (a write cut by the kill), and no file over MaxSize.
// It returns last and the number of partial lines.
func checkCrashData(t *testing.T, dir string, maxSize int) (last, partial int) {
	t.Helper()
	next := 0
	for _, s := range crashSources(t, dir, true) {
		if len(s.data) > maxSize || s.raw > maxSize {
			t.Errorf("%s holds %d bytes (%d on disk), more than %d", s.name, len(s.data), s.raw, maxSize)
		}
		data := s.data
		for len(data) > 0 {
			want := crashLine(next)
			i := bytes.IndexByte(data, '\n')
			if i < 0 {
				if !strings.HasSuffix(s.name, ".u") || !bytes.HasPrefix(want, data) {
					t.Fatalf("%s ends with a partial line %q (line %d expected: %q)", s.name, data, next, want)
				}
				partial++
				break
			}
			if !bytes.Equal(data[:i+1], want) {
				t.Fatalf("%s: found %q where line %d was expected (%q)", s.name, data[:min(i+1, 80)], next, want)
			}
			data = data[i+1:]
			next++
		}
	}
	return next - 1, partial
}

// crashArchiveNames returns the archive names in dir, sorted.
func crashArchiveNames(t *testing.T, dir string) []string {
	t.Helper()
	names, err := crashReadNames(dir)
	if err != nil {
		t.Fatal(err)
	}
	names = slices.DeleteFunc(names, func(n string) bool { return !isArchiveName(n) })
	slices.Sort(names)
	return names
}

// crashIterations says how many times a campaign kills its writer: at
// least least and at most most, stopping early once budget is spent (a race
// build starts and writes several times slower). TAIKIT_LONG=1 asks for
// the long fault campaign: 250 kills whatever the time.
func crashIterations() (least, most int, budget time.Duration) {
	if os.Getenv("TAIKIT_LONG") == "1" {
		return 250, 250, 0
	}
	return 20, 50, 10 * time.Second
}

// TestCrashKill9 kills a writer with SIGKILL at random moments, over and
// over, restarting it each time from the last complete line it left, and
// checks that the directory holds every line exactly once, in order.
func TestCrashKill9(t *testing.T) {
	for _, mode := range []string{"plain", "cat", "zstd", "gzip"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			crashCampaign(t, mode)
		})
	}
}

func crashCampaign(t *testing.T, mode string) {
	minIter, maxIter, budget := crashIterations()
	dir := filepath.Join(t.TempDir(), "d")
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 7))
	var seen []string // archive names after the last iteration
	early := 0
	states := map[string]int{} // what the kills left, for the log
	started := time.Now()
	iterations := 0
	for i := 0; i < maxIter && (i < minIter || budget == 0 || time.Since(started) < budget); i++ {
		iterations++
		next := lastCrashLine(t, dir) + 1
		awaitCrashLockFree(t, dir)
		w := startCrashWriter(t, dir, crashEnvStart+"="+strconv.Itoa(next), crashEnvMode+"="+mode,
			crashEnvSeed+"="+strconv.FormatUint(r.Uint64(), 10))
		if i%4 == 3 {
			// Aim at the crash recovery in Open.
			if w.await(t, "opening") {
				time.Sleep(time.Duration(r.IntN(3000)) * time.Microsecond)
			}
		} else if w.await(t, "open") {
			time.Sleep(time.Duration(5+r.IntN(76)) * time.Millisecond)
		}
		w.kill(t, dir)
		if _, err := os.Stat(dir); err != nil {
			early++ // killed before Open made the directory
			continue
		}
		// Archives are never renamed or removed (Keep is large), and new
		// ones sort after the old.
		names := crashArchiveNames(t, dir)
		for _, n := range seen {
			if _, ok := slices.BinarySearch(names, n); !ok {
				t.Fatalf("iteration %d: archive %s disappeared", i, n)
			}
		}
		if len(seen) > 0 {
			for _, n := range names {
				if _, ok := slices.BinarySearch(seen, n); !ok && n <= seen[len(seen)-1] {
					t.Fatalf("iteration %d: new archive %s sorts before the older %s", i, n, seen[len(seen)-1])
				}
			}
		}
		seen = names
		for _, f := range []string{filePrevious, fileProcessed, fileNewState} {
			if _, err := os.Lstat(filepath.Join(dir, f)); err == nil {
				states[f]++
			}
		}
		if st, err := os.Lstat(filepath.Join(dir, fileCurrent)); err != nil {
			states["no current"]++
		} else if st.Sys().(*syscall.Stat_t).Nlink > 1 {
			states["current linked"]++
		}
	}
	// A last clean open recovers what the last kill left.
	awaitCrashLockFree(t, dir)
	d, err := Open(dir, crashOptions(mode))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	last, partial := checkCrashData(t, dir, crashMaxSize)
	names, _ := crashReadNames(dir)
	var other []string
	us := 0
	for _, n := range names {
		switch {
		case isArchiveName(n):
			if len(n) != 27 || !strings.HasSuffix(n, ".s") && !strings.HasSuffix(n, ".u") {
				t.Errorf("archive name %q", n)
			}
			if strings.HasSuffix(n, ".u") {
				us++
			}
		case n == fileLock || n == fileState || n == fileCurrent:
		default:
			other = append(other, n)
		}
	}
	if len(other) > 0 {
		t.Errorf("left after the final Open and Close: %q", other)
	}
	if st, err := os.Stat(filepath.Join(dir, fileCurrent)); err != nil || st.Size() != 0 || st.Mode().Perm() != 0o744 {
		t.Errorf("current after the final Open and Close: %v %v", st, err)
	}
	t.Logf("%d kills (%d before Open), %d lines, %d archives (%d .u, %d ending in a partial line) in %v; kills left %v",
		iterations, early, last+1, len(crashArchiveNames(t, dir)), us, partial, time.Since(started).Round(time.Millisecond), states)
	if last < 0 {
		t.Fatal("no line was written")
	}
}
