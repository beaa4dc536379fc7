package main

import (
	"bytes"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/taikit/taikit/internal/testref"
	"github.com/taikit/taikit/supervise"
	"github.com/taikit/taikit/tai64n"
)

// runBounded runs svstat on dirs, failing the test if it does not return
// (a hang in open(2)).
func runBounded(t *testing.T, dirs ...string) string {
	t.Helper()
	done := make(chan string, 1)
	go func() {
		var out bytes.Buffer
		run(dirs, &out, time.Now)
		done <- out.String()
	}()
	var got string
	testref.WaitFor(t, "svstat to return", func() bool {
		select {
		case got = <-done:
			return true
		default:
			return false
		}
	})
	return got
}

// TestHostileFiles: supervise/extra a FIFO or a link to /dev/zero, which
// daemontools' svstat never opens, changes nothing (the same line as
// daemontools'); supervise/status a FIFO held svstat in open(2) for ever,
// and is now named as what it is (daemontools: "bad format").
func TestHostileFiles(t *testing.T) {
	testref.Need(t, svstat)
	root := t.TempDir()
	past := supervise.Status{Want: 'u', When: tai64n.FromTime(time.Now().Add(-time.Hour), tai64n.Daemontools)}
	fifoExtra := fakeService(t, root, "fifoextra", past, false)
	must(t, syscall.Mkfifo(supervise.ExtraPath(fifoExtra), 0o600))
	zeroExtra := fakeService(t, root, "zeroextra", past, false)
	must(t, os.Symlink("/dev/zero", supervise.ExtraPath(zeroExtra)))
	compare(t, []string{fifoExtra, zeroExtra})

	fifoStatus := fakeService(t, root, "fifostatus", past, false)
	must(t, os.Remove(supervise.StatusPath(fifoStatus)))
	must(t, syscall.Mkfifo(supervise.StatusPath(fifoStatus), 0o600))
	want := fifoStatus + ": unable to read supervise/status: is a FIFO, not a regular file\n"
	if got := runBounded(t, fifoStatus); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	t.Logf("daemontools: %q", testref.Exec(t, nil, nil, svstat, fifoStatus).Stdout)
}
