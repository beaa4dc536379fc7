package rotate

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/taikit/taikit/tai64n"
)

// dropRecord is what the Lossy policy dropped and has not yet recorded.
type dropRecord struct {
	bytes, lines int64
	from         tai64n.Label // when dropping began
	marker       []byte       // a marker line not yet wholly written
	// what the marker being written says, for the warning once it is
	toldBytes, toldLines int64
}

func (r *dropRecord) pending() bool { return r.bytes > 0 || len(r.marker) > 0 }

// drop discards p, counting it.
func (d *Dir) drop(p []byte) {
	if len(p) == 0 {
		return
	}
	if d.dropped.bytes == 0 {
		d.dropped.from = tai64n.FromTime(d.opts.Clock(), tai64n.Daemontools)
		if len(d.dropped.marker) == 0 {
			d.opts.Warn("unable to write to " + d.opts.Name + "/current: out of disk space; dropping what does not fit until there is room, and the log will say how much")
		}
	}
	lines := int64(bytes.Count(p, []byte{'\n'}))
	d.dropped.bytes += int64(len(p))
	d.dropped.lines += lines
	d.stats.droppedBytes.Add(int64(len(p)))
	d.stats.droppedLines.Add(lines)
}

// writeDropMarker records in the log, on a line of its own, what was
// dropped: "@<stamp> <program>: lost N bytes (M line ends) to a full disk
// since this time". It keeps to the size rules like any other line. If
// the disk is still full the marker stays pending and new data is dropped
// behind it; a marker written in part is finished first next time.
func (d *Dir) writeDropMarker() error {
	for d.dropped.pending() {
		if len(d.dropped.marker) == 0 {
			var body []byte
			body = d.dropped.from.Append(body)
			body = append(body, ' ')
			body = append(body, filepath.Base(os.Args[0])...)
			body = append(body, ": lost "...)
			body = strconv.AppendInt(body, d.dropped.bytes, 10)
			body = append(body, " bytes ("...)
			body = strconv.AppendInt(body, d.dropped.lines, 10)
			body = append(body, " line ends) to a full disk since this time\n"...)
			midLine := !d.lineEnd // what was written before the drop ended inside a line
			if d.size+int64(len(body))+1 > d.opts.MaxSize {
				if err := d.rotateLocked(); err != nil {
					return err
				}
				midLine = false
			}
			if midLine && d.size > 0 {
				body = append([]byte{'\n'}, body...)
			}
			d.dropped.marker = body
		}
		fresh := d.dropped.bytes > 0 && len(d.dropped.marker) > 0 && !d.markerStarted
		// The marker obeys the cut rule like any data: the newline that
		// ends a broken line may itself be the line end that ends the file.
		piece, cut := d.dropped.marker, false
		if from := max(0, d.opts.MaxSize-cutMargin-d.size-1); from < int64(len(piece)) {
			if i := bytes.IndexByte(piece[from:], '\n'); i >= 0 {
				piece, cut = piece[:from+int64(i)+1], true
			}
		}
		if d.opts.Track != nil {
			d.opts.Track(0, 0) // the marker is not Write's data
		}
		n, err := d.write(piece)
		if d.opts.Track != nil {
			d.opts.Track(d.currentIno(), d.size)
		}
		if n > 0 && fresh {
			// From here this marker speaks for these counts; later drops
			// get a marker of their own.
			d.dropped.toldBytes, d.dropped.toldLines = d.dropped.bytes, d.dropped.lines
			d.dropped.bytes, d.dropped.lines, d.markerStarted = 0, 0, true
		}
		d.dropped.marker = d.dropped.marker[n:]
		if len(d.dropped.marker) == 0 {
			if d.markerStarted {
				d.opts.Warn("writing to " + d.opts.Name + " again: lost " + strconv.FormatInt(d.dropped.toldBytes, 10) +
					" bytes (" + strconv.FormatInt(d.dropped.toldLines, 10) + " line ends) to a full disk, as the marker line there says")
			}
			d.markerStarted = false
		} else if !d.markerStarted {
			// Not a byte written: rebuild it next time with what is
			// dropped meanwhile, so that one marker tells the whole loss.
			d.dropped.marker = nil
		}
		switch {
		case err == nil:
			if cut {
				if err := d.rotateLocked(); err != nil {
					return err
				}
			}
		case errors.Is(err, syscall.ENOSPC):
			if !d.makeRoom() {
				return nil // still full: new data is dropped behind the marker
			}
		default:
			d.warnPause("unable to write to "+d.opts.Name+"/current", err)
			if !d.sleep() {
				return ErrInterrupted
			}
		}
	}
	return nil
}
