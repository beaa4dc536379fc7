package logcat

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writerFunc is an io.Writer made of a function.
type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

// logcat -f on standard input writes each line as it comes, while the
// writer still holds the pipe open.
func TestFollowStdinWritesAsItComes(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	got := make(chan string, 16)
	out := writerFunc(func(b []byte) (int, error) { got <- string(b); return len(b), nil })
	done := make(chan int, 1)
	go func() { done <- Run([]string{"-f"}, Env{Stdin: pr, Stdout: out, Stderr: io.Discard, Now: time.Now}) }()
	for _, line := range []string{"one\n", "two\n"} {
		pw.Write([]byte(line))
		select {
		case s := <-got:
			if s != line {
				t.Fatalf("wrote %q, want %q", s, line)
			}
		case <-time.After(30 * time.Second):
			pw.Close()
			<-done
			t.Fatalf("%q not written within 30 s of coming", line)
		}
	}
	pw.Close()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d", code)
	}
}

// A file that ends without a newline ends its last line: the next input
// does not continue it.
func TestLastLineOfEachInput(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	os.WriteFile(a, []byte("abc"), 0o644)
	os.WriteFile(b, []byte("def\n"), 0o644)
	want := `{"time":null,"tai64n":null,"line":"abc"}` + "\n" + `{"time":null,"tai64n":null,"line":"def"}` + "\n"
	for _, args := range [][]string{{"-u", "-j", a, b}, {"-u", "-j", "-", b}} {
		var out bytes.Buffer
		code := Run(args, Env{Stdin: strings.NewReader("abc"), Stdout: &out, Stderr: io.Discard, Now: time.Now})
		if code != 0 || out.String() != want {
			t.Errorf("%q: exit %d, output\n%s", args, code, out.String())
		}
	}
}

// Standard input is decompressed by its content, as a file is.
func TestCompressedStdin(t *testing.T) {
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write([]byte("one\ntwo\n"))
	w.Close()
	var out bytes.Buffer
	if code := Run(nil, Env{Stdin: &gz, Stdout: &out, Stderr: io.Discard, Now: time.Now}); code != 0 || out.String() != "one\ntwo\n" {
		t.Fatalf("exit %d, output %q", code, out.String())
	}
}
