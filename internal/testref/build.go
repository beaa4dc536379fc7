package testref

import (
	"fmt"
	"os/exec"
	"path/filepath"
)

// BuildCommands builds taikit's commands named (the packages under cmd/)
// into dir, as dir/<name>, with the go command in $PATH (the one `go test`
// was run with), in one invocation.
func BuildCommands(dir string, names ...string) error {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("no go command in $PATH to build %v with: %w", names, err)
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
