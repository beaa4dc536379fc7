package logcat

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/taikit/taikit/tai64n"
)

// Rate asks for counts over time instead of lines: the number of selected
// lines in each interval of the range read, a row per interval, empty ones
// included, so that an incident shows as a tall bar among short ones.
type Rate struct {
	// Interval is the length of each row, aligned to multiples of it since
	// 1970-01-01 00:00 UTC.
	Interval time.Duration
	// Width is the width of the table, bar included, in columns.
	Width int
}

// MaxRows is the most rows a Rate has: an interval far shorter than the
// range would otherwise take memory without end.
const MaxRows = 1 << 20

// RateRow is one interval and how many selected lines it holds.
type RateRow struct {
	Start tai64n.Label // its first instant
	Count int64
}

// rateCounter counts selected lines per interval for a Pipeline.
type rateCounter struct {
	Rate
	conv tai64n.Convention
	// counts[i] is that of interval base+i, intervals numbered from
	// 1970-01-01 UTC.
	base   int64
	counts []int64
	// lo and hi are the first and last intervals shown: those of the
	// first and last lines read, or of the time range given.
	lo, hi       int64
	hasLo, hasHi bool
	fixLo, fixHi bool // set by the time range: lines do not move them
	started      bool // the first line read has been looked for
	err          error

	// Live: rows are written as their intervals close.
	next    int64 // the first interval not written yet
	nextSet bool
	max     int64 // the largest count written so far: the bars' scale
}

// interval returns the number of the interval l is in.
func (r *rateCounter) interval(l tai64n.Label) int64 {
	sec, _ := l.Unix(r.conv)
	ns := sec*1e9 + int64(l.Nano)
	iv := int64(r.Interval)
	q := ns / iv
	if ns%iv < 0 {
		q-- // floor, for instants before 1970
	}
	return q
}

// start returns the first instant of interval i.
func (r *rateCounter) start(i int64) tai64n.Label {
	ns := i * int64(r.Interval)
	sec, nano := ns/1e9, ns%1e9
	if nano < 0 {
		sec, nano = sec-1, nano+1e9
	}
	return tai64n.FromUnix(sec, uint32(nano), r.conv)
}

// seen extends the range shown to the interval of a line read.
func (r *rateCounter) seen(l tai64n.Label) {
	i := r.interval(l)
	if !r.fixLo && (!r.hasLo || i < r.lo) {
		r.lo, r.hasLo = i, true
	}
	if !r.fixHi && (!r.hasHi || i > r.hi) {
		r.hi, r.hasHi = i, true
	}
}

// add counts a selected line stamped l.
func (r *rateCounter) add(l tai64n.Label) {
	if r.err != nil {
		return
	}
	r.seen(l)
	i := r.interval(l)
	switch {
	case len(r.counts) == 0:
		r.base = i
		r.counts = append(r.counts, 0)
	case i < r.base:
		if r.base-i+int64(len(r.counts)) > MaxRows {
			r.err = r.tooMany()
			return
		}
		grown := make([]int64, r.base-i+int64(len(r.counts)))
		copy(grown[r.base-i:], r.counts)
		r.counts, r.base = grown, i
	case i-r.base >= int64(len(r.counts)):
		if i-r.base+1 > MaxRows {
			r.err = r.tooMany()
			return
		}
		r.counts = append(r.counts, make([]int64, i-r.base+1-int64(len(r.counts)))...)
	}
	r.counts[i-r.base]++
}

func (r *rateCounter) tooMany() error {
	return fmt.Errorf("more than %d intervals of %s: choose a longer --interval, or a shorter time range (-S, -U)", MaxRows, r.Interval)
}

// count returns the count of interval i.
func (r *rateCounter) count(i int64) int64 {
	if j := i - r.base; j >= 0 && j < int64(len(r.counts)) {
		return r.counts[j]
	}
	return 0
}

