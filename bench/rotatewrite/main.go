// Command rotatewrite writes standard input into the log directory ./d
// through package rotate alone (no multilog script), so that the bench
// harness can measure the package against the physical limit, split + sync.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/taikit/taikit/rotate"
)

func main() {
	opts := rotate.Options{MaxSize: 16777215, Keep: 100,
		Warn: func(text string) { fmt.Fprintln(os.Stderr, "rotatewrite: warning:", text) }}
	if len(os.Args) > 1 && os.Args[1] == "zstd" {
		opts.Compression = rotate.Compression{Method: rotate.Zstd}
	}
	d, err := rotate.Open("d", opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "rotatewrite:", err)
		os.Exit(111)
	}
	buf := make([]byte, 128<<10)
	if _, err := io.CopyBuffer(struct{ io.Writer }{d}, struct{ io.Reader }{os.Stdin}, buf); err != nil {
		fmt.Fprintln(os.Stderr, "rotatewrite:", err)
		os.Exit(111)
	}
	if err := d.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "rotatewrite:", err)
		os.Exit(111)
	}
}
