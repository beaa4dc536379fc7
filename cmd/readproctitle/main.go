// Command readproctitle shows the latest bytes of its input in its own
// command line, where ps shows them, as daemontools' readproctitle does.
// See doc/man8/readproctitle.8.
package main

import (
	"fmt"
	"io"
	"os"
	"unsafe"

	"github.com/taikit/taikit/errtext"
	"github.com/taikit/taikit/internal/cli"
	"github.com/taikit/taikit/supervise/chain"
)

const usage = "readproctitle: usage: readproctitle arg ... (the last arg, at least five bytes long, is where the title goes: use dots)\n"

func main() {
	var title []byte
	if len(os.Args) > 1 {
		// The Go runtime makes os.Args from the process's argument memory
		// without copying it; that memory is what /proc/PID/cmdline, and
		// so ps, show. Writing the last argument's bytes in place is how
		// daemontools' readproctitle sets its title too. Nothing else in
		// this program reads os.Args after this point.
		last := os.Args[len(os.Args)-1]
		title = unsafe.Slice(unsafe.StringData(last), len(last))
	}
	os.Exit(run(len(os.Args), title, os.Stdin, os.Stderr))
}

// run shows what stdin brings in title until the end of stdin. argc is the
// number of command-line words, the program's name included.
func run(argc int, title []byte, stdin io.Reader, stderr io.Writer) int {
	if argc < 2 {
		fmt.Fprint(stderr, usage)
		return cli.ExitUsage
	}
	t, err := chain.NewTitle(title)
	if err != nil {
		fmt.Fprintf(stderr, "readproctitle: fatal: %v\n", err)
		fmt.Fprint(stderr, usage)
		return cli.ExitUsage
	}
	if _, err := io.Copy(t, stdin); err != nil {
		return cli.Fatal(stderr, "readproctitle", "unable to read input", errtext.Of(err))
	}
	return cli.ExitOK
}
