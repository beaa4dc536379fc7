package logcat

import (
	"github.com/taikit/taikit/internal/jsontext"
	"github.com/taikit/taikit/tai64n"
)

// stampOf returns the label of the TAI64N stamp that starts line: "@" and
// 24 hex digits, as multilog, s6-log and svlogd write them.
func stampOf(line []byte) (tai64n.Label, bool) {
	if len(line) < tai64n.StampLen || line[0] != '@' {
		return tai64n.Label{}, false
	}
	return tai64n.ParsePrefix(line)
}

// The colours, as grep's defaults (GREP_COLORS): a stamp as a line
// number, a label as a file name, marks and "--" as separators, matches
// in bold red.
const (
	sgrStamp = "\x1b[32m"
	sgrLabel = "\x1b[35m"
	sgrSep   = "\x1b[36m"
	sgrMatch = "\x1b[01;31m"
	sgrReset = "\x1b[m"
)

// writer appends selected lines to a buffer in one output format.
type writer struct {
	format Format
	times  *tai64n.Formatter // nil for FormatRaw
	// color: text with colours, matches of sel shown in selected lines.
	color   bool
	sel     *Selector
	matches [][2]int // reused
	// show: the fields written instead of the text (Query.Show).
	show            []string
	shown, fieldBuf []byte // reused
}

func newWriter(format Format, zone tai64n.Zone, c tai64n.Convention) *writer {
	// Room for decoding a field's value: without it every quoted value
	// shown would allocate.
	w := &writer{format: format, fieldBuf: make([]byte, 0, 4096)}
	switch format {
	case FormatTAI64N:
		w.times = tai64n.NewFormatter(zone, c, tai64n.LayoutTAI64NLocal)
	case FormatRFC3339, FormatJSON:
		w.times = tai64n.NewFormatter(zone, c, tai64n.LayoutRFC3339)
	}
	return w
}

// append appends line (without its newline) in the writer's format; nl says
// whether the line ended with a newline (only a last line without one, or a
// piece of a very long line, does not). label is the line's own stamp when
// stamped is true. pre is what goes before the line: its label and mark
// in text, its label and context fields (each with its comma) in JSON.
//
// In text, a line that starts with a stamp and a space has its label after
// them ("@4000… web: GET /"), so that tai64nlocal, which converts only a
// stamp at the start of a line, still converts the output of a labelled
// merge; a line without one has it first.
//
// selected says that the line is a selected one, not context: with
// colour, what the regular expressions match in it is shown.
func (w *writer) append(dst, pre, line []byte, label tai64n.Label, stamped, nl, selected bool) []byte {
	if w.format == FormatJSON {
		return w.appendJSON(dst, pre, line, label, stamped)
	}
	if w.show != nil {
		line = w.showFields(line)
	}
	if w.color {
		return w.appendColor(dst, pre, line, label, stamped, nl, selected)
	}
	// The label goes after a stamp and its space ("after"), else first.
	after := len(pre) > 0 && len(line) > tai64n.StampLen && line[tai64n.StampLen] == ' '
	if after && !stamped {
		// Raw output looks at no stamps before here.
		label, after = stampOf(line)
	}
	if !after {
		dst = append(dst, pre...)
	}
	rest := line
	if stamped || after {
		rest = line[tai64n.StampLen:]
		converted := false
		if w.format != FormatRaw {
			// As tai64nlocal: the stamp becomes the time, the rest (its
			// space included) is copied; a stamp the layout cannot show
			// stays as is.
			dst, converted = w.times.Append(dst, label)
		}
		if !converted {
			dst = append(dst, line[:tai64n.StampLen]...)
		}
	}
	if after {
		dst = append(dst, ' ')
		dst = append(dst, pre...)
		rest = rest[1:]
	}
	dst = append(dst, rest...)
	if nl {
		dst = append(dst, '\n')
	}
	return dst
}

