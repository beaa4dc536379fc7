package testref

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
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

var built struct {
	sync.Mutex
	paths map[string]string
	errs  map[string]error
}

// Ours returns the path of taikit's command name, built once per test
// binary into a directory of TempDirForBinary: the command may run in
// several tests at once, and Main removes it when they are all done. A
// build failure fails t, and so does a package whose TestMain does not go
// through Main.
func Ours(t testing.TB, name string) string {
	t.Helper()
	built.Lock()
	defer built.Unlock()
	if built.paths == nil {
		built.paths, built.errs = map[string]string{}, map[string]error{}
	}
	if _, done := built.paths[name]; !done {
		dir, err := TempDirForBinary("taikit-" + name + "-")
		if err == nil {
			err = BuildCommands(dir, name)
		}
		built.paths[name], built.errs[name] = filepath.Join(dir, name), err
	}
	if err := built.errs[name]; err != nil {
		t.Fatal(err)
	}
	return built.paths[name]
}
