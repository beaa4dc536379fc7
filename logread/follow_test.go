package logread

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/taikit/taikit/rotate"
)

// follower runs a following Reader in a goroutine, collecting its output.
type follower struct {
	r    *Reader
	mu   sync.Mutex
	out  []byte
	err  error
	done chan struct{}
	// after each line the cursor, when keepCursor
	keepCursor bool
	cursor     Cursor
}

func startFollower(t *testing.T, dir string, opts Options, keepCursor bool) *follower {
	t.Helper()
	opts.Follow = true
	r, err := OpenDir(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	// Before the first line the position is where the Reader starts (the
	// cursor it was given), not the zero Cursor.
	f := &follower{r: r, done: make(chan struct{}), keepCursor: keepCursor, cursor: r.Cursor()}
	go func() {
		defer close(f.done)
		for {
			l, err := r.Next()
			if err != nil {
				f.mu.Lock()
				f.err = err
				f.mu.Unlock()
				return
			}
			f.mu.Lock()
			f.out = append(f.out, l.Bytes...)
			if keepCursor {
				f.cursor = r.Cursor()
			}
			f.mu.Unlock()
		}
	}()
	return f
}

func (f *follower) len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.out)
}

// stop interrupts the follower and returns its output and last cursor.
func (f *follower) stop(t *testing.T) ([]byte, Cursor) {
	t.Helper()
	f.r.Interrupt()
	select {
	case <-f.done:
	case <-time.After(30 * time.Second):
		t.Fatal("follower did not stop after Interrupt")
	}
	f.r.Close()
	if !errors.Is(f.err, ErrInterrupted) {
		t.Fatalf("follower ended with %v", f.err)
	}
	return f.out, f.cursor
}

// waitFor waits (generously) until the follower has n bytes.
func (f *follower) waitFor(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for f.len() < n {
		if time.Now().After(deadline) {
			t.Fatalf("follower has %d bytes of %d after 60 s", f.len(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func numbered(from, to int) []byte {
	var b bytes.Buffer
	for i := from; i < to; i++ {
		fmt.Fprintf(&b, "line %07d %s\n", i, "abcdefghijklmnopqrstuvwxyz"[:i%27])
	}
	return b.Bytes()
}

// firstDiff describes where two streams part.
func firstDiff(got, want []byte) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	ctx := func(b []byte) string {
		s := max(0, i-60)
		return string(b[s:min(len(b), i+60)])
	}
	return fmt.Sprintf("got %d bytes, want %d; first difference at %d:\ngot:  %q\nwant: %q", len(got), len(want), i, ctx(got), ctx(want))
}

// TestFollowWriterAtFullSpeed follows a Dir writing numbered lines as fast
// as it can, with small files and compression, so that rotations (and the
// compression jobs) happen in every state of the follower.
func TestFollowWriterAtFullSpeed(t *testing.T) {
	for _, c := range []rotate.Compression{{}, {Method: rotate.Gzip}, {Method: rotate.Zstd}} {
		t.Run(c.Method.String(), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "log")
			var w warnings
			o := testOptions(&w)
			o.MaxSize, o.Keep, o.Compression = 4096, 100000, c
			d := mustOpen(t, dir, o)
			f := startFollower(t, dir, Options{}, false)
			in := numbered(0, 25000)
			for p := in; len(p) > 0; {
				n := min(len(p), 1000+len(p)%3000)
				write(t, d, p[:n])
				p = p[n:]
			}
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}
			f.waitFor(t, len(in))
			got, _ := f.stop(t)
			if !bytes.Equal(got, in) {
				t.Fatal(firstDiff(got, in))
			}
			final, errs := readAll(t, dir, Options{})
			if len(errs) > 0 || !bytes.Equal(final, in) {
				t.Fatalf("directory content: %v\n%s", errs, firstDiff(final, in))
			}
			if d.Stats().Rotations < 100 {
				t.Fatalf("only %d rotations", d.Stats().Rotations)
			}
		})
	}
}

// TestFollowRestartWithCursor stops the follower at random points while
// the writer runs and starts a new one from its cursor, several times.
// Every follower's errors are checked: a cursor whose file is not found
// again is reported, and the stream would go on from the wrong place.
func TestFollowRestartWithCursor(t *testing.T) {
	for _, c := range []rotate.Compression{{}, {Method: rotate.Gzip}, {Method: rotate.Zstd}} {
		t.Run(c.Method.String(), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "log")
			var w warnings
			o := testOptions(&w)
			o.MaxSize, o.Keep, o.Compression = 4096, 100000, c
			d := mustOpen(t, dir, o)
			in := numbered(0, 20000)
			var got []byte
			var cur *Cursor
			var restarts []int
			f := startFollower(t, dir, Options{}, true)
			pieces := 0
			for p := in; len(p) > 0; {
				n := min(len(p), 1000+len(p)%3000)
				write(t, d, p[:n])
				p = p[n:]
				pieces++
				if pieces%40 == 0 {
					out, c := f.stop(t)
					if errs := f.r.Errors(); len(errs) > 0 {
						t.Fatalf("follower %d: %v", len(restarts), errs)
					}
					got = append(got, out...)
					restarts = append(restarts, len(got))
					// Through text, as a program would keep it.
					text, _ := c.MarshalText()
					var back Cursor
					if err := back.UnmarshalText(text); err != nil {
						t.Fatalf("%v\n%s", err, text)
					}
					cur = &back
					f = startFollower(t, dir, Options{Cursor: cur}, true)
				}
			}
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}
			f.waitFor(t, len(in)-len(got))
			out, _ := f.stop(t)
			got = append(got, out...)
			if !bytes.Equal(got, in) {
				t.Fatalf("restarts at %v\n%s", restarts, firstDiff(got, in))
			}
			if len(f.r.Errors()) > 0 {
				t.Fatal(f.r.Errors())
			}
		})
	}
}

var _ = io.EOF
