package main

import (
	"bytes"
	"strings"
	"syscall"
	"testing"

	"github.com/taikit/taikit/internal/cli"
	"github.com/taikit/taikit/internal/testref"
	"github.com/taikit/taikit/supervise/chain/chaintest"
)

func TestMain(m *testing.M) { testref.TestMainOr(m, main) }

const ref = "/usr/bin/setuidgid"

func TestUsage(t *testing.T) {
	for _, argv := range [][]string{{"setuidgid"}, {"setuidgid", "nobody"}, nil} {
		var errs bytes.Buffer
		if code := run(argv, nil, &errs); code != cli.ExitUsage || errs.String() != "setuidgid: usage: setuidgid account child\n" {
			t.Errorf("%q: exit %d, %q", argv, code, errs.String())
		}
	}
}

func TestSameMessagesAsDaemontools(t *testing.T) {
	for _, args := range [][]string{
		{}, {"nobody"}, {"no-such-account", "true"}, {"", "true"}, {"65534", "true"}, {"--", "true"},
		{"nobody", "no-such-program"}, {"nobody", "/nonexistent/program"}, {"nobody", "/"},
	} {
		chaintest.Run{Name: "setuidgid", Args: args}.Same(t, ref)
	}
}

// TestFailsToDropWithoutPrivilege: an unprivileged caller cannot change
// its groups, and says so as daemontools does.
func TestFailsToDropWithoutPrivilege(t *testing.T) {
	r := chaintest.Run{Name: "setuidgid", Args: []string{"root", "true"}}
	if syscall.Geteuid() == 0 {
		r.Cred = chaintest.Nobody
	}
	res := r.Same(t, ref)
	if res.Code != cli.ExitTemporary || string(res.Stderr) != "setuidgid: fatal: unable to setgid: permission denied\n" {
		t.Errorf("exit %d, %q", res.Code, res.Stderr)
	}
}

// TestDropsEverySupplementaryGroup starts both programs from a process
// that has supplementary groups, and compares the ids the child runs
// with: the account's uid, its primary gid, and that gid alone as groups.
func TestDropsEverySupplementaryGroup(t *testing.T) {
	chaintest.NeedRoot(t, "changing accounts")
	r := chaintest.Run{
		Name: "setuidgid",
		Args: []string{"nobody", "sh", "-c", `grep -E '^(Uid|Gid|Groups):' /proc/self/status; id -G`},
		Cred: &syscall.Credential{Uid: 0, Gid: 0, Groups: []uint32{4, 27, 100}},
	}
	res := r.Same(t, ref)
	want := "Uid:\t65534\t65534\t65534\t65534\nGid:\t65534\t65534\t65534\t65534\nGroups:\t65534 \n65534\n"
	if res.Code != 0 || string(res.Stdout) != want {
		t.Errorf("exit %d, stdout %q; want %q", res.Code, res.Stdout, want)
	}
	// The control: the starting process did have the groups.
	// (/bin/sh is no reference program: not through Theirs and testref.Need.)
	out, err := chaintest.Run{Name: "sh", Args: []string{"-c", "id -G"}, Cred: r.Cred}.Command("/bin/sh").Output()
	if err != nil || strings.TrimSpace(string(out)) != "0 4 27 100" {
		t.Errorf("the parent's groups are %q (%v)", out, err)
	}
}

// TestEnvironmentUntouched: setuidgid changes ids only; $HOME, $USER and
// the rest pass unchanged, in order, repeated names included.
func TestEnvironmentUntouched(t *testing.T) {
	chaintest.NeedRoot(t, "changing accounts")
	r := chaintest.Run{
		Name:   "setuidgid",
		Args:   []string{"nobody", "env"},
		RawEnv: []string{"HOME=/root", "USER=root", "PATH=/usr/bin:/bin", "A=1", "A=2", "NOEQUALS"},
	}
	r.Same(t, ref)
}
