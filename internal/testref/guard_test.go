package testref

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// referenceNames are the programs of the reference packages that taikit
// also provides: a test that finds one of them in $PATH may find ours.
var referenceNames = "multilog|tai64n|tai64nlocal|supervise|svscan|svscanboot|svc|svstat|svok|setuidgid|envuidgid|envdir|softlimit|setlock|fghack|pgrphack|readproctitle|s6-log|s6-tai64n|s6-tai64nlocal|svlogd"

// TestNoReferenceFromPath guards against a test running a program of
// daemontools, s6 or runit by its bare name, which finds taikit's own
// command first once `go install ./cmd/...` has put GOPATH/bin in $PATH.
func TestNoReferenceFromPath(t *testing.T) {
	bare := regexp.MustCompile(`exec\.(LookPath|Command|CommandContext)\((ctx, )?"(` + referenceNames + `)"`)
	root := filepath.Join("..", "..")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != root || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range bare.FindAllString(string(src), -1) {
			t.Errorf("%s: %s: name a reference program by its full path (/usr/bin/...) and check it with testref.Need", path, m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestNeedRefuses(t *testing.T) {
	if err := checkReference("tai64nlocal"); err == nil || !strings.Contains(err.Error(), "full path") {
		t.Errorf("a bare name: %v", err)
	}
	err := checkReference("/nonexistent/bin/multilog")
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "apt-get install daemontools") {
		t.Errorf("a missing program: %v", err)
	}
	if err := checkReference("/nonexistent/s6-log"); err == nil || !strings.Contains(err.Error(), "apt-get install s6") {
		t.Errorf("a missing s6 program: %v", err)
	}
	if _, err := os.Stat("/var/lib/dpkg/info"); err != nil {
		t.Skip("not a Debian system: only full paths can be checked")
	}
	// A file at a full path that no reference package ships is refused,
	// as a copy of our own command at /usr/bin would be.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if err := checkReference(self); err == nil || errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the test binary taken for a reference program: %v", err)
	}
}

func TestVmHWM(t *testing.T) {
	if kb := VmHWM(os.Getpid()); kb <= 0 {
		t.Fatalf("VmHWM of this process: %d", kb)
	}
	if kb := VmHWM(-1); kb != -1 {
		t.Fatalf("VmHWM of no process: %d", kb)
	}
}
