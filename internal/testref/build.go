package testref

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
)

// BuildCommands builds taikit's commands named (the packages under cmd/)
// into dir, as dir/<name>, with the go command that runs the tests (the one
// in GOROOT, else the one in $PATH), in one invocation.
func BuildCommands(dir string, names ...string) error {
	goCmd := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goCmd); err != nil {
		if goCmd, err = exec.LookPath("go"); err != nil {
			return fmt.Errorf("no go command to build %v with: %w", names, err)
		}
	}
	args := []string{"build", "-o", dir + string(filepath.Separator)}
	for _, n := range names {
		args = append(args, "github.com/taikit/taikit/cmd/"+n)
	}
	if out, err := exec.Command(goCmd, args...).CombinedOutput(); err != nil {
		return fmt.Errorf("go build of %v: %v\n%s", names, err, out)
	}
	return nil
}
