package ship

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/taikit/taikit/tai64n"
)

// Origin names where records come from: the parts of every record's key
// besides its number.
type Origin struct {
	// Host is the machine's name (os.Hostname by default).
	Host string
	// Name is the directory's name for the store: the syslog app-name,
	// the "name" field, the {name} of a subject or stream.
	Name string
	// Dir is the directory as the user named it.
	Dir string
}

// Record is one line of a directory's stream, or one piece of a line too
// long for the sink.
type Record struct {
	// Seq numbers the records of a directory's stream from 1; the State
	// keeps it with the cursor, so a record read again after a restart
	// gets the same number.
	Seq uint64
	// Stamp is the line's TAI64N stamp when Stamped; otherwise that of the
	// nearest stamped line before it, or zero.
	Stamp   tai64n.Label
	Stamped bool
	// MS is the record's time for stores that order by it (a Redis stream
	// ID): the stamp in Unix milliseconds, but never less than the record
	// before it, so that it only grows.
	MS uint64
	// Line is the line without its stamp, the space after it and its
	// newline.
	Line []byte
	// Part, for a piece of a line split because the sink takes no longer
	// one, is its number from 1, and More says that pieces follow; Part is
	// 0 for a whole line.
	Part int
	More bool
}

// Key returns the record's stable key, "host/name/seq", which a sink can
// deduplicate on.
func (r *Record) Key(o *Origin) string {
	return o.Host + "/" + o.Name + "/" + strconv.FormatUint(r.Seq, 10)
}

// AppendKey appends the key to dst without allocating.
func (r *Record) AppendKey(dst []byte, o *Origin) []byte {
	dst = append(dst, o.Host...)
	dst = append(dst, '/')
	dst = append(dst, o.Name...)
	dst = append(dst, '/')
	return strconv.AppendUint(dst, r.Seq, 10)
}

// unixMS is the Unix time of l in milliseconds, 0 for a zero or
// pre-1970 label.
func unixMS(l tai64n.Label, c tai64n.Convention) uint64 {
	if l.Sec == 0 {
		return 0
	}
	sec, _ := l.Unix(c)
	if sec < 0 {
		return 0
	}
	return uint64(sec)*1000 + uint64(min(l.Nano, 999999999)/1e6)
}

// check refuses a host or name that a key could not carry plainly: keys
// go into JSON, RFC 5424 structured data, subjects and stream names as
// they are.
func (o *Origin) check() error {
	for what, s := range map[string]string{"host": o.Host, "name": o.Name} {
		if s == "" {
			return fmt.Errorf("the %s is empty: name it (logship -H host, -n name)", what)
		}
		for i := 0; i < len(s); i++ {
			if c := s[i]; c <= ' ' || c > '~' || strings.IndexByte(`"\]/*>.`, c) >= 0 {
				return fmt.Errorf("the %s %q has %q, which a key cannot carry: name it with letters, digits, - and _ (logship -H host, -n name)", what, s, c)
			}
		}
	}
	return nil
}