// Rows returns the rows of the range read, from its first interval to its
// last; none when no stamped line was read and no range was given.
func (r *rateCounter) Rows() ([]RateRow, error) {
	if r.err != nil {
		return nil, r.err
	}
	if !r.hasLo || !r.hasHi || r.hi < r.lo {
		return nil, nil
	}
	if r.hi-r.lo+1 > MaxRows {
		return nil, r.tooMany()
	}
	rows := make([]RateRow, 0, r.hi-r.lo+1)
	for i := r.lo; i <= r.hi; i++ {
		rows = append(rows, RateRow{Start: r.start(i), Count: r.count(i)})
	}
	return rows, nil
}

// rateWriter writes rows as a table or JSON.
type rateWriter struct {
	format   Format
	interval time.Duration
	times    *tai64n.Formatter // the time column, or JSON's time
	width    int
	color    bool
}

func newRateWriter(q Query) *rateWriter {
	w := &rateWriter{format: q.Format, interval: q.Rate.Interval, width: q.Rate.Width, color: q.Color}
	layout := tai64n.LayoutTAI64NLocal
	if q.Format == FormatRFC3339 || q.Format == FormatJSON {
		layout = tai64n.LayoutRFC3339
	}
	w.times = tai64n.NewFormatter(q.Zone, q.Convention, layout)
	return w
}

// appendTime appends when an interval starts: as tai64nlocal writes it (or
// RFC 3339 with -r), without the fraction when the interval is whole
// seconds. A time the layout cannot show is the stamp.
func (w *rateWriter) appendTime(dst []byte, l tai64n.Label) []byte {
	n := len(dst)
	out, ok := w.times.Append(dst, l)
	if !ok {
		return l.Append(dst)
	}
	if w.interval%time.Second == 0 {
		if dot := bytes.IndexByte(out[n:], '.'); dot >= 0 {
			frac := n + dot
			end := frac + 10 // ".123456789"
			out = append(out[:frac], out[end:]...)
		}
	}
	return out
}

// barLen is the length of a count's bar: scaled so that the largest count
// fills width, rounded up so that any line at all shows.
func barLen(count, max int64, width int) int {
	if count <= 0 || max <= 0 {
		return 0
	}
	return int((count*int64(width) + max - 1) / max)
}

// barWidth is how many columns the bars get in a table width wide whose
// time column is timeW and count column countW: the rest, one space after
// each, and at least 10.
func barWidth(width, timeW, countW int) int {
	return max(width-timeW-1-countW-1, 10)
}

// appendRows writes rows: a table, a bar per row scaled to max and the
// count column countW wide; or JSON lines.
func (w *rateWriter) appendRows(dst []byte, rows []RateRow, max int64, countW int) []byte {
	var t []byte
	for _, row := range rows {
		if w.format == FormatJSON {
			dst = append(dst, `{"time":`...)
			n := len(dst)
			dst = append(dst, '"')
			if out, ok := w.times.Append(dst, row.Start); ok {
				dst = append(out, '"')
			} else {
				dst = append(dst[:n], "null"...)
			}
			dst = append(dst, `,"tai64n":"`...)
			dst = row.Start.Append(dst)
			dst = append(dst, `","seconds":`...)
			dst = strconv.AppendFloat(dst, w.interval.Seconds(), 'f', -1, 64)
			dst = append(dst, `,"count":`...)
			dst = strconv.AppendInt(dst, row.Count, 10)
			dst = append(dst, "}\n"...)
			continue
		}
		t = w.appendTime(t[:0], row.Start)
		if w.color {
			dst = append(dst, sgrStamp...)
		}
		dst = append(dst, t...)
		if w.color {
			dst = append(dst, sgrReset...)
		}
		dst = append(dst, ' ')
		c := strconv.AppendInt(nil, row.Count, 10)
		for range countW - len(c) {
			dst = append(dst, ' ')
		}
		dst = append(dst, c...)
		bar := barLen(row.Count, max, barWidth(w.width, len(t), countW))
		if bar > 0 {
			dst = append(dst, ' ')
			for range bar {
				dst = append(dst, '#')
			}
		}
		dst = append(dst, '\n')
	}
	return dst
}

// TimeText returns when an interval starts, as the table writes it.
func (p *Pipeline) TimeText(l tai64n.Label) string { return string(p.rw.appendTime(nil, l)) }

