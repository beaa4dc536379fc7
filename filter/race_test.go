//go:build race

package filter_test

// raceEnabled: the race detector makes sync.Pool drop items at random, so
// the glob matcher's pooled state is sometimes made anew.
const raceEnabled = true
