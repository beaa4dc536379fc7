package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/taikit/taikit/internal/testref"
)

// TestHelp: -h and --help, before or after the verb, print the usage on
// standard output and exit 0, for svctl and for each alias as `go install
// ./cmd/...` installs it.
func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"--help"}, {"start", "-h"}, {"-q", "--help", "x"}} {
		code, out, errs := svctl(t, "svctl", args...)
		if code != 0 || errs != "" || !strings.HasPrefix(out, "svctl: usage: svctl [ -akq ]") || !strings.Contains(out, "  -h, --help ") {
			t.Errorf("svctl %q: exit %d, stdout %q, stderr %q", args, code, out, errs)
		}
	}
	bin := t.TempDir()
	aliases := []string{"svcstart", "svcstop", "svcreset", "svcrestart"}
	if err := testref.BuildCommands(bin, aliases...); err != nil {
		t.Fatal(err)
	}
	for _, name := range aliases {
		r := testref.Exec(t, nil, nil, filepath.Join(bin, name), "--help")
		want := name + ": usage: " + name + " [ -akq ] [ -w secs ] [ -j jobs ] dir ...\n"
		if r.Code != 0 || len(r.Stderr) != 0 || !strings.HasPrefix(string(r.Stdout), want) {
			t.Errorf("%s --help: exit %d, stdout %q, stderr %q", name, r.Code, r.Stdout, r.Stderr)
		}
		// Without a directory it is a usage error, worded with its own name.
		r = testref.Exec(t, nil, nil, filepath.Join(bin, name))
		if r.Code != 100 || !strings.HasPrefix(string(r.Stderr), want) {
			t.Errorf("%s: exit %d, stderr %q", name, r.Code, r.Stderr)
		}
	}
}
