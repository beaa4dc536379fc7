package logread

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/taikit/taikit/internal/testref"
)

// changes collects what a follower gives OnError.
type changes struct {
	mu   sync.Mutex
	list []error
}

func (c *changes) add(err error) { c.mu.Lock(); c.list = append(c.list, err); c.mu.Unlock() }

func (c *changes) get() []error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]error(nil), c.list...)
}

// TestFollowDirectoryReplaced: a follower follows the directory by name,
// as tail -F a file: when a redeploy renames it or removes it and makes a
// new one, the follower says it went away, waits, and reads the new one
// from its start, archives and current.
func TestFollowDirectoryReplaced(t *testing.T) {
	for _, how := range []string{"renamed", "removed", "renamed and replaced at once"} {
		t.Run(how, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, "log")
			os.Mkdir(dir, 0o755)
			os.WriteFile(filepath.Join(dir, fileCurrent), []byte("old 1\n"), 0o644)
			var ch changes
			f := startFollower(t, dir, Options{Name: "./log", PollInterval: 20 * time.Millisecond, OnError: ch.add}, false)
			testref.WaitFor(t, "the old current", func() bool { return f.len() >= len("old 1\n") })

			// The new directory, made aside and moved in: a writer would
			// make it in place; a redeploy moves it in.
			next := filepath.Join(root, "next")
			os.Mkdir(next, 0o755)
			os.WriteFile(filepath.Join(next, "@400000006b13500000000001.s"), []byte("new 1\n"), 0o744)
			os.WriteFile(filepath.Join(next, fileCurrent), []byte("new 2\n"), 0o644)
			switch how {
			case "renamed":
				os.Rename(dir, dir+".old")
			case "removed":
				os.RemoveAll(dir)
			case "renamed and replaced at once":
				os.Rename(dir, dir+".old")
				os.Rename(next, dir)
			}
			if how != "renamed and replaced at once" {
				testref.WaitFor(t, "the follower to say it went away", func() bool { return len(ch.get()) > 0 })
				os.Rename(next, dir)
			}
			want := "old 1\nnew 1\nnew 2\n"
			testref.WaitFor(t, "the new directory read", func() bool { return f.len() >= len(want) })
			os.WriteFile(filepath.Join(dir, fileCurrent), []byte("new 2\nnew 3\n"), 0o644)
			want += "new 3\n"
			testref.WaitFor(t, "the new current followed", func() bool { return f.len() >= len(want) })
			out, _ := f.stop(t)
			if string(out) != want {
				t.Fatalf("output %q, want %q", out, want)
			}
			got := ch.get()
			var texts []string
			for _, e := range got {
				texts = append(texts, e.Error())
			}
			gone := "./log went away (file does not exist): waiting for it to come back"
			back := "./log is back: reading it from its start"
			replaced := "./log was replaced by another directory: reading the new one from its start"
			ok := len(texts) == 2 && texts[0] == gone && texts[1] == back ||
				how == "renamed and replaced at once" && len(texts) == 1 && texts[0] == replaced
			if !ok {
				t.Fatalf("said %q", texts)
			}
			var dc *DirChange
			if !errors.As(got[0], &dc) {
				t.Fatalf("%T is not a *DirChange", got[0])
			}
		})
	}
}
