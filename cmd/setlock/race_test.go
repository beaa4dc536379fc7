//go:build race

package main

// The race detector's runtime keeps descriptors of its own open across
// exec, so the child's descriptor list differs from daemontools' under
// -race only.
const raceEnabled = true
