package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/taikit/taikit/internal/cli"
	"github.com/taikit/taikit/internal/testref"
	"github.com/taikit/taikit/supervise/chain/chaintest"
)

func TestMain(m *testing.M) { testref.TestMainOr(m, main) }

const ref = "/usr/bin/softlimit"

func TestUsage(t *testing.T) {
	for _, argv := range [][]string{{"softlimit"}, {"softlimit", "-o", "5"}, {"softlimit", "-o", "5x", "c"}, nil} {
		var errs bytes.Buffer
		if code := run(argv, nil, &errs); code != cli.ExitUsage || errs.String() != usage {
			t.Errorf("%q: exit %d, %q", argv, code, errs.String())
		}
	}
}

func TestSameMessagesAsDaemontools(t *testing.T) {
	for _, args := range [][]string{
		{}, {"-x"}, {"-x", "child"}, {"-o"}, {"-c", "1", "-o"}, {"-o", "5", "-x", "true"},
		{"-ox", "true"}, {"-o", "5x", "true"}, {"-o", "-5", "true"}, {"-o", "+5", "true"}, {"-o", " 5", "true"},
		{"-o", "5"}, {"-"}, {"--", "-o"}, {"--foo", "no-such-program"}, {"no-such-program"},
		{"-m", "=", "/nonexistent/program"}, {"/"},
	} {
		chaintest.Run{Name: "softlimit", Args: args}.Same(t, ref)
	}
	// getopt names the program by its last path component.
	chaintest.Run{Name: "/some/where/weird", Args: []string{"-q"}}.Same(t, ref)
}

// limitsAfter returns /proc/self/limits as a child of softlimit args sees
// it, under ours or theirs.
func limitsAfter(t *testing.T, ours bool, args ...string) string {
	r := chaintest.Run{Name: "softlimit", Args: append(args, "cat", "/proc/self/limits")}
	var res testref.Result
	if ours {
		res = r.Ours(t)
	} else {
		res = r.Theirs(t, ref)
	}
	if res.Code != 0 {
		t.Fatalf("softlimit %q: exit %d, %s", args, res.Code, res.Stderr)
	}
	return string(res.Stdout)
}

// TestSameLimits compares every limit the child gets, for each option
// alone, for all at once, for "=" and for values above the hard limit.
func TestSameLimits(t *testing.T) {
	testref.Need(t, ref)
	cases := [][]string{
		{"-a", "50000000"}, {"-c", "0"}, {"-d", "60000000"}, {"-f", "123456"}, {"-l", "65536"},
		{"-m", "70000000"}, {"-o", "50"}, {"-p", "300"}, {"-r", "80000000"}, {"-s", "1000000"}, {"-t", "30"},
		{"-o", "="}, {"-c", "="}, {"-o", "99999999999"}, {"-o", ""},
		{"-a500000001", "-c2", "-d400000003", "-f40004", "-l50005", "-m600000006", "-o77", "-p808", "-r90000009", "-s1000010", "-t111"},
		{"-m", "70000000", "-s", "=", "-o", "50", "-o", "60"},
	}
	for _, args := range cases {
		if args[len(args)-1] == "" { // -o "": the child cannot even run cat
			chaintest.Run{Name: "softlimit", Args: append(args, "cat", "/proc/self/limits")}.Same(t, ref)
			continue
		}
		theirs, ours := limitsAfter(t, false, args...), limitsAfter(t, true, args...)
		if ours != theirs {
			t.Errorf("softlimit %q:\n%s", args, testref.Diff(theirs, ours))
		}
	}
	// The control: the options did change something.
	if plain, limited := limitsAfter(t, true), limitsAfter(t, true, "-o", "50"); plain == limited {
		t.Error("-o 50 changed nothing")
	}
}

// TestEqualsRaisesToTheHardLimit starts both under a lowered soft limit
// and asks for "=".
func TestEqualsRaisesToTheHardLimit(t *testing.T) {
	testref.Need(t, ref)
	for _, self := range []string{ref, testref.Self(t)} {
		out := testref.Run(t, []string{testref.BeCommand}, nil, ref, "-o", "64", "-c", "0", self, "-o", "=", "-c", "=", "sh", "-c", "ulimit -Sn; ulimit -Hn; ulimit -Sc; ulimit -Hc")
		l := strings.Fields(string(out))
		if len(l) != 4 || l[0] != l[1] || l[2] != l[3] || l[0] == "64" {
			t.Errorf("%s: soft and hard limits %q", self, l)
		}
	}
}

// TestHugeValueMeansUnlimited: daemontools wraps a value above 2^64-1
// around (18446744073709551617 becomes 1); taikit takes it as unlimited,
// which the hard limit then caps (doc/man8/softlimit.8).
func TestHugeValueMeansUnlimited(t *testing.T) {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_CORE, &r); err != nil {
		t.Fatal(err)
	}
	out := limitsAfter(t, true, "-c", "18446744073709551617")
	want := "unlimited"
	if r.Max != ^uint64(0) {
		want = strconv.FormatUint(r.Max, 10)
	}
	if !strings.Contains(out, "Max core file size        "+padRight(want, 21)) {
		t.Errorf("core limit after 2^64+1, want soft %s:\n%s", want, out)
	}
}

func padRight(s string, n int) string { return s + strings.Repeat(" ", max(0, n-len(s))) }

// TestLimitsTakeEffect runs children that go over each limit, under both
// programs: the file is cut at the size limit, the open-files limit
// refuses a descriptor, the address-space limit refuses memory, the CPU
// limit stops a busy loop.
func TestLimitsTakeEffect(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-f", "1000", "sh", "-c", "trap '' XFSZ; head -c 5000 /dev/zero > big; wc -c < big"}, "1000\n"},
		{[]string{"-o", "5", "/usr/bin/python3", "-c", "import os, errno\nfds = []\ntry:\n while True: fds.append(os.open('/dev/null', os.O_RDONLY))\nexcept OSError as e:\n print(e.errno == errno.EMFILE, max(fds) < 5)"}, "True True\n"},
		{[]string{"-a", "200000000", "/usr/bin/python3", "-c", "import sys\ntry:\n bytearray(400*10**6)\nexcept MemoryError:\n print('refused')"}, "refused\n"},
		{[]string{"-m", "200000000", "/usr/bin/python3", "-c", "import sys\ntry:\n bytearray(400*10**6)\nexcept MemoryError:\n print('refused')"}, "refused\n"},
		{[]string{"-t", "1", "sh", "-c", "sh -c 'while :; do :; done'; kill -l $?"}, "XCPU\n"},
	} {
		if c.args[2] == "/usr/bin/python3" {
			if _, err := os.Stat("/usr/bin/python3"); err != nil {
				continue
			}
		}
		res := chaintest.Run{Name: "softlimit", Args: c.args, Dir: dir}.Same(t, ref)
		if string(res.Stdout) != c.want {
			t.Errorf("%q: stdout %q, want %q (stderr %q)", c.args, res.Stdout, c.want, res.Stderr)
		}
	}
	if st, err := os.Stat(filepath.Join(dir, "big")); err != nil || st.Size() != 1000 {
		t.Errorf("the file written under -f 1000: %v", err)
	}
}
