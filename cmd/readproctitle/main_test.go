package main

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/taikit/taikit/internal/cli"
	"github.com/taikit/taikit/internal/testref"
	"github.com/taikit/taikit/supervise/chain/chaintest"
)

func TestMain(m *testing.M) { testref.TestMainOr(m, main) }

const ref = "/usr/bin/readproctitle"

func TestRun(t *testing.T) {
	var errs bytes.Buffer
	if code := run(1, nil, strings.NewReader(""), &errs); code != cli.ExitUsage || !strings.Contains(errs.String(), "usage") {
		t.Errorf("no arguments: exit %d, %q", code, errs.String())
	}
	errs.Reset()
	if code := run(2, []byte("...."), strings.NewReader(""), &errs); code != cli.ExitUsage || !strings.Contains(errs.String(), "at least 5") {
		t.Errorf("4 bytes: exit %d, %q", code, errs.String())
	}
	title := []byte("12345678")
	if code := run(3, title, strings.NewReader("hello\nworld"), &errs); code != 0 || string(title) != "...world" {
		t.Errorf("exit %d, title %q", code, title)
	}
	errs.Reset()
	if code := run(2, title, badReader{}, &errs); code != cli.ExitTemporary || !strings.Contains(errs.String(), "readproctitle: fatal: unable to read input: input/output error") {
		t.Errorf("read error: exit %d, %q", code, errs.String())
	}
}

type badReader struct{}

func (badReader) Read([]byte) (int, error) { return 0, syscall.EIO }

// TestExitCodesAsDaemontools: 100 without a long enough last argument, 0
// at the end of the input, 111 when the input cannot be read. daemontools
// says nothing in those cases; taikit explains the first and the last
// (doc/man8/readproctitle.8), so only the exit codes are compared there.
func TestExitCodesAsDaemontools(t *testing.T) {
	for _, c := range []struct {
		args  []string
		stdin string
		code  int
	}{
		{nil, "", 100}, {[]string{"...."}, "x", 100}, {[]string{"......", "1234"}, "x", 100},
		{[]string{"....."}, "", 0}, {[]string{"service", "errors:", "....................."}, "some error\n", 0},
	} {
		r := chaintest.Run{Name: "readproctitle", Args: c.args, Stdin: []byte(c.stdin)}
		theirs, ours := r.Theirs(t, ref), r.Ours(t)
		if theirs.Code != c.code || ours.Code != c.code || len(ours.Stdout) != 0 {
			t.Errorf("%q: exit %d (theirs %d), want %d; stdout %q", c.args, ours.Code, theirs.Code, c.code, ours.Stdout)
		}
		if c.code == 0 && len(ours.Stderr) != 0 {
			t.Errorf("%q: stderr %q", c.args, ours.Stderr)
		}
	}
	dir := t.TempDir()
	for _, path := range []string{ref, chaintest.SelfForAnyone(t)} {
		res := testref.Exec(t, []string{testref.BeCommand}, nil, "/bin/sh", "-c", `"$0" ...... < "$1"`, path, dir)
		if res.Code != cli.ExitTemporary {
			t.Errorf("%s reading a directory: exit %d, %q", path, res.Code, res.Stderr)
		}
	}
}

// TestTitleInProcCmdline feeds both programs the same input in pieces
// and compares their command lines as ps reads them, after each piece.
func TestTitleInProcCmdline(t *testing.T) {
	testref.Need(t, ref)
	pieces := []string{"abc", "defghijklmnopqrstuvwxyz0123456789", "\nsvscan: warning: unable to open x\n", "z"}
	args := []string{"service", "errors:", strings.Repeat(".", 40)}
	var titles [2][]string
	for i, path := range []string{ref, testref.Self(t)} {
		r := chaintest.Run{Name: "readproctitle", Args: args}
		cmd := r.Command(path)
		cmd.Stdin = nil
		w, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var sent string
		for _, p := range append([]string{""}, pieces...) {
			if _, err := w.Write([]byte(p)); err != nil {
				t.Fatal(err)
			}
			sent += p
			want := expectedTitle(sent, len(args[2]))
			titles[i] = append(titles[i], waitForTitle(t, cmd.Process.Pid, want))
		}
		w.Close()
		if err := cmd.Wait(); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	for j := range titles[0] {
		if titles[0][j] != titles[1][j] {
			t.Errorf("after piece %d: theirs %q, ours %q", j, titles[0][j], titles[1][j])
		}
	}
}

// expectedTitle is daemontools' title after input: three dots, then the
// last size-3 bytes, dots before the input if it is shorter.
func expectedTitle(input string, size int) string {
	window := strings.Repeat(".", size-3) + input
	return "..." + window[len(window)-(size-3):]
}

// waitForTitle reads the process's command line until its last argument
// is want (a program scrolls its title after reading), and returns the
// whole command line.
func waitForTitle(t *testing.T, pid int, want string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil {
			t.Fatal(err)
		}
		args := strings.Split(strings.TrimSuffix(string(raw), "\x00"), "\x00")
		if args[len(args)-1] == want {
			return string(raw)
		}
		if time.Now().After(deadline) {
			t.Fatalf("command line %q after 20 s; want the title %q", raw, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
