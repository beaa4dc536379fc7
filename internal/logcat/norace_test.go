//go:build !race

package logcat

const raceEnabled = false
