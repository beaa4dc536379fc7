package logread

import (
	"bytes"
	"io"

	"github.com/taikit/taikit/tai64n"
)

// searchSince finds where to start reading an uncompressed file of size
// bytes for lines stamped at or after since: a line start before which
// every stamped line is stamped before since. It bisects on the stamps of
// the lines, which are in order in a log file; lines without a stamp are
// passed over, as they belong to the stamp before them. The reader still
// checks every line after the start, so a file whose stamps are out of
// order costs more reading, not wrong output.
func searchSince(f io.ReaderAt, size int64, since tai64n.Label) int64 {
	var buf [4096]byte
	lo, hi := int64(0), size // stamped lines starting before lo are < since
	for hi-lo > 16<<10 {
		mid := lo + (hi-lo)/2
		start, end, stamp, ok := firstStampedLine(f, mid, hi, buf[:])
		switch {
		case !ok:
			hi = mid // no stamped line starts in [mid, hi) as far as we looked
		case stamp.Before(since):
			lo = end
		default:
			hi = start
			if hi < mid {
				hi = mid
			}
		}
	}
	return lo
}

// firstStampedLine finds the first line starting at or after pos (and
// before limit) that begins with a stamp; it returns where the line
// starts and ends. It looks through at most 64 KiB.
func firstStampedLine(f io.ReaderAt, pos, limit int64, buf []byte) (start, end int64, stamp tai64n.Label, ok bool) {
	// A line starts at pos if the byte before it is a newline.
	off := pos - 1
	atStart := pos == 0
	if atStart {
		off = 0
	}
	scanned := 0
	for scanned < 64<<10 && off < limit {
		n, err := f.ReadAt(buf, off)
		if n == 0 {
			return 0, 0, stamp, false
		}
		b := buf[:n]
		for len(b) > 0 {
			if !atStart {
				i := bytes.IndexByte(b, '\n')
				if i < 0 {
					break
				}
				b = b[i+1:]
				atStart = true
				continue
			}
			lineStart := off + int64(n-len(b))
			if lineStart >= limit {
				return 0, 0, stamp, false
			}
			if len(b) < stampLen && err == nil {
				break // read again from here for the whole stamp
			}
			st, ok := tai64n.ParsePrefix(b)
			i := bytes.IndexByte(b, '\n')
			if ok {
				e := lineStart + int64(len(b))
				if i >= 0 {
					e = lineStart + int64(i) + 1
				}
				return lineStart, e, st, true
			}
			if i < 0 {
				atStart = false
				break
			}
			b = b[i+1:]
		}
		consumed := n - len(b)
		if consumed == 0 {
			if err != nil {
				return 0, 0, stamp, false
			}
			consumed = n // a line start with too few bytes left: done above
		}
		off += int64(consumed)
		scanned += consumed
		if err != nil && len(b) == 0 {
			return 0, 0, stamp, false
		}
	}
	return 0, 0, stamp, false
}
