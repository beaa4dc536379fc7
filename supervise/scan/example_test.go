package scan_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/taikit/taikit/supervise/scan"
)

// A program that supervises a directory of services itself, as svscan
// does, with its own supervise program and warnings.
func Example() {
	dir, _ := os.MkdirTemp("", "services")
	defer os.RemoveAll(dir)
	os.MkdirAll(filepath.Join(dir, "web", "log"), 0o755)
	os.MkdirAll(filepath.Join(dir, ".disabled"), 0o755)
	os.Symlink("/nonexistent", filepath.Join(dir, "broken"))

	s := scan.New(dir)
	s.Program = "/bin/true" // stands for supervise here: it exits at once
	s.Warn = func(err error) { fmt.Println("svscan: warning:", err) }
	defer s.Close()

	s.Scan() // svscan.Run does this every five seconds and on SIGALRM/SIGHUP
	for _, sv := range s.Services() {
		fmt.Printf("%s: log %v, supervise running %v, log supervise running %v\n",
			sv.Name, sv.HasLog, sv.Pid != 0, sv.LogPid != 0)
	}
	// Unordered output:
	// svscan: warning: unable to stat broken: file does not exist
	// web: log true, supervise running true, log supervise running true
}
