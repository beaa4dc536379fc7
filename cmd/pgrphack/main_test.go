package main

import (
	"bytes"
	"testing"

	"github.com/taikit/taikit/internal/cli"
	"github.com/taikit/taikit/internal/testref"
	"github.com/taikit/taikit/supervise/chain/chaintest"
)

func TestMain(m *testing.M) { testref.TestMainOr(m, main) }

const ref = "/usr/bin/pgrphack"

func TestUsage(t *testing.T) {
	for _, argv := range [][]string{{"pgrphack"}, nil} {
		var errs bytes.Buffer
		if code := run(argv, nil, &errs); code != cli.ExitUsage || errs.String() != usage {
			t.Errorf("%q: exit %d, %q", argv, code, errs.String())
		}
	}
}

func TestSameMessagesAsDaemontools(t *testing.T) {
	for _, args := range [][]string{{}, {"-x"}, {"no-such-program"}, {"/"}, {"sh", "-c", "exit 9"}} {
		chaintest.Run{Name: "pgrphack", Args: args}.Same(t, ref)
	}
}

// leader prints whether the shell leads its own session and process
// group (fields 5 and 6 of /proc/PID/stat are its group and session).
const leader = `set -- $(cat /proc/$$/stat); if [ "$1" = "$5" ] && [ "$1" = "$6" ]; then echo leader; else echo member; fi`

func TestChildLeadsANewSession(t *testing.T) {
	res := chaintest.Run{Name: "pgrphack", Args: []string{"sh", "-c", leader}}.Same(t, ref)
	if string(res.Stdout) != "leader\n" {
		t.Errorf("child: %q", res.Stdout)
	}
	// The control: started from here without pgrphack, it is not.
	if out := testref.Run(t, nil, nil, "/bin/sh", "-c", leader); string(out) != "member\n" {
		t.Errorf("without pgrphack: %q", out)
	}
	// Already a session leader: setsid fails, the child runs anyway.
	res = chaintest.Run{Name: "pgrphack", Args: []string{testref.Self(t), "sh", "-c", leader}}.Ours(t)
	if res.Code != 0 || string(res.Stdout) != "leader\n" {
		t.Errorf("pgrphack twice: exit %d, %q %q", res.Code, res.Stdout, res.Stderr)
	}
}
