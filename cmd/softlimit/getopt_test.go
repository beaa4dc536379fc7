package main

import (
	"testing"

	"github.com/taikit/taikit/supervise/chain/chaintest"
)

// TestGetoptAsDaemontools: the command lines where taikit's softlimit
// once differed. A bad value ends the command line before an unknown
// option after it, as daemontools' softlimit checks each value as getopt
// returns it; an unknown letter is written as the byte it is, the first
// byte of a UTF-8 letter included.
func TestGetoptAsDaemontools(t *testing.T) {
	for _, args := range [][]string{
		{"-o", "5x", "-q", "true"}, {"-o5x", "-q"}, {"-c", "1", "-o", "=5", "-q", "true"}, {"-o", "5", "-q", "true"},
		{"-é", "true"}, {"-oé", "true"}, {"-o", "5", "-é"}, {"--", "-é"},
	} {
		chaintest.Run{Name: "softlimit", Args: args}.Same(t, ref)
	}
}
