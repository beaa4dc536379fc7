package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/taikit/taikit/internal/cli"
	"github.com/taikit/taikit/internal/testref"
	"github.com/taikit/taikit/supervise/chain/chaintest"
)

func TestMain(m *testing.M) { testref.TestMainOr(m, main) }

const ref = "/usr/bin/envdir"

// TestUsage: daemontools' envdir exits 111 on a usage error, not 100.
func TestUsage(t *testing.T) {
	for _, argv := range [][]string{{"envdir"}, {"envdir", "dir"}, nil} {
		var errs bytes.Buffer
		if code := run(argv, nil, &errs); code != cli.ExitTemporary || errs.String() != "envdir: usage: envdir dir child\n" {
			t.Errorf("%q: exit %d, %q", argv, code, errs.String())
		}
	}
}

func TestSameMessagesAsDaemontools(t *testing.T) {
	dir := t.TempDir()
	mkdir(t, dir, "empty")
	mkdir(t, dir, "withsub/sub")
	write(t, dir, "file", "x")
	for _, args := range [][]string{
		{}, {"empty"}, {"none", "true"}, {"file", "true"}, {"withsub", "true"},
		{"empty", "no-such-program"}, {"empty", "./no-such-program"}, {"empty", "/etc"}, {"empty", "/etc/passwd"},
		{"empty", "-x"}, {"-x", "empty", "true"}, {"--", "empty", "true"},
	} {
		chaintest.Run{Name: "envdir", Args: args, Dir: dir}.Same(t, ref)
	}
}

// TestSameEnvironment gives both the same directory and the same starting
// environment (with repeated names) and compares the child's environment
// byte for byte, in order.
func TestSameEnvironment(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"A":          "first line  \t \nsecond\n",
		"B":          "x\x00y\x00\n",
		"HOME":       "",
		"C=D":        "v",
		"E=F":        "",
		".hidden":    "no",
		"G":          "  lead\t",
		"H":          "\n\nrest",
		"K":          strings.Repeat("q", 300),
		"L":          "a\r\n",
		"NUL_ONLY":   "\x00",
		"SPACES":     "   ",
		"FOO":        "",
		"PATH":       "/nonexistent", // not where the child is searched
		"UNICODE":    "héllo wörld",
		"NONEWLINE":  "no newline at end",
		"TABS_INNER": "a\tb \t",
	}
	for name, content := range files {
		write(t, dir, name, content)
	}
	for _, env := range [][]string{
		{"C=orig", "E=orig", "FOO=1", "HOME=/root", "PATH=/usr/bin:/bin", "A=dup1", "A=dup2", "NOEQUALS"},
		{"PATH=/usr/bin:/bin"},
	} {
		res := chaintest.Run{Name: "envdir", Args: []string{dir, "env", "-0"}, RawEnv: env}.Same(t, ref)
		if res.Code != 0 || !bytes.Contains(res.Stdout, []byte("\x00B=x\ny\n\x00")) {
			t.Errorf("exit %d, stdout %q, stderr %q", res.Code, res.Stdout, res.Stderr)
		}
	}
}

// TestDanglingLinkRemovesTheVariable: daemontools gives a file that does
// not exist (a dangling symbolic link, or a file removed while envdir
// reads) the value of the file read before it plus a newline, or removes
// it when it comes first; taikit always removes it (doc/man8/envdir.8).
func TestDanglingLinkRemovesTheVariable(t *testing.T) {
	dir := t.TempDir()
	if err := os.Symlink("/nonexistent", filepath.Join(dir, "GONE")); err != nil {
		t.Fatal(err)
	}
	res := chaintest.Run{Name: "envdir", Args: []string{dir, "env"}, Env: []string{"GONE=before"}}.Ours(t)
	if res.Code != 0 || bytes.Contains(res.Stdout, []byte("GONE")) {
		t.Errorf("exit %d, stdout %q, stderr %q", res.Code, res.Stdout, res.Stderr)
	}
	// Alone in its directory, the link reads as empty in daemontools too.
	chaintest.Run{Name: "envdir", Args: []string{dir, "env"}, Env: []string{"GONE=before"}}.Same(t, ref)
}

// TestPermissionErrors runs both as an unprivileged account where the
// working directory, the directory or a file cannot be read.
func TestPermissionErrors(t *testing.T) {
	chaintest.NeedRoot(t, "running as nobody in directories nobody cannot read")
	top, err := os.MkdirTemp("", "envdir")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(top)
	os.Chmod(top, 0o755)
	for name, mode := range map[string]os.FileMode{"closed": 0o700, "noread": 0o311, "nosearch": 0o644, "open": 0o755} {
		mkdir(t, top, name)
		write(t, top, name+"/V", "v")
		if err := os.Chmod(filepath.Join(top, name), mode); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(top, "open/V"), 0); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ cwd, dir string }{
		{"noread", filepath.Join(top, "open")}, // the working directory cannot be opened
		{".", "closed"}, {".", "noread"}, {".", "nosearch"}, {".", "open"},
	} {
		res := chaintest.Run{Name: "envdir", Args: []string{c.dir, "true"}, Dir: filepath.Join(top, c.cwd), Cred: chaintest.Nobody}.Same(t, ref)
		if res.Code != cli.ExitTemporary || !bytes.Contains(res.Stderr, []byte(": access denied")) {
			t.Errorf("%+v: exit %d, %q", c, res.Code, res.Stderr)
		}
	}
}

func mkdir(t *testing.T, dir, name string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
		t.Fatal(err)
	}
}

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
