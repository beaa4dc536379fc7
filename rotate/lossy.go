package rotate

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"

	"github.com/taikit/taikit/tai64n"
)

// dropRecord is what the Lossy policy dropped since the last marker.
type dropRecord struct {
	bytes, lines int64
	from         tai64n.Label // when dropping began
	midLine      bool         // the last byte written before the drop was not a newline
}

// drop discards p, counting it.
func (d *Dir) drop(p []byte) {
	if d.dropped.bytes == 0 {
		d.dropped.from = tai64n.FromTime(d.opts.Clock(), tai64n.Daemontools)
		d.dropped.midLine = !d.lineEnd
	}
	lines := int64(bytes.Count(p, []byte{'\n'}))
	d.dropped.bytes += int64(len(p))
	d.dropped.lines += lines
	d.stats.droppedBytes.Add(int64(len(p)))
	d.stats.droppedLines.Add(lines)
}

// writeDropMarker records in the log what was dropped, on a line of its
// own, once the disk takes data again. It reports whether it could.
func (d *Dir) writeDropMarker() bool {
	var m []byte
	if d.dropped.midLine {
		m = append(m, '\n')
	}
	m = d.dropped.from.Append(m)
	m = append(m, ' ')
	m = append(m, filepath.Base(os.Args[0])...)
	m = append(m, ": lost "...)
	m = strconv.AppendInt(m, d.dropped.bytes, 10)
	m = append(m, " bytes ("...)
	m = strconv.AppendInt(m, d.dropped.lines, 10)
	m = append(m, " line ends) to a full disk since this time\n"...)
	if d.size+int64(len(m)) > d.opts.MaxSize {
		// Never break the size contract for the marker: start a new file.
		d.rotateLocked()
	}
	if _, err := d.write(m); err != nil {
		return false
	}
	d.dropped = dropRecord{}
	return true
}
