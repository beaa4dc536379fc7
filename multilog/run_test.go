package multilog

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/taikit/taikit/errtext"
)

// TestReadyFDNotTheRuntimes: a d<fd> word naming a descriptor the Go
// runtime itself holds (its poller and wake-up descriptors, which exist
// in a process that has used a timer or a pipe, as this test binary has)
// is refused before anything is opened; written to and closed, the
// poller's descriptor crashed the runtime ("netpoll failed").
func TestReadyFDNotTheRuntimes(t *testing.T) {
	// Make sure the poller exists.
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd to find the runtime's descriptors in:", err)
	}
	found := 0
	for _, e := range ents {
		link, _ := os.Readlink(filepath.Join("/proc/self/fd", e.Name()))
		if !strings.HasPrefix(link, "anon_inode:") {
			continue
		}
		fd, _ := strconv.Atoi(e.Name())
		found++
		dir := filepath.Join(t.TempDir(), "main")
		err := Run(Config{Args: []string{"t", "d" + e.Name(), dir}, Stdin: r, Stdout: os.Stdout, Stderr: os.Stderr})
		var ee *errtext.Error
		if !errors.As(err, &ee) || !errors.Is(err, errReadyFDKind) {
			t.Errorf("d%d (%s): %v; want a refusal", fd, link, err)
		}
		if _, err := os.Lstat(dir); err == nil {
			t.Errorf("d%d (%s): the directory was created", fd, link)
		}
	}
	if found == 0 {
		t.Skip("the runtime holds no anonymous-inode descriptor here")
	}
}

// TestTERMFromFileFinishesTheLine: from a regular file multilog reads a
// chunk ahead of the engine; a SIGTERM that comes while a line spans two
// chunks must still finish that line from the chunk read ahead, whole, and
// log nothing after it. The first line is longer than a read, so the first
// chunk ends inside it; SIGTERM is sent when the first chunk is stamped,
// and then SIGALRM: Run's signal goroutine takes the second only once it
// has acted on the first, so the SIGTERM is seen right after that chunk.
func TestTERMFromFileFinishesTheLine(t *testing.T) {
	long := strings.Repeat("x", readSize+readSize/2)
	var in strings.Builder
	in.WriteString("first " + long + "\n")
	for i := range 20000 {
		in.WriteString("line " + strconv.Itoa(i) + "\n")
	}
	input := in.String()
	path := filepath.Join(t.TempDir(), "input")
	if err := os.WriteFile(path, []byte(input), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	signals := make(chan os.Signal)
	sent := false
	clock := func() time.Time {
		// Directories read the clock too, before Run takes signals.
		if !sent && calledBy("(*runner).process") { // the clock of a read
			sent = true
			signals <- syscall.SIGTERM // taken by Run's signal goroutine
			signals <- syscall.SIGALRM
		}
		return time.Unix(1700000000, 0)
	}
	dir := filepath.Join(t.TempDir(), "main")
	if err := Run(Config{Args: []string{"s16777215", dir}, Stdin: f, Stdout: io.Discard, Stderr: io.Discard, Signals: signals, Clock: clock}); err != nil {
		t.Fatal(err)
	}
	// The ALRM rotated what the first chunk gave into an archive. No
	// stamps: the lines must come out as they went in.
	names, err := filepath.Glob(filepath.Join(dir, "@*"))
	if err != nil {
		t.Fatal(err)
	}
	var got []byte
	for _, name := range append(names, filepath.Join(dir, "current")) {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, b...)
	}
	if !strings.HasPrefix(input, string(got)) || !strings.HasSuffix(string(got), "\n") {
		t.Fatalf("logged %d bytes, not whole lines from the start of the input (ends %q)", len(got), got[max(0, len(got)-20):])
	}
	if len(got) < len("first "+long+"\n") {
		t.Fatalf("logged %d bytes: the line in progress at SIGTERM was not finished", len(got))
	}
	if len(got) == len(input) {
		t.Fatalf("logged the whole input: SIGTERM was not acted on")
	}
}

// calledBy reports whether a function whose name ends with fn is on the
// caller's stack.
func calledBy(fn string) bool {
	pc := make([]uintptr, 32)
	frames := runtime.CallersFrames(pc[:runtime.Callers(2, pc)])
	for {
		f, more := frames.Next()
		if strings.HasSuffix(f.Function, fn) {
			return true
		}
		if !more {
			return false
		}
	}
}

// TestFloodLoggedWhole: a flood of empty lines among numbered ones, from a
// file and through a pipe, is logged line for line, in order, whatever the
// pieces its reads are cut into (cut, pipeBatch: each piece a batch of its
// own, recorded and consumed).
func TestFloodLoggedWhole(t *testing.T) {
	var in strings.Builder
	for i := 0; in.Len() < 2*readSize; i++ {
		fmt.Fprintf(&in, "line %06d\n", i)
		if i%100 == 0 {
			in.WriteString(strings.Repeat("\n", 30000))
		}
	}
	for _, kind := range []string{"file", "pipe"} {
		t.Run(kind, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "d")
			var stdin *os.File
			if kind == "file" {
				p := filepath.Join(t.TempDir(), "in")
				if err := os.WriteFile(p, []byte(in.String()), 0o644); err != nil {
					t.Fatal(err)
				}
				f, err := os.Open(p)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				stdin = f
			} else {
				r, w, err := os.Pipe()
				if err != nil {
					t.Fatal(err)
				}
				defer r.Close()
				go func() { // owned by the test: ends when the input is written
					io.WriteString(w, in.String())
					w.Close()
				}()
				stdin = r
			}
			if err := Run(Config{Args: []string{"t", "s16777215", "n100", dir}, Stdin: stdin, Stdout: io.Discard, Stderr: os.Stderr}); err != nil {
				t.Fatal(err)
			}
			ents, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			var got strings.Builder
			stamps := map[string]bool{}
			for _, e := range ents { // @ archives sort before current
				if n := e.Name(); n == "current" || strings.HasPrefix(n, "@") {
					b, err := os.ReadFile(filepath.Join(dir, n))
					if err != nil {
						t.Fatal(err)
					}
					for l := range strings.Lines(string(b)) {
						if len(l) < 26 || l[0] != '@' || l[25] != ' ' {
							t.Fatalf("%s: an unstamped line %q", n, l)
						}
						got.WriteString(l[26:])
						stamps[l[:25]] = true
					}
				}
			}
			if got.String() != in.String() {
				t.Fatalf("logged %d bytes of text, want the %d of the input", got.Len(), in.Len())
			}
			// The pieces of a read share its stamp (multilog.8: the clock
			// is read once per read): from a file, a read is 1 MiB.
			if reads := in.Len()/readSize + 1; kind == "file" && len(stamps) > reads {
				t.Fatalf("%d stamps for %d reads: the pieces of a read were stamped apart", len(stamps), reads)
			}
		})
	}
}
