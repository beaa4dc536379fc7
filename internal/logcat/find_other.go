//go:build !amd64

package logcat

const hasPairSearch = false

func indexPair(h []byte, i1, i2 int, c1, c2 byte) (pos, next int) { return -1, 0 }
