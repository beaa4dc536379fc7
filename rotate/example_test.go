package rotate_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/taikit/taikit/rotate"
)

// A program logs into a daemontools-style directory in three lines, with
// multilog's guarantees: one writer, files cut at line ends, fsync before
// archiving, recovery after a crash.
func Example() {
	// A directory of its own for the example, as a test's t.TempDir:
	// two runs at once never share it.
	parent, err := os.MkdirTemp("", "rotate-example-*")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(parent)
	dir := filepath.Join(parent, "main") // Open makes the last component

	w, err := rotate.Open(dir, rotate.Options{MaxSize: 1 << 20, Keep: 20})
	if err != nil {
		log.Fatal(err)
	}
	logger := log.New(w, "", log.LstdFlags)
	logger.Print("service started")
	if err := w.Close(); err != nil { // fsync, and current 0744: a clean stop
		log.Fatal(err)
	}

	st, _ := os.Stat(filepath.Join(dir, "current"))
	fmt.Println(st.Mode())
	// Output: -rwxr--r--
}

// Built-in compression: archives are zstd streams under daemontools' names,
// compressed beside the writer rather than in its way.
func ExampleOptions_compression() {
	parent, err := os.MkdirTemp("", "rotate-example-*")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(parent)
	dir := filepath.Join(parent, "main")
	w, err := rotate.Open(dir, rotate.Options{
		MaxSize:     16 << 20,
		Keep:        100,
		MaxTotal:    1 << 30, // and never more than 1 GiB of archives
		Compression: rotate.Compression{Method: rotate.Zstd},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintln(w, "hello")
	w.Rotate() // what SIGALRM does to multilog
	w.Close()
	names, _ := filepath.Glob(filepath.Join(dir, "@*.s"))
	fmt.Println(len(names), "archive")
	// Output: 1 archive
}