// flushRate writes the whole table (or what live output left), once the
// input has ended.
func (p *Pipeline) flushRate() {
	r := p.rate
	if r.nextSet {
		// Live: the rows not written yet, the interval still open last.
		p.liveRows(r.hi + 1)
		return
	}
	rows, err := r.Rows()
	if err != nil {
		p.err = err
		return
	}
	var maxCount int64
	for _, row := range rows {
		maxCount = max(maxCount, row.Count)
	}
	countW := len(strconv.FormatInt(maxCount, 10))
	p.out = p.rw.appendRows(p.out, rows, maxCount, countW)
}

// liveRows writes the rows of the intervals before until that are not
// written yet: they are closed. The bars are scaled to the largest count
// written so far, and the count column is as wide as needs be.
func (p *Pipeline) liveRows(until int64) {
	r := p.rate
	if !r.hasLo {
		return
	}
	if !r.nextSet {
		r.next, r.nextSet = r.lo, true
	}
	if until-r.next > MaxRows {
		p.err = r.tooMany()
		return
	}
	for ; r.next < until; r.next++ {
		row := RateRow{Start: r.start(r.next), Count: r.count(r.next)}
		r.max = max(r.max, row.Count)
		p.out = p.rw.appendRows(p.out, []RateRow{row}, r.max, len(strconv.FormatInt(row.Count, 10)))
	}
	// Counts written are not needed any more.
	if j := r.next - r.base; j > 0 {
		r.counts = r.counts[min(j, int64(len(r.counts))):]
		r.base = r.next
	}
}

// RateRows returns the rows of counts over time read so far (Query.Rate),
// for a chart once the input has ended.
func (p *Pipeline) RateRows() ([]RateRow, error) {
	if p.rate == nil {
		return nil, errors.New("not counting over time")
	}
	return p.rate.Rows()
}

// WriteSVG writes rows as a bar chart in SVG, a file a browser shows: a
// bar per interval, the largest count and the first and last times on the
// axes, title as its title.
func WriteSVG(w io.Writer, rows []RateRow, interval time.Duration, title string, timeText func(tai64n.Label) string) error {
	const (
		width, height = 960, 360
		left, right   = 60, 20
		top, bottom   = 40, 50
	)
	var b bytes.Buffer
	var maxCount int64
	for _, r := range rows {
		maxCount = max(maxCount, r.Count)
	}
	plotW, plotH := float64(width-left-right), float64(height-top-bottom)
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">
<title>%s</title>
<rect x="0" y="0" width="%d" height="%d" fill="white"/>
<text x="%d" y="24" font-size="14">%s</text>
`, width, height, width, height, xmlText(title), width, height, left, xmlText(title))
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>
<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>
<text x="%d" y="%d" text-anchor="end">%d</text>
<text x="%d" y="%d" text-anchor="end">0</text>
`, left, top, left, height-bottom, left, height-bottom, width-right, height-bottom,
		left-6, top+4, maxCount, left-6, height-bottom+4)
	slot := plotW / float64(max(len(rows), 1))
	for i, r := range rows {
		h := 0.0
		if maxCount > 0 {
			h = plotH * float64(r.Count) / float64(maxCount)
		}
		fmt.Fprintf(&b, `<rect class="bar" x="%.2f" y="%.2f" width="%.2f" height="%.2f" fill="steelblue"><title>%s %d</title></rect>
`, float64(left)+float64(i)*slot, float64(height-bottom)-h, max(slot*0.9, 0.5), h, xmlText(timeText(r.Start)), r.Count)
	}
	if len(rows) > 0 {
		fmt.Fprintf(&b, `<text x="%d" y="%d">%s</text>
<text x="%d" y="%d" text-anchor="end">%s</text>
`, left, height-bottom+20, xmlText(timeText(rows[0].Start)),
			width-right, height-bottom+20, xmlText(timeText(rows[len(rows)-1].Start)))
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">lines per %s</text>
</svg>
`, left+int(plotW/2), height-12, interval)
	_, err := w.Write(b.Bytes())
	return err
}

// xmlText escapes s for XML text and attribute values.
func xmlText(s string) string {
	var b bytes.Buffer
	xml.EscapeText(&b, []byte(s)) // writes to a bytes.Buffer: no error
	return b.String()
}
