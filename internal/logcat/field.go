package logcat

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

	"github.com/taikit/taikit/internal/cli"
	"github.com/taikit/taikit/internal/jsontext"
	"github.com/taikit/taikit/tai64n"
)

// FieldOp is how a field's value is compared.
type FieldOp uint8

const (
	FieldEq FieldOp = iota // =
	FieldNe                // !=
	FieldLt                // <
	FieldLe                // <=
	FieldGt                // >
	FieldGe                // >=
)

var opText = [...]string{FieldEq: "=", FieldNe: "!=", FieldLt: "<", FieldLe: "<=", FieldGt: ">", FieldGe: ">="}

func (op FieldOp) String() string { return opText[op] }

// FieldCond is one --field condition: a key, an operator and a value. = and
// != compare the value as text, exactly; <, <=, > and >= compare numbers,
// or durations ("1.5s", "250ms") when the value given is one.
type FieldCond struct {
	Key   string
	Op    FieldOp
	Value string
	num   float64
	dur   bool // num is a duration in nanoseconds: the field's value must be one too
}

// ParseField parses a --field expression: a key (any bytes but "=", "!",
// "<" and ">"), an operator (=, ==, !=, <, <=, >, >=) and a value (the rest,
// as it is: "msg=a b" compares with "a b"). A numeric operator needs a
// number or a Go duration.
func ParseField(expr string) (FieldCond, error) {
	i := strings.IndexAny(expr, "=!<>")
	if i <= 0 {
		return FieldCond{}, &cli.UsageError{Msg: fmt.Sprintf("--field %q: want key=value, key!=value, key>number, key<number, key>=number or key<=number", expr)}
	}
	c := FieldCond{Key: expr[:i]}
	rest := expr[i:]
	switch {
	case strings.HasPrefix(rest, "=="):
		c.Op, rest = FieldEq, rest[2:]
	case strings.HasPrefix(rest, "!="):
		c.Op, rest = FieldNe, rest[2:]
	case strings.HasPrefix(rest, "<="):
		c.Op, rest = FieldLe, rest[2:]
	case strings.HasPrefix(rest, ">="):
		c.Op, rest = FieldGe, rest[2:]
	case rest[0] == '=':
		c.Op, rest = FieldEq, rest[1:]
	case rest[0] == '<':
		c.Op, rest = FieldLt, rest[1:]
	case rest[0] == '>':
		c.Op, rest = FieldGt, rest[1:]
	default: // "!" alone
		return FieldCond{}, &cli.UsageError{Msg: fmt.Sprintf("--field %q: \"!\" only as \"!=\"", expr)}
	}
	c.Value = rest
	if c.Op >= FieldLt {
		if f, ok := number(rest); ok {
			c.num = f
		} else if d, err := time.ParseDuration(rest); err == nil {
			c.num, c.dur = float64(d), true
		} else {
			return FieldCond{}, &cli.UsageError{Msg: fmt.Sprintf("--field %q: %s compares numbers or durations (500, 1.5, 250ms), not %q", expr, c.Op, rest)}
		}
	}
	return c, nil
}

// String is the expression as ParseField reads it.
func (c FieldCond) String() string { return c.Key + c.Op.String() + c.Value }

