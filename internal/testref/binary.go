package testref

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
)

// binary is what testref made for all the tests of the running test
// binary (the commands Ours builds, the directories of TempDirForBinary).
// It outlives every test, so no t.Cleanup can remove it: the binary's
// TestMain does, through Main, once the tests are done. Without that, every
// run of the tests left its builds in the temporary directory.
var binary struct {
	sync.Mutex
	main bool     // TestMain runs the tests through Main, which removes dirs
	dirs []string // to remove when the tests are done
}

// errNoMain is why Ours and TempDirForBinary refuse to make anything: no
// one would remove it.
var errNoMain = errors.New("nothing would remove what testref builds or makes for this test binary when its tests end: " +
	"give the package's tests func TestMain(m *testing.M) { testref.Main(m) } " +
	"(a command's tests: testref.TestMainOr(m, main); a TestMain with more to do: testref.RunTests)")

// Main runs the tests, removes what testref built or made for them, and
// exits with their status. Every package whose tests use Ours or
// TempDirForBinary, directly or through a helper package, needs
//
//	func TestMain(m *testing.M) { testref.Main(m) }
func Main(m *testing.M) {
	os.Exit(RunTests(m))
}

// RunTests is Main for a TestMain that has more to do before or after the
// tests: it returns the status to exit with. A directory it cannot remove
// fails the run, as it does for t.TempDir.
func RunTests(m *testing.M) int { return runThenRemove(m.Run) }

// runThenRemove is RunTests with the tests given as run.
func runThenRemove(run func() int) int {
	binary.Lock()
	binary.main = true
	binary.Unlock()
	code := run()
	binary.Lock()
	dirs := binary.dirs
	binary.dirs = nil
	binary.Unlock()
	for _, d := range dirs {
		if err := os.RemoveAll(d); err != nil {
			fmt.Fprintf(os.Stderr, "testref: the tests leave %s behind: %v\n", d, err)
			code = max(code, 1)
		}
	}
	return code
}

// TempDirForBinary makes a directory shared by all the tests of the
// binary, as os.MkdirTemp("", pattern) does, where t.TempDir would make
// one per test; Main removes it when the tests are done. It fails, saying
// what to add, if the package's TestMain does not run them through Main.
func TempDirForBinary(pattern string) (string, error) {
	binary.Lock()
	defer binary.Unlock()
	if !binary.main {
		return "", errNoMain
	}
	dir, err := os.MkdirTemp("", pattern)
	if err != nil {
		return "", err
	}
	binary.dirs = append(binary.dirs, dir)
	return dir, nil
}
