package testref

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// madeEnv makes the test binary, run by TestMainRemoves, make a directory
// with TempDirForBinary and print its path instead of testing, ending as
// Main ends.
const madeEnv = "TESTREF_MAKE_FOR_BINARY"

func TestMain(m *testing.M) {
	if os.Getenv(madeEnv) == "1" {
		os.Exit(runThenRemove(makeForBinary))
	}
	Main(m)
}

// makeForBinary is the child's work in place of the tests.
func makeForBinary() int {
	dir, err := TempDirForBinary("testref-binary-")
	if err == nil {
		err = os.WriteFile(dir+"/file", []byte("x"), 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("dir=" + dir)
	return 0
}

// TestMainRemoves: what a test binary made with TempDirForBinary is gone
// once it exits, and it existed while the tests ran.
func TestMainRemoves(t *testing.T) {
	cmd := exec.Command(Self(t))
	cmd.Env = Environ(madeEnv + "=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the test binary: %v\n%s", err, out)
	}
	_, rest, found := strings.Cut(string(out), "dir=")
	dir, _, _ := strings.Cut(rest, "\n")
	if !found || dir == "" {
		t.Fatalf("the test binary made no directory:\n%s", out)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		os.RemoveAll(dir)
		t.Fatalf("%s is left after the tests: %v", dir, err)
	}
}

// failRecorder is a test whose Fatal only records the message.
type failRecorder struct {
	testing.TB
	fatal string
}

func (r *failRecorder) Helper()           {}
func (r *failRecorder) Fatal(args ...any) { r.fatal = fmt.Sprint(args...) }

// TestWithoutMain: a package whose TestMain does not go through Main is
// told what to add, and nothing is made or built for it.
func TestWithoutMain(t *testing.T) {
	binary.Lock()
	binary.main = false
	binary.Unlock()
	defer func() {
		binary.Lock()
		binary.main = true
		binary.Unlock()
	}()
	const want = "func TestMain(m *testing.M) { testref.Main(m) }"
	if dir, err := TempDirForBinary("testref-binary-"); err == nil || !strings.Contains(err.Error(), want) {
		os.Remove(dir)
		t.Errorf("TempDirForBinary: %q, %v; want an error naming %s", dir, err, want)
	}
	r := &failRecorder{TB: t}
	Ours(r, "no-such-command") // no build is attempted: cmd/no-such-command would fail it
	if !strings.Contains(r.fatal, want) {
		t.Errorf("Ours failed the test with %q; want a message naming %s", r.fatal, want)
	}
}
