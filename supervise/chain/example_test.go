package chain_test

import (
	"fmt"
	"os"
	"path/filepath"

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

// softlimit's command line, parsed as daemontools parses it.
func ExampleParseSoftlimit() {
	limits, child, err := chain.ParseSoftlimit([]string{"-m", "50000000", "-o=", "./server", "-v"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(limits), "limits, then", child)
	// -m sets four limits; Set would apply each.
	_, _, err = chain.ParseSoftlimit([]string{"-q", "./server"})
	fmt.Println(err)
	// Output:
	// 5 limits, then [./server -v]
	// illegal option -- q
}

// readproctitle's display, fed like any io.Writer.
func ExampleTitle() {
	title, _ := chain.NewTitle(make([]byte, 12))
	fmt.Fprint(title, "svscan: warning: unable to start x\n")
	fmt.Printf("%q\n", title.String())
	// Output:
	// "... start x\n"
}

// Report a failure as daemontools' programs do.
func ExampleFatal() {
	_, err := chain.LookupAccount("no-such-account")
	code := chain.Fatal(os.Stdout, "setuidgid", err)
	fmt.Println(code)
	// Output:
	// setuidgid: fatal: unknown account no-such-account
	// 111
}
