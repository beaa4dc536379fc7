package main

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/taikit/taikit/internal/testref"
)

// TestGetoptAsDaemontools: the command lines where taikit's svc once
// differed from daemontools'. A word starting with "--" ends the options
// and is dropped, as "--" is; an unknown letter is written as the byte it
// is (here the first of é's two).
func TestGetoptAsDaemontools(t *testing.T) {
	testref.Need(t, "/usr/bin/svc")
	missing := filepath.Join(t.TempDir(), "missing")
	for _, args := range [][]string{
		{"--foo", missing}, {"-u", "--foo", missing, "-d"}, {"--foo"}, {"-é"}, {"-ué", missing},
	} {
		theirs := testref.Exec(t, nil, nil, "/usr/bin/svc", args...)
		var stderr bytes.Buffer
		code := run(args, &stderr)
		if code != theirs.Code || stderr.String() != string(theirs.Stderr) {
			t.Errorf("%q:\nours   exit %d %q\ntheirs exit %d %q", args, code, stderr.String(), theirs.Code, theirs.Stderr)
		}
	}
}
