package logcat

import "golang.org/x/sys/cpu"

// hasPairSearch says whether indexPair runs on vectors here.
var hasPairSearch = cpu.X86.HasAVX2

//go:noescape
func indexPairAVX2(h []byte, i1, i2 int, c1, c2 byte) (pos, next int)

func indexPair(h []byte, i1, i2 int, c1, c2 byte) (pos, next int) {
	return indexPairAVX2(h, i1, i2, c1, c2)
}