// number parses a decimal number as JSON and logfmt write them; it refuses
// what ParseFloat would also take but no log means as a number ("inf",
// "0x1p3", "1_000").
func number(s string) (float64, bool) {
	if s == "" || strings.ContainsAny(s, "_xXpPiInN") {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

// The bytes a number and a Go duration are made of: a value with another
// is none, and is told so before a parser makes an error value (an
// allocation a line) to say it.
var numberBytes, durationBytes = byteSet("0123456789.eE+-"), byteSet("0123456789.+-nsuµμmh")

func byteSet(s string) (set [256]bool) {
	for i := 0; i < len(s); i++ {
		set[s[i]] = true
	}
	return set
}

// endsWithUnit reports whether v can be a Go duration by its end: a unit
// (every one ends in s, m or h), or a zero without one.
func endsWithUnit(v []byte) bool {
	if len(v) == 0 {
		return false
	}
	switch v[len(v)-1] {
	case 's', 'm', 'h':
		return true
	}
	return strings.TrimLeft(string(v), "+-") == "0"
}

// only reports whether every byte of v is in set.
func only(v []byte, set *[256]bool) bool {
	for _, c := range v {
		if !set[c] {
			return false
		}
	}
	return true
}

// holds reports whether a field's value v satisfies c.
func (c *FieldCond) holds(v []byte) bool {
	switch c.Op {
	case FieldEq:
		return string(v) == c.Value
	case FieldNe:
		return string(v) != c.Value
	}
	var f float64
	if c.dur {
		if !only(v, &durationBytes) || !endsWithUnit(v) {
			return false // and no error value made for it
		}
		// Without a copy of v for each line: ParseDuration keeps nothing
		// of its argument (its error quotes a copy).
		d, err := time.ParseDuration(unsafe.String(unsafe.SliceData(v), len(v)))
		if err != nil {
			return false
		}
		f = float64(d)
	} else {
		var ok bool
		if !only(v, &numberBytes) {
			return false
		}
		if f, ok = number(string(v)); !ok {
			return false
		}
	}
	switch c.Op {
	case FieldLt:
		return f < c.num
	case FieldLe:
		return f <= c.num
	case FieldGt:
		return f > c.num
	}
	return f >= c.num
}

// fieldBody returns the part of a line where its fields are: after the
// stamp and its space.
func fieldBody(line []byte) []byte {
	if len(line) > tai64n.StampLen && line[0] == '@' && line[tai64n.StampLen] == ' ' {
		if _, ok := tai64n.ParsePrefix(line); ok {
			return line[tai64n.StampLen+1:]
		}
	}
	return line
}

// Field returns the value of the field key in the text of a log line (after
// its stamp: see fieldBody), appended to scratch, and whether it has one.
// A text that is a JSON object ("{" first) is read as one: key is a member's name, or
// a path through nested objects with dots ("http.status"); a string value
// is unescaped, any other is its JSON text. Otherwise the text is logfmt:
// key=value pairs among other words, a value bare up to the next space or
// quoted with Go/JSON escapes (key="a \"b\""); words in quotes are not
// looked into. When a key occurs more than once, the last counts, as
// encoding/json decodes it.
func Field(text []byte, key string, scratch []byte) ([]byte, bool) {
	t := bytes.TrimLeft(text, " \t")
	if len(t) > 0 && t[0] == '{' {
		s := jsonScan{b: t, names: scratch[len(scratch):]}
		sp, found, ok := s.object(key)
		if s.ws(); ok && s.i == len(t) {
			switch {
			case !found:
				return nil, false
			case !sp.str:
				return t[sp.start:sp.end], true
			}
			s.i = sp.start
			return s.str(scratch)
		}
		// Not JSON after all ("{worker-1} job=5"): logfmt, then.
	}
	sp, found := logfmtField(text, key)
	if !found {
		return nil, false
	}
	if sp.str {
		v := unquote(text, sp.start, scratch)
		return v, true
	}
	return text[sp.start:sp.end], true
}

// span is where a value is in a text; str: a quoted string, to decode.
type span struct {
	start, end int
	str        bool
}

// logfmtField finds the last key=value in text. A value whose quote does
// not close is no value.
func logfmtField(text []byte, key string) (span, bool) {
	var last span
	found := false
	for i := 0; i < len(text); {
		c := text[i]
		if c == ' ' || c == '\t' {
			i++
			continue
		}
		if c == '"' {
			// A quoted word: its contents are no fields. A quote that does
			// not close is a character of a bare word.
			if end, closed := quoteEnd(text, i); closed {
				i = end
			}
			for i < len(text) && text[i] != ' ' && text[i] != '\t' {
				i++
			}
			continue
		}
		start := i
		for i < len(text) && text[i] > ' ' && text[i] != '=' && text[i] != '"' {
			i++
		}
		if i == start || i >= len(text) || text[i] != '=' {
			// A bare word, or a key with no "=": to the next space.
			for i < len(text) && text[i] != ' ' && text[i] != '\t' {
				i++
			}
			continue
		}
		k := text[start:i]
		i++ // '='
		sp := span{start: i}
		closed := true
		if i < len(text) && text[i] == '"' {
			sp.str = true
			i, closed = quoteEnd(text, i)
			sp.end = i
		} else {
			for i < len(text) && text[i] != ' ' && text[i] != '\t' {
				i++
			}
			sp.end = i
		}
		// Whatever follows a closing quote up to a space is no field.
		for i < len(text) && text[i] != ' ' && text[i] != '\t' {
			i++
		}
		if closed && string(k) == key {
			last, found = sp, true
		}
	}
	return last, found
}

// quoteEnd returns the index after the quoted string that starts at
// text[i], or len(text) when it does not close.
func quoteEnd(text []byte, i int) (end int, closed bool) {
	for j := i + 1; j < len(text); j++ {
		switch text[j] {
		case '"':
			return j + 1, true
		case '\\':
			j++
		}
	}
	return len(text), false
}

// unquote decodes the quoted string that starts at text[i] (a '"'),
// appending it to dst, up to its closing quote or the end of text.
// Escapes are JSON's and Go's common ones (\" \\ \/ \n \r \t \b \f \uXXXX);
// another backslash is kept as it is.
func unquote(text []byte, i int, dst []byte) []byte {
	n := len(dst)
	for j := i + 1; j < len(text); j++ {
		switch text[j] {
		case '"':
			return dst[n:]
		case '\\':
			if j+1 >= len(text) {
				return dst[n:]
			}
			j++
			if c, ok := simpleEscape(text[j]); ok {
				dst = append(dst, c)
				continue
			}
			switch e := text[j]; e {
			case 'u':
				r, used, ok := hexRune(text[j+1:])
				if !ok {
					dst = append(dst, '\\', 'u')
					continue
				}
				dst = utf8.AppendRune(dst, r)
				j += used
			default:
				dst = append(dst, '\\', e)
			}
		default:
			dst = append(dst, text[j])
		}
	}
	return dst[n:]
}

// simpleEscape is what the one-byte escapes JSON and Go share stand for
// (\" \\ \/ \n \r \t \b \f), given the byte after the backslash.
func simpleEscape(e byte) (byte, bool) {
	switch e {
	case '"', '\\', '/':
		return e, true
	case 'n':
		return '\n', true
	case 'r':
		return '\r', true
	case 't':
		return '\t', true
	case 'b':
		return '\b', true
	case 'f':
		return '\f', true
	}
	return 0, false
}

// hexRune decodes the XXXX of a \uXXXX escape (b starts after the 'u'),
// and a low surrogate's \uXXXX after a high one, as encoding/json does: a
// surrogate that is not part of a pair is U+FFFD. used is how many bytes
// of b it took.
func hexRune(b []byte) (r rune, used int, ok bool) {
	h, ok := hex4(b)
	if !ok {
		return 0, 0, false
	}
	r, used = rune(h), 4
	if utf16.IsSurrogate(r) {
		if len(b) >= 10 && b[4] == '\\' && b[5] == 'u' {
			if l, ok := hex4(b[6:]); ok {
				if p := utf16.DecodeRune(r, rune(l)); p != utf8.RuneError {
					return p, 10, true
				}
			}
		}
		return utf8.RuneError, 4, true
	}
	return r, used, true
}

func hex4(b []byte) (uint16, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var v uint16
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			v = v<<4 | uint16(c-'0')
		case 'a' <= c && c <= 'f':
			v = v<<4 | uint16(c-'a'+10)
		case 'A' <= c && c <= 'F':
			v = v<<4 | uint16(c-'A'+10)
		default:
			return 0, false
		}
	}
	return v, true
}

