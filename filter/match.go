package filter

import "bytes"

// Match reports whether line matches pattern as daemontools' multilog
// matches it (match.c): the whole line, byte for byte; '*' at the end of
// the pattern matches any rest; '*' followed by a byte c skips to the first
// following c in line, without backtracking; every other byte is literal.
// See the package documentation for examples.
//
// match.c reads the pattern as a C string, ending at its first NUL; Match
// takes every byte of pattern, NUL included, as a literal. A pattern from a
// command line cannot hold a NUL, so the difference cannot be seen there.
//
// Match does not allocate and does not keep pattern or line.
func Match(pattern, line []byte) bool {
	for len(pattern) > 0 {
		c := pattern[0]
		pattern = pattern[1:]
		if c != '*' {
			if len(line) == 0 || line[0] != c {
				return false
			}
			line = line[1:]
			continue
		}
		if len(pattern) == 0 {
			return true
		}
		// Skip to the first occurrence of the byte after the star, which
		// is then matched by the next round (as a literal, or as a star
		// again in "**").
		i := bytes.IndexByte(line, pattern[0])
		if i < 0 {
			return false
		}
		line = line[i:]
	}
	return len(line) == 0
}

// advance matches pattern, which must not end with '*', against window
// from pos on, without requiring the window to end there, and returns
// where the pattern ends in the window, or -1. Matching is deterministic
// (a star skips to the first occurrence of the byte after it), so two
// patterns that begin with the same bytes reach the same place.
func advance(pattern, window []byte, pos int) int {
	for len(pattern) > 0 {
		c := pattern[0]
		pattern = pattern[1:]
		if c != '*' {
			if pos == len(window) || window[pos] != c {
				return -1
			}
			pos++
			continue
		}
		i := bytes.IndexByte(window[pos:], pattern[0])
		if i < 0 {
			return -1
		}
		pos += i
	}
	return pos
}
