package conformance

import (
	"bytes"
	"fmt"
)

// CutMargin is the s−2000 of taikit's size contract (spec §8.4 as amended
// by §18.2), written out here rather than taken from the code under test.
const CutMargin = 2000

// Cuts splits input into the files taikit's cut rule closes: a file ends
// after its first line end at or after s−2000 bytes, or at exactly s bytes
// inside a longer line. It returns the closed files in order and what is
// left in current. The rule does not depend on how the input was chunked
// (daemontools' does), so this is what any taikit directory must hold.
func Cuts(input []byte, s int) (files [][]byte, current []byte) {
	start := 0
	for i, b := range input {
		if n := i + 1 - start; (b == '\n' && n >= s-CutMargin) || n == s {
			files = append(files, input[start:i+1])
			start = i + 1
		}
	}
	return files, input[start:]
}

// CheckCut checks the size contract on one closed file: at most s bytes,
// ending at its first line end at or after s−2000 bytes, or at exactly s
// bytes when it has no line end there.
func CheckCut(f []byte, s int) error {
	if len(f) > s {
		return fmt.Errorf("%d bytes, more than s=%d", len(f), s)
	}
	from := s - CutMargin - 1 // a line end here or later makes the file s−2000 bytes or more
	if from < len(f) {
		if i := bytes.IndexByte(f[from:], '\n'); i >= 0 {
			if end := from + i + 1; end != len(f) {
				return fmt.Errorf("%d bytes; its first line end at or after %d bytes ends it at %d", len(f), s-CutMargin, end)
			}
			return nil
		}
	}
	if len(f) != s {
		return fmt.Errorf("%d bytes without a line end at or after %d bytes: it should have been continued to %d or to a line end", len(f), s-CutMargin, s)
	}
	return nil
}
