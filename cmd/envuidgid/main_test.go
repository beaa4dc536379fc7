package main

import (
	"bytes"
	"testing"

	"github.com/taikit/taikit/internal/cli"
	"github.com/taikit/taikit/internal/testref"
	"github.com/taikit/taikit/supervise/chain/chaintest"
)

func TestMain(m *testing.M) { testref.TestMainOr(m, main) }

const ref = "/usr/bin/envuidgid"

func TestUsage(t *testing.T) {
	for _, argv := range [][]string{{"envuidgid"}, {"envuidgid", "nobody"}, nil} {
		var errs bytes.Buffer
		if code := run(argv, nil, &errs); code != cli.ExitUsage || errs.String() != "envuidgid: usage: envuidgid account child\n" {
			t.Errorf("%q: exit %d, %q", argv, code, errs.String())
		}
	}
}

func TestSameMessagesAsDaemontools(t *testing.T) {
	for _, args := range [][]string{
		{}, {"nobody"}, {"no-such-account", "true"}, {"", "true"}, {"0", "true"},
		{"nobody", "no-such-program"}, {"nobody", "/nonexistent/program"}, {"nobody", "/"},
	} {
		chaintest.Run{Name: "envuidgid", Args: args}.Same(t, ref)
	}
}

// TestSameEnvironment compares the child's whole environment, byte for
// byte and in order: $GID and $UID set (replacing earlier ones where
// pathexec puts them), everything else untouched, repeated names
// included; and the ids of the process unchanged.
func TestSameEnvironment(t *testing.T) {
	for _, env := range [][]string{
		{"PATH=/usr/bin:/bin", "HOME=/root"},
		{"UID=5", "A=1", "GID=6", "A=2", "PATH=/usr/bin:/bin", "NOEQUALS", "UID=7"},
	} {
		for _, account := range []string{"nobody", "root", "daemon"} {
			res := chaintest.Run{Name: "envuidgid", Args: []string{account, "env", "-0"}, RawEnv: env}.Same(t, ref)
			if res.Code != 0 || len(res.Stdout) == 0 {
				t.Errorf("%s: exit %d, %q", account, res.Code, res.Stderr)
			}
		}
	}
	chaintest.Run{Name: "envuidgid", Args: []string{"nobody", "id", "-u"}}.Same(t, ref)
}
