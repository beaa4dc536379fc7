package multilog

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/taikit/taikit/errtext"
)

// TestReadyFDNotTheRuntimes: a d<fd> word naming a descriptor the Go
// runtime itself holds (its poller and wake-up descriptors, which exist
// in a process that has used a timer or a pipe, as this test binary has)
// is refused before anything is opened; written to and closed, the
// poller's descriptor crashed the runtime ("netpoll failed").
func TestReadyFDNotTheRuntimes(t *testing.T) {
	// Make sure the poller exists.
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd to find the runtime's descriptors in:", err)
	}
	found := 0
	for _, e := range ents {
		link, _ := os.Readlink(filepath.Join("/proc/self/fd", e.Name()))
		if !strings.HasPrefix(link, "anon_inode:") {
			continue
		}
		fd, _ := strconv.Atoi(e.Name())
		found++
		dir := filepath.Join(t.TempDir(), "main")
		err := Run(Config{Args: []string{"t", "d" + e.Name(), dir}, Stdin: r, Stdout: os.Stdout, Stderr: os.Stderr})
		var ee *errtext.Error
		if !errors.As(err, &ee) || !errors.Is(err, errReadyFDKind) {
			t.Errorf("d%d (%s): %v; want a refusal", fd, link, err)
		}
		if _, err := os.Lstat(dir); err == nil {
			t.Errorf("d%d (%s): the directory was created", fd, link)
		}
	}
	if found == 0 {
		t.Skip("the runtime holds no anonymous-inode descriptor here")
	}
}
