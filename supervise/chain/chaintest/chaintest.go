// Package chaintest runs taikit's chain-loading commands and daemontools'
// side by side, under the same name and in the same conditions, for the
// differential tests of cmd/setuidgid, cmd/envdir and the others.
//
// Our command runs as its own test binary (testref.TestMainOr and
// testref.BeCommand). Both programs get testref.BeCommand in their
// environment, so that what a child prints of its environment is the same
// under either.
package chaintest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/taikit/taikit/internal/testref"
)

// Run is one invocation, made of both programs in turn.
type Run struct {
	Name string   // argv[0] for both, as a shell would pass it: "softlimit"
	Args []string // the arguments after argv[0]
	Env  []string // changes to this process's environment, as testref.Exec takes them
	// RawEnv, if not nil, is the whole environment instead, passed as it
	// is (repeated names included) with testref.BeCommand added.
	RawEnv []string
	Stdin  []byte
	Dir    string              // working directory; "" for the test's
	Cred   *syscall.Credential // run as this account; nil for the test's
	Extra  []*os.File          // passed on as descriptors 3, 4, ...
}

// Ours runs our command.
func (r Run) Ours(t testing.TB) testref.Result {
	t.Helper()
	if r.Cred != nil {
		return r.exec(t, SelfForAnyone(t))
	}
	return r.exec(t, testref.Self(t))
}

// SelfForAnyone returns a copy of the running test binary that any
// account may run: the original is in the go command's build directory,
// which only its owner may enter. The copy goes when the test ends.
func SelfForAnyone(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "chaintest")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	bin, err := os.ReadFile(testref.Self(t))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "self")
	if err := os.WriteFile(p, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// Theirs runs the reference program at path, skipping the test if it is
// not installed.
func (r Run) Theirs(t testing.TB, path string) testref.Result {
	t.Helper()
	testref.Need(t, path)
	return r.exec(t, path)
}

// System runs a program of the system that is no reference program (a
// shell, as a control of what the test's setting gives any program).
func (r Run) System(t testing.TB, path string) testref.Result {
	t.Helper()
	return r.exec(t, path)
}

// Same runs both and fails the test unless they exit alike and print the
// same on both outputs; it returns our result.
func (r Run) Same(t testing.TB, path string) testref.Result {
	t.Helper()
	theirs := r.Theirs(t, path)
	ours := r.Ours(t)
	if ours.Code != theirs.Code || !bytes.Equal(ours.Stdout, theirs.Stdout) || !bytes.Equal(ours.Stderr, theirs.Stderr) {
		t.Errorf("%s %q:\n ours:   exit %d, stdout %q, stderr %q\n theirs: exit %d, stdout %q, stderr %q",
			r.Name, r.Args, ours.Code, ours.Stdout, ours.Stderr, theirs.Code, theirs.Stdout, theirs.Stderr)
	}
	return ours
}

// Command returns the invocation as a command to start, running the
// program at path (testref.Self(t) for ours).
func (r Run) Command(path string) *exec.Cmd {
	env := testref.Environ(append([]string{testref.BeCommand}, r.Env...)...)
	if r.RawEnv != nil {
		env = append(append([]string(nil), r.RawEnv...), testref.BeCommand)
	}
	cmd := &exec.Cmd{
		Path:       path,
		Args:       append([]string{r.Name}, r.Args...),
		Env:        env,
		Dir:        r.Dir,
		Stdin:      bytes.NewReader(r.Stdin),
		ExtraFiles: r.Extra,
	}
	if r.Cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: r.Cred}
	}
	return cmd
}

func (r Run) exec(t testing.TB, path string) testref.Result {
	t.Helper()
	cmd := r.Command(path)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	res := testref.Result{Stdout: o.Bytes(), Stderr: e.Bytes()}
	if ee, ok := err.(*exec.ExitError); ok {
		res.Code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			res.Code = -int(ws.Signal())
		}
	} else if err != nil {
		t.Fatalf("running %s as %s: %v", path, r.Name, err)
	}
	return res
}

// NeedRoot skips the test unless it runs as root, saying why it needs to.
func NeedRoot(t testing.TB, why string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skipf("needs root (%s); run the tests as root, as CI does", why)
	}
}

// Nobody is the credential of the unprivileged account "nobody"
// (65534:65534 on Debian), with no supplementary groups.
var Nobody = &syscall.Credential{Uid: 65534, Gid: 65534, Groups: []uint32{}}

// Lines splits output into lines, without the final newline.
func Lines(out []byte) []string {
	return strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
}
