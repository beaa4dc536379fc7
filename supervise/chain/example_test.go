package chain_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/taikit/taikit/errtext"
	"github.com/taikit/taikit/supervise/chain"
)

// What envdir does before running its child: read the directory, merge
// the changes into the environment.
func ExampleReadEnvDir() {
	dir, _ := os.MkdirTemp("", "env")
	defer os.RemoveAll(dir)
	os.WriteFile(filepath.Join(dir, "PORT"), []byte("8080  \nignored\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "DEBUG"), nil, 0o644) // empty: removes DEBUG

	changes, err := chain.ReadEnvDir(dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	env := changes.Apply([]string{"DEBUG=1", "HOME=/root"})
	for _, e := range env {
		fmt.Println(e)
	}
	// Unordered output:
	// HOME=/root
	// PORT=8080
}

// What softlimit's -m and -o options ask for; Set would apply each limit.
func ExampleSoftLimits() {
	for _, o := range []struct {
		letter byte
		value  string
	}{{'m', "50000000"}, {'o', "="}, {'o', "5k"}} {
		limits, err := chain.SoftLimits(o.letter, o.value)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("-%c %s: %d limits\n", o.letter, o.value, len(limits))
	}
	// Output:
	// -m 50000000: 4 limits
	// -o =: 1 limits
	// option -o wants a number or =, not "5k"
}

// readproctitle's display, fed like any io.Writer.
func ExampleTitle() {
	title, _ := chain.NewTitle(make([]byte, 12))
	fmt.Fprint(title, "svscan: warning: unable to start x\n")
	fmt.Printf("%q\n", title.String())
	// Output:
	// "... start x\n"
}

// A failure is an *errtext.Error worded as daemontools' programs word it
// (setlock prints it after "setlock: fatal: " and exits 111), through
// which the system error is reached.
func ExampleLock() {
	_, err := chain.Lock("/nonexistent/lk", false)
	fmt.Println(err)
	var e *errtext.Error
	fmt.Println(errors.As(err, &e), e.Op, e.Path, errors.Is(err, fs.ErrNotExist))
	// Output:
	// unable to open /nonexistent/lk: file does not exist
	// true unable to open /nonexistent/lk true
}
