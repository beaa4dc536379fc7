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

// skipMemo remembers, for one window, where the skips of a star landed:
// scripts of several patterns mostly begin alike ("* * ..." eats the stamp
// and the program name), so the same skip from the same place recurs for
// every pattern of a line. It must be reset for each window.
type skipMemo struct {
	n    int
	from [8]int32
	c    [8]byte
	at   [8]int32
}

func (m *skipMemo) reset() { m.n = 0 }

// index is bytes.IndexByte(window[from:], c) + from, or -1, remembered.
func (m *skipMemo) index(window []byte, from int, c byte) int {
	for i := 0; i < m.n; i++ {
		if int(m.from[i]) == from && m.c[i] == c {
			return int(m.at[i])
		}
	}
	at := bytes.IndexByte(window[from:], c)
	if at >= 0 {
		at += from
	}
	if m.n < len(m.from) {
		m.from[m.n], m.c[m.n], m.at[m.n] = int32(from), c, int32(at)
		m.n++
	}
	return at
}

// matchMemo is Match over a whole window with skips looked up in m; it
// gives the same answers.
func matchMemo(pattern, window []byte, m *skipMemo) bool {
	pos := 0
	for len(pattern) > 0 {
		c := pattern[0]
		pattern = pattern[1:]
		if c != '*' {
			if pos == len(window) || window[pos] != c {
				return false
			}
			pos++
			continue
		}
		if len(pattern) == 0 {
			return true
		}
		i := m.index(window, pos, pattern[0])
		if i < 0 {
			return false
		}
		pos = i
	}
	return pos == len(window)
}
