package cli

import (
	"errors"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/taikit/taikit/errtext"
)

func TestParse(t *testing.T) {
	var a, b, c bool
	flags := []Flag{{'a', "alpha", &a, ""}, {'b', "beta", &b, ""}, {'c', "gamma", &c, ""}}
	cases := []struct {
		args    []string
		ops     []string
		a, b, c bool
		bad     bool
	}{
		{[]string{"-ab", "x"}, []string{"x"}, true, true, false, false},
		{[]string{"--gamma", "-", "-a"}, []string{"-", "-a"}, false, false, true, false},
		{[]string{"-a", "--", "-b"}, []string{"-b"}, true, false, false, false},
		{[]string{}, nil, false, false, false, false},
		{[]string{"-z"}, nil, false, false, false, true},
		{[]string{"--zeta"}, nil, false, false, false, true},
	}
	for _, k := range cases {
		a, b, c = false, false, false
		ops, err := Parse(flags, k.args)
		var ue *UsageError
		if k.bad != (err != nil) || (err != nil && !errors.As(err, &ue)) {
			t.Errorf("Parse(%q) error = %v", k.args, err)
			continue
		}
		if !slices.Equal(ops, k.ops) || a != k.a || b != k.b || c != k.c {
			t.Errorf("Parse(%q) = %q a=%v b=%v c=%v", k.args, ops, a, b, c)
		}
	}
}

func TestMessages(t *testing.T) {
	var w strings.Builder
	var x bool
	if code := Usage(&w, "p", "p [-x]", []Flag{{'x', "ex", &x, "does x"}}, &UsageError{"unknown option -y"}); code != ExitUsage {
		t.Fatal(code)
	}
	if code := Fatal(&w, "p", "unable to read f", "is a directory"); code != ExitTemporary {
		t.Fatal(code)
	}
	Warn(&w, "p", "unable to open g", "file does not exist")
	if code := FatalErr(&w, "p", &errtext.Error{Op: "unable to lock", Path: "./lk", Err: syscall.EAGAIN}); code != ExitTemporary {
		t.Fatal(code)
	}
	want := "p: fatal: unknown option -y\np: usage: p [-x]\n  -x, --ex         does x\n" +
		"p: fatal: unable to read f: is a directory\np: warning: unable to open g: file does not exist\n" +
		"p: fatal: unable to lock ./lk: temporary failure\n"
	if w.String() != want {
		t.Fatalf("got %q\nwant %q", w.String(), want)
	}
}
