package main

import (
	"testing"

	"github.com/taikit/taikit/supervise/chain/chaintest"
)

// TestGetoptAsDaemontools: an unknown letter is written as the byte it is
// (here the first of é's two), and a word starting with "--" ends the
// options and is dropped.
func TestGetoptAsDaemontools(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"-é", "lk", "true"}, {"-nxé", "lk", "true"}, {"--nope", "lk", "sh", "-c", "echo ran"}, {"-n", "--nope", "-x"},
	} {
		chaintest.Run{Name: "setlock", Args: args, Dir: dir}.Same(t, ref)
	}
}
