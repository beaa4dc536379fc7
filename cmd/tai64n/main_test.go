package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/taikit/taikit/internal/cli"
	"github.com/taikit/taikit/internal/testref"
	"github.com/taikit/taikit/tai64n"
)

func TestMain(m *testing.M) { testref.TestMainOr(m, main) }

var stampRE = regexp.MustCompile(`@[0-9a-f]{24}`)

func TestLinesAndPartialLine(t *testing.T) {
	var out, errs bytes.Buffer
	clock := func() time.Time { return time.Unix(1700000000, 123456789) }
	code := run(nil, strings.NewReader("a\n\nb"), &out, &errs, clock)
	st := tai64n.FromUnix(1700000000, 123456789, tai64n.Daemontools).String()
	if code != 0 || out.String() != st+" a\n"+st+" \n"+st+" b" || errs.Len() != 0 {
		t.Fatalf("code %d out %q err %q", code, out.String(), errs.String())
	}
	out.Reset()
	run([]string{"--leap"}, strings.NewReader("x\n"), &out, &errs, clock)
	if want := tai64n.FromUnix(1700000000, 123456789, tai64n.LeapAware).String() + " x\n"; out.String() != want {
		t.Fatalf("-l: %q, want %q", out.String(), want)
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{{"-x"}, {"--nope"}, {"file"}} {
		var out, errs bytes.Buffer
		if code := run(args, strings.NewReader(""), &out, &errs, time.Now); code != cli.ExitUsage ||
			!strings.Contains(errs.String(), "tai64n: usage: tai64n [-l]") {
			t.Errorf("%q: code %d, stderr %q", args, code, errs.String())
		}
	}
	var out bytes.Buffer
	if code := run([]string{"-h"}, nil, &out, nil, time.Now); code != 0 || !strings.Contains(out.String(), "--leap") {
		t.Errorf("-h: code %d, %q", code, out.String())
	}
}

func TestWriteErrors(t *testing.T) {
	for _, c := range []struct{ shell, msg string }{
		{`echo hi | "$0" > /dev/full`, "tai64n: fatal: unable to write output: out of disk space\n"},
		{`"$0" < /`, "tai64n: fatal: unable to read input: is a directory\n"},
	} {
		res := testref.Exec(t, []string{testref.BeCommand}, nil, "/bin/sh", "-c", c.shell, testref.Self(t))
		if res.Code != cli.ExitTemporary || string(res.Stderr) != c.msg {
			t.Errorf("%s: exit %d, stderr %q; want 111, %q", c.shell, res.Code, res.Stderr, c.msg)
		}
	}
}

// TestAgainstReferences runs /usr/bin/tai64n (and s6-tai64n for -l) and ours on the same input:
// the text must be identical once stamps are masked, and the stamps must
// name the same second (±2 s for the time between the two runs).
func TestAgainstReferences(t *testing.T) {
	input := testref.MixedLines(2000, 7) + "partial last line"
	for _, ref := range []struct {
		path string
		args []string
		conv tai64n.Convention
	}{
		{"/usr/bin/tai64n", nil, tai64n.Daemontools},
		{"/usr/bin/s6-tai64n", []string{"-l"}, tai64n.LeapAware},
	} {
		testref.Need(t, ref.path)
		theirs := testref.Run(t, nil, []byte(input), ref.path)
		ours := runOurs(t, ref.args, input)
		if ref.path == "/usr/bin/s6-tai64n" {
			// s6-tai64n adds a newline to a partial last line; daemontools
			// and taikit do not.
			theirs = bytes.TrimSuffix(theirs, []byte("\n"))
		}
		if a, b := stampRE.ReplaceAll(ours, []byte("@")), stampRE.ReplaceAll(theirs, []byte("@")); !bytes.Equal(a, b) {
			t.Fatalf("%s: masked output differs:\n%s", ref.path, testref.Diff(string(b), string(a)))
		}
		now := time.Now()
		for _, s := range [][]byte{stampRE.Find(ours), stampRE.Find(theirs)} {
			l, err := tai64n.Parse(s)
			if err != nil {
				t.Fatal(err)
			}
			if d := l.Time(ref.conv).Sub(now); d < -2*time.Second || d > 2*time.Second {
				t.Errorf("%s: stamp %s is %v from now in the %v convention", ref.path, s, d, ref.conv)
			}
		}
	}
}

func runOurs(t *testing.T, args []string, input string) []byte {
	t.Helper()
	var out, errs bytes.Buffer
	if code := run(args, strings.NewReader(input), &out, &errs, time.Now); code != 0 {
		t.Fatalf("tai64n %q: exit %d: %s", args, code, errs.String())
	}
	return out.Bytes()
}

func TestBrokenPipe(t *testing.T) {
	// The reader went away (`tai64n … | head`): exit 111, and no message,
	// since the user closed the pipe on purpose.
	self := testref.Self(t)
	in := []byte(strings.Repeat("@400000000000000a00000000 line\n", 100000))
	res := testref.ExecBrokenPipe(t, []string{testref.BeCommand, "TZ=UTC"}, in, self)
	if res.Code != cli.ExitTemporary || len(res.Stderr) != 0 {
		t.Fatalf("exit %d, stderr %q; want 111 and nothing", res.Code, res.Stderr)
	}
}
