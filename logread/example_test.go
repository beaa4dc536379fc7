package logread_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/taikit/taikit/logread"
	"github.com/taikit/taikit/rotate"
)

// A log directory read as one stream: the archives in order (compressed
// ones decompressed), then current, as `cat @*.s current` would if it knew
// about compression and rotations.
func ExampleOpenDir() {
	dir, _ := os.MkdirTemp("", "logread-example-read")
	defer os.RemoveAll(dir)
	w, err := rotate.Open(dir, rotate.Options{MaxSize: 1 << 20, Keep: 10,
		Compression: rotate.Compression{Method: rotate.Gzip}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintln(w, "first file")
	w.Rotate() // archived, gzip-compressed
	fmt.Fprintln(w, "second file")
	w.Close()

	r, err := logread.OpenDir(dir, logread.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	for {
		l, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s", l.Bytes)
	}
	// Errors concerning one file (a corrupt archive) do not stop the stream.
	for _, err := range r.Errors() {
		fmt.Println("warning:", err)
	}
	// Output:
	// first file
	// second file
}

// A follower that survives its own restarts: it saves its Cursor after
// the lines it has handled and starts from it the next time, continuing
// exactly after the last line it handled, whatever rotations happened in
// between.
func ExampleCursor() {
	dir, _ := os.MkdirTemp("", "logread-example-follow")
	defer os.RemoveAll(dir)
	state, _ := os.MkdirTemp("", "logread-example-state")
	defer os.RemoveAll(state)
	cursorFile := filepath.Join(state, "cursor")
	w, _ := rotate.Open(dir, rotate.Options{MaxSize: 1 << 20, Keep: 10})
	defer w.Close()

	// follow handles the lines written so far, then stops, as a follower
	// interrupted by a signal would (Interrupt is safe from any goroutine).
	follow := func() {
		start, err := logread.LoadCursor(cursorFile)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			log.Fatal(err)
		}
		r, err := logread.OpenDir(dir, logread.Options{Follow: true, Cursor: &start})
		if err != nil {
			log.Fatal(err)
		}
		defer r.Close()
		timer := time.AfterFunc(200*time.Millisecond, r.Interrupt)
		defer timer.Stop()
		for {
			l, err := r.Next()
			if errors.Is(err, logread.ErrInterrupted) {
				return
			}
			if err != nil {
				log.Fatal(err)
			}
			fmt.Printf("%s", l.Bytes)
			// A real follower saves less often (every second, and at exit).
			if err := logread.SaveCursor(cursorFile, r.Cursor()); err != nil {
				log.Fatal(err)
			}
		}
	}

	fmt.Fprintln(w, "one")
	follow()
	fmt.Fprintln(w, "two")
	w.Rotate()
	fmt.Fprintln(w, "three")
	follow()
	// Output:
	// one
	// two
	// three
}

// A reader outrun by retention is told what it missed, and reads on with
// what is left: here a Cursor saved in current, which the writer then
// archived and pruned (Keep 2: one archive kept) before the reader came
// back.
func ExampleGapError() {
	dir, _ := os.MkdirTemp("", "logread-example-gap")
	defer os.RemoveAll(dir)
	w, _ := rotate.Open(dir, rotate.Options{MaxSize: 1 << 20, Keep: 2})
	fmt.Fprintln(w, "one")
	r, _ := logread.OpenDir(dir, logread.Options{})
	r.Next()
	cursor := r.Cursor()
	r.Close()

	fmt.Fprintln(w, "two")
	w.Rotate()
	fmt.Fprintln(w, "three")
	w.Rotate() // the archive of "one", "two" is pruned
	fmt.Fprintln(w, "four")
	w.Close()

	r, _ = logread.OpenDir(dir, logread.Options{Cursor: &cursor, OnError: func(err error) {
		var gap *logread.GapError
		if errors.As(err, &gap) {
			n, complete := gap.Lost()
			fmt.Printf("gap: the cursor's file (%s, %d bytes of it read) is gone; lost: %d bytes known, all known: %v\n",
				gap.Cursor.Name, gap.Cursor.Read, n, complete)
			return
		}
		fmt.Println("warning:", err)
	}})
	defer r.Close()
	for {
		l, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s", l.Bytes)
	}
	// Output:
	// gap: the cursor's file (current, 4 bytes of it read) is gone; lost: 0 bytes known, all known: false
	// three
	// four
}

// A directory read a block at a time from the mappings of its archives
// (Options.Map), as a search reads a large directory: the blocks are
// touched only inside Guard, which turns the fault of an archive truncated
// meanwhile into an error instead of a crash.
func ExampleGuard() {
	dir, _ := os.MkdirTemp("", "logread-example-map")
	defer os.RemoveAll(dir)
	w, err := rotate.Open(dir, rotate.Options{MaxSize: 1 << 20, Keep: 10})
	if err != nil {
		log.Fatal(err)
	}
	for i := range 100000 {
		fmt.Fprintf(w, "line %d\n", i) // 1.3 MB: one archive of 1 MB, mapped
	}
	w.Close()

	r, err := logread.OpenDir(dir, logread.Options{Map: true})
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	lines := 0
	err = logread.Guard(func() {
		for {
			b, err := r.NextLines()
			if err != nil {
				return // io.EOF
			}
			lines += bytes.Count(b.Bytes, []byte("\n"))
		}
	})
	var fe *logread.FaultError
	if errors.As(err, &fe) {
		fmt.Println("warning:", fe) // and r is not read further
	}
	fmt.Println(lines, "lines")
	// Output:
	// 100000 lines
}

// A search of a directory on every core: with ReadAhead the next archives
// are decompressed (or, with Map, mapped) on other goroutines, and Scan
// runs there on each one's whole text; its result comes with that
// archive's blocks, ScanOff saying where each block begins in the text.
func ExampleOptions_scan() {
	dir, _ := os.MkdirTemp("", "logread-example-scan")
	defer os.RemoveAll(dir)
	w, err := rotate.Open(dir, rotate.Options{MaxSize: 300 << 10, Keep: 10})
	if err != nil {
		log.Fatal(err)
	}
	for i := range 100000 {
		fmt.Fprintf(w, "job %d state=%s\n", i, []string{"done", "done", "failed"}[i%3])
	}
	w.Close()

	count := func(text []byte) any { return bytes.Count(text, []byte("state=failed")) }
	r, err := logread.OpenDir(dir, logread.Options{Map: true, ReadAhead: true, Scan: count})
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	failed := 0
	if err := logread.Guard(func() {
		for {
			b, err := r.NextLines()
			if err != nil {
				return // io.EOF
			}
			switch {
			case b.Scan == nil: // not read ahead: the first archive, current
				failed += bytes.Count(b.Bytes, []byte("state=failed"))
			case b.ScanOff == 0: // an archive's first block: its count
				failed += b.Scan.(int)
			}
		}
	}); err != nil {
		log.Fatal(err)
	}
	fmt.Println(failed, "failed")
	// Output:
	// 33333 failed
}