// jsonScan walks JSON text; i is where it stands. names is a buffer for
// member names with escapes, reused.
type jsonScan struct {
	b     []byte
	i     int
	names []byte
}

func (s *jsonScan) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// object reads an object, looking for path (a name, or names joined by
// dots into nested objects; "" finds nothing): where its last value is,
// and whether there is one. ok is false when the text is not JSON.
func (s *jsonScan) object(path string) (last span, found, ok bool) {
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '{' {
		return span{}, false, false
	}
	s.i++
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		return span{}, false, true
	}
	for {
		s.ws()
		name, ok := s.name()
		if !ok {
			return span{}, false, false
		}
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return span{}, false, false
		}
		s.i++
		s.ws()
		switch {
		case path != "" && string(name) == path:
			start := s.i
			if !s.value() {
				return span{}, false, false
			}
			last, found = span{start: start, end: s.i, str: s.b[start] == '"'}, true
		case len(path) > len(name) && path[len(name)] == '.' && path[:len(name)] == string(name) &&
			s.i < len(s.b) && s.b[s.i] == '{':
			sp, f, ok := s.object(path[len(name)+1:])
			if !ok {
				return span{}, false, false
			}
			if f {
				last, found = sp, true
			}
		default:
			if !s.value() {
				return span{}, false, false
			}
		}
		s.ws()
		if s.i >= len(s.b) {
			return span{}, false, false
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case '}':
			s.i++
			return last, found, true
		default:
			return span{}, false, false
		}
	}
}