// showFields returns line with its text replaced by the fields w.show
// names, as logfmt: its stamp and space kept, fields it lacks left out.
func (w *writer) showFields(line []byte) []byte {
	body := fieldBody(line)
	w.shown = append(w.shown[:0], line[:len(line)-len(body)]...)
	n := len(w.shown)
	for _, key := range w.show {
		v, ok := Field(body, key, w.fieldBuf[:0])
		if !ok {
			continue
		}
		if len(w.shown) > n {
			w.shown = append(w.shown, ' ')
		}
		w.shown = appendLogfmt(w.shown, key, v)
	}
	return w.shown
}

// appendFieldsJSON appends "fields":{…} for the fields w.show names.
func (w *writer) appendFieldsJSON(dst, body []byte) []byte {
	dst = append(dst, `"fields":{`...)
	first := true
	for _, key := range w.show {
		v, ok := Field(body, key, w.fieldBuf[:0])
		if !ok {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = jsontext.AppendString(dst, []byte(key))
		dst = append(dst, ':')
		dst = jsontext.AppendString(dst, v)
	}
	return append(dst, '}')
}

// appendColor is append with colours.
func (w *writer) appendColor(dst, pre, line []byte, label tai64n.Label, stamped, nl, selected bool) []byte {
	if !stamped {
		label, stamped = stampOf(line)
	}
	after := stamped && len(pre) > 0 && len(line) > tai64n.StampLen && line[tai64n.StampLen] == ' '
	if !after {
		dst = append(dst, pre...)
	}
	body := 0
	if stamped {
		dst = append(dst, sgrStamp...)
		converted := false
		if w.format != FormatRaw {
			dst, converted = w.times.Append(dst, label)
		}
		if !converted {
			dst = append(dst, line[:tai64n.StampLen]...)
		}
		dst = append(dst, sgrReset...)
		body = tai64n.StampLen
	}
	if after {
		dst = append(dst, ' ')
		dst = append(dst, pre...)
		body++
	}
	if selected && w.sel != nil {
		w.matches = w.sel.Matches(line, w.matches[:0])
		for _, m := range w.matches {
			// The part of a match over the stamp is shown as the stamp.
			start := max(m[0], body)
			if m[1] <= start {
				continue
			}
			dst = append(dst, line[body:start]...)
			dst = append(dst, sgrMatch...)
			dst = append(dst, line[start:m[1]]...)
			dst = append(dst, sgrReset...)
			body = m[1]
		}
	}
	dst = append(dst, line[body:]...)
	if nl {
		dst = append(dst, '\n')
	}
	return dst
}

// appendJSON writes {"time":…,"tai64n":…,"line":…} and a newline, pre's
// fields first ("label":…, "context":true). A line
// without a stamp has null time and tai64n and the whole line as line; a
// stamp whose time RFC 3339 cannot write (a year past 9999, nanoseconds
// above 999999999) has null time. The space after the stamp is not part of
// line.
func (w *writer) appendJSON(dst, pre, line []byte, label tai64n.Label, stamped bool) []byte {
	dst = append(dst, '{')
	dst = append(dst, pre...)
	dst = append(dst, `"time":`...)
	if stamped {
		n := len(dst)
		dst = append(dst, '"')
		if out, ok := w.times.Append(dst, label); ok {
			dst = append(out, '"')
		} else {
			dst = append(dst[:n], "null"...)
		}
		dst = append(dst, `,"tai64n":"`...)
		dst = append(dst, line[:tai64n.StampLen]...)
		dst = append(dst, `",`...)
		line = line[tai64n.StampLen:]
		if len(line) > 0 && line[0] == ' ' {
			line = line[1:]
		}
	} else {
		dst = append(dst, `null,"tai64n":null,`...)
	}
	if w.show != nil {
		dst = w.appendFieldsJSON(dst, line)
	} else {
		dst = append(dst, `"line":`...)
		dst = jsontext.AppendString(dst, line)
	}
	return append(dst, "}\n"...)
}
