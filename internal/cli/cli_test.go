package cli

import (
	"strings"
	"syscall"
	"testing"

	"github.com/taikit/taikit/errtext"
)

func TestMessages(t *testing.T) {
	var w strings.Builder
	var x bool
	if code := Usage(&w, "p", "p [-x]", []Option{Bool('x', "ex", &x, "does x")}, &UsageError{"unknown option -y"}); code != ExitUsage {
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
