package ship

import (
	"strconv"

	"github.com/taikit/taikit/internal/jsontext"
	"github.com/taikit/taikit/tai64n"
)

// formatter writes records as the sinks send them; it reuses its
// formatter of times and allocates nothing per record.
type formatter struct {
	origin *Origin
	times  *tai64n.Formatter
}

func newFormatter(o *Origin, c tai64n.Convention) *formatter {
	return &formatter{origin: o, times: tai64n.NewFormatter(nil, c, tai64n.LayoutRFC3339)}
}

// appendJSON writes the fields logcat -j writes (time, tai64n, line) and
// the record's origin and key:
//
//	{"time":"2026-12-05T05:23:07.123456789Z","tai64n":"@4000…","line":"…",
//	 "host":"h","name":"sshd","dir":"/var/log/sshd","key":"h/sshd/42","seq":42}
//
// An unstamped line has null time and tai64n; a piece of a split line
// has "part" (from 1) and "more" (pieces follow).
func (f *formatter) appendJSON(dst []byte, r *Record) []byte {
	dst = append(dst, `{"time":`...)
	if r.Stamped {
		n := len(dst)
		dst = append(dst, '"')
		if out, ok := f.times.Append(dst, r.Stamp); ok {
			dst = append(out, '"')
		} else {
			dst = append(dst[:n], "null"...)
		}
		dst = append(dst, `,"tai64n":"`...)
		dst = r.Stamp.Append(dst)
		dst = append(dst, '"')
	} else {
		dst = append(dst, `null,"tai64n":null`...)
	}
	dst = append(dst, `,"line":`...)
	dst = jsontext.AppendString(dst, r.Line)
	dst = append(dst, `,"host":`...)
	dst = jsontext.AppendString(dst, []byte(f.origin.Host))
	dst = append(dst, `,"name":`...)
	dst = jsontext.AppendString(dst, []byte(f.origin.Name))
	dst = append(dst, `,"dir":`...)
	dst = jsontext.AppendString(dst, []byte(f.origin.Dir))
	dst = append(dst, `,"key":"`...)
	dst = r.AppendKey(dst, f.origin) // host and name are plain: checked by Origin.check
	dst = append(dst, `","seq":`...)
	dst = strconv.AppendUint(dst, r.Seq, 10)
	if r.Part > 0 {
		dst = append(dst, `,"part":`...)
		dst = strconv.AppendInt(dst, int64(r.Part), 10)
		dst = append(dst, `,"more":`...)
		dst = strconv.AppendBool(dst, r.More)
	}
	return append(dst, '}')
}

// appendSyslog writes the record as an RFC 5424 message (without framing):
//
//	<14>1 2026-12-05T05:23:07.123456Z host sshd - - [logship@32473 key="h/sshd/42"] the line
//
// The time is the stamp's, in UTC to the microsecond (RFC 5424 allows no
// more), or "-" for a line with no stamp before it; app-name is the
// directory's name; the key goes in structured data (under the
// documentation's enterprise number, 32473, as no number is registered
// for taikit), with "part" and "more" for a piece of a split line.
func (f *formatter) appendSyslog(dst []byte, r *Record, pri int) []byte {
	dst = append(dst, '<')
	dst = strconv.AppendInt(dst, int64(pri), 10)
	dst = append(dst, ">1 "...)
	if r.Stamp.Sec != 0 {
		n := len(dst)
		if out, ok := f.times.Append(dst, r.Stamp); ok && len(out)-n == len("2006-01-02T15:04:05.000000000Z") {
			// Nine digits of fraction to six.
			dst = append(out[:len(out)-4], 'Z')
		} else {
			dst = append(dst[:n], '-')
		}
	} else {
		dst = append(dst, '-')
	}
	dst = append(dst, ' ')
	dst = appendHeaderField(dst, f.origin.Host, 255)
	dst = append(dst, ' ')
	dst = appendHeaderField(dst, f.origin.Name, 48)
	dst = append(dst, ` - - [logship@32473 key="`...)
	dst = r.AppendKey(dst, f.origin)
	dst = append(dst, '"')
	if r.Part > 0 {
		dst = append(dst, ` part="`...)
		dst = strconv.AppendInt(dst, int64(r.Part), 10)
		dst = append(dst, `" more="`...)
		dst = strconv.AppendBool(dst, r.More)
		dst = append(dst, '"')
	}
	dst = append(dst, "] "...)
	return append(dst, r.Line...)
}

// appendHeaderField writes a header field of RFC 5424: printable ASCII
// without spaces, at most max bytes, "-" when empty.
func appendHeaderField(dst []byte, s string, max int) []byte {
	if s == "" {
		return append(dst, '-')
	}
	for i := 0; i < len(s) && i < max; i++ {
		c := s[i]
		if c <= ' ' || c > '~' {
			c = '_'
		}
		dst = append(dst, c)
	}
	return dst
}