// name reads a member's name: the bytes as they are when there is no
// escape in it, else decoded into s.names.
func (s *jsonScan) name() ([]byte, bool) {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, false
	}
	for j := s.i + 1; j < len(s.b); j++ {
		c := s.b[j]
		if c == '"' {
			name := s.b[s.i+1 : j]
			if !utf8.Valid(name) {
				break // decoded: its bad bytes become U+FFFD
			}
			s.i = j + 1
			return name, true
		}
		if c == '\\' || c < 0x20 {
			break
		}
	}
	name, ok := s.str(s.names[:0])
	s.names = name[:0]
	return name, ok
}

// str reads a JSON string, decoded into dst.
func (s *jsonScan) str(dst []byte) ([]byte, bool) {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, false
	}
	n := len(dst)
	for j := s.i + 1; j < len(s.b); j++ {
		c := s.b[j]
		switch {
		case c == '"':
			s.i = j + 1
			return dst[n:], true
		case c < 0x20:
			return nil, false
		case c == '\\':
			j++
			if j >= len(s.b) {
				return nil, false
			}
			if c, ok := simpleEscape(s.b[j]); ok {
				dst = append(dst, c)
				continue
			}
			switch e := s.b[j]; e {
			case 'u':
				r, used, ok := hexRune(s.b[j+1:])
				if !ok {
					return nil, false
				}
				dst = utf8.AppendRune(dst, r)
				j += used
			default:
				return nil, false
			}
		case c < utf8.RuneSelf:
			dst = append(dst, c)
		default:
			// As encoding/json: bytes that are not UTF-8 are U+FFFD.
			r, size := utf8.DecodeRune(s.b[j:])
			dst = utf8.AppendRune(dst, r)
			j += size - 1
		}
	}
	return nil, false
}

// value reads over any JSON value.
func (s *jsonScan) value() bool {
	if s.i >= len(s.b) {
		return false
	}
	switch c := s.b[s.i]; {
	case c == '"':
		v, ok := s.str(s.names[:0])
		s.names = v[:0]
		return ok
	case c == '{':
		_, _, ok := s.object("")
		return ok
	case c == '[':
		s.i++
		s.ws()
		if s.i < len(s.b) && s.b[s.i] == ']' {
			s.i++
			return true
		}
		for {
			s.ws()
			if !s.value() {
				return false
			}
			s.ws()
			if s.i >= len(s.b) {
				return false
			}
			if s.b[s.i] == ']' {
				s.i++
				return true
			}
			if s.b[s.i] != ',' {
				return false
			}
			s.i++
		}
	case c == '-' || '0' <= c && c <= '9':
		return s.number()
	}
	for _, lit := range []string{"true", "false", "null"} {
		if bytes.HasPrefix(s.b[s.i:], []byte(lit)) {
			s.i += len(lit)
			return true
		}
	}
	return false
}

// number reads a JSON number, as its grammar says.
func (s *jsonScan) number() bool {
	b := s.b
	i := s.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	digits := func() int {
		j := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		return i - j
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	s.i = i
	return true
}

// appendLogfmt appends key=value, the value quoted when it must be (empty,
// or holding a space, a quote, "=" or a control character), with JSON's
// escapes, as go-logfmt writes it.
func appendLogfmt(dst []byte, key string, v []byte) []byte {
	dst = append(dst, key...)
	dst = append(dst, '=')
	quote := len(v) == 0
	for _, c := range v {
		if c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f {
			quote = true
			break
		}
	}
	if !quote && utf8.Valid(v) {
		return append(dst, v...)
	}
	return jsontext.AppendString(dst, v)
}
