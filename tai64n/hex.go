package tai64n

import (
	"encoding/binary"
	"errors"
	"strconv"
)

// StampLen is the length of an external TAI64N stamp: "@" and 24 hex digits.
const StampLen = 25

const hexDigits = "0123456789abcdef"

// hexValue maps a byte to its value as a hex digit of either case, or 0xff.
var hexValue = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i := byte(0); i < 10; i++ {
		t['0'+i] = i
	}
	for i := byte(0); i < 6; i++ {
		t['a'+i] = 10 + i
		t['A'+i] = 10 + i
	}
	return t
}()

// Append appends l's external form, "@" and 24 lowercase hex digits, to dst.
func (l Label) Append(dst []byte) []byte {
	var b [StampLen]byte
	b[0] = '@'
	s := l.Sec
	for i := 16; i >= 1; i-- {
		b[i] = hexDigits[s&0xf]
		s >>= 4
	}
	n := l.Nano
	for i := 24; i >= 17; i-- {
		b[i] = hexDigits[n&0xf]
		n >>= 4
	}
	return append(dst, b[:]...)
}

// String returns l's external form.
func (l Label) String() string { return string(l.Append(nil)) }

// MarshalText implements encoding.TextMarshaler with the external form.
func (l Label) MarshalText() ([]byte, error) { return l.Append(nil), nil }

// UnmarshalText implements encoding.TextUnmarshaler; see Parse.
func (l *Label) UnmarshalText(text []byte) error {
	v, err := Parse(text)
	if err != nil {
		return err
	}
	*l = v
	return nil
}

// ErrSyntax is wrapped by every error Parse returns.
var ErrSyntax = errors.New("malformed TAI64N stamp")

// ParseError says where and why a stamp could not be parsed.
type ParseError struct {
	Input  string // the text given, cut to 40 bytes
	Offset int    // the byte at fault
	Reason string
}

func (e *ParseError) Error() string {
	return "tai64n: " + ErrSyntax.Error() + " " + strconv.Quote(e.Input) + ": " + e.Reason +
		" at byte " + strconv.Itoa(e.Offset)
}

// Unwrap lets errors.Is(err, ErrSyntax) recognise a ParseError.
func (e *ParseError) Unwrap() error { return ErrSyntax }

// Parse parses exactly one external stamp: "@" followed by 24 hex digits of
// either case, and nothing else. The nanosecond field is not range-checked;
// see Label.Valid.
func Parse(s []byte) (Label, error) {
	fail := func(off int, reason string) (Label, error) {
		in := s
		if len(in) > 40 {
			in = in[:40]
		}
		return Label{}, &ParseError{Input: string(in), Offset: off, Reason: reason}
	}
	if len(s) == 0 || s[0] != '@' {
		return fail(0, `want "@"`)
	}
	l, n := scanHex(s[1:], 24)
	switch {
	case n < 24 && 1+n < len(s):
		return fail(1+n, "want a hex digit")
	case n < 24:
		return fail(len(s), "want 24 hex digits, have "+strconv.Itoa(n))
	case len(s) > StampLen:
		return fail(StampLen, "want end of stamp")
	}
	return l, nil
}

// ParsePrefix parses an external stamp at the start of b (either case) and
// reports whether there was one. It is the allocation-free form for hot
// paths; the byte after the stamp is not looked at.
func ParsePrefix(b []byte) (Label, bool) {
	if len(b) < StampLen || b[0] != '@' {
		return Label{}, false
	}
	l, n := scanHex(b[1:StampLen], 24)
	return l, n == 24
}

// scanStamp24 is scanHex's fast path for the stamp every log line has:
// exactly 24 hex digits followed by a byte that is not one. It converts
// eight digits at a time in a 64-bit word.
func scanStamp24(b []byte) (Label, bool) {
	if len(b) < 25 || hexValue[b[24]] != 0xff {
		return Label{}, false
	}
	hi, ok1 := hex8(b[0:8])
	mid, ok2 := hex8(b[8:16])
	lo, ok3 := hex8(b[16:24])
	return Label{Sec: uint64(hi)<<32 | uint64(mid), Nano: lo}, ok1 && ok2 && ok3
}

// hex8 converts eight hex digits of either case, most significant first.
// Each test and step works on all eight bytes of the word at once; adding
// the constants below cannot carry between bytes because every byte is
// first checked to be ASCII (≤ 0x7f).
func hex8(b []byte) (uint32, bool) {
	const ones = 0x0101010101010101
	const high = 0x80 * ones
	x := binary.LittleEndian.Uint64(b)
	if x&high != 0 {
		return 0, false
	}
	digit := (x + (0x80-'0')*ones) &^ (x + (0x80-'9'-1)*ones) & high
	y := x | 0x20*ones // fold 'A'–'F' onto 'a'–'f'
	alpha := (y + (0x80-'a')*ones) &^ (y + (0x80-'f'-1)*ones) & high
	if digit|alpha != high {
		return 0, false
	}
	v := x&(0x0f*ones) + (alpha>>7)*9 // each byte now holds its digit's value
	// Merge neighbours: bytes into 8-bit pairs, pairs into 16-bit, then 32.
	v = (v&0x000f000f000f000f)<<4 | (v>>8)&0x000f000f000f000f
	v = (v&0x000000ff000000ff)<<8 | (v>>16)&0x000000ff000000ff
	v = (v&0xffff)<<16 | (v>>32)&0xffff
	return uint32(v), true
}

// scanHex reads up to max hex digits (either case) from the start of b and
// returns how many it read and the label they spell the way daemontools'
// tai64nlocal reads them: the last eight digits are the nanoseconds, all
// earlier ones the seconds label, kept modulo 2^64.
func scanHex(b []byte, max int) (Label, int) {
	var sec uint64
	var nano uint32
	n := 0
	for n < len(b) && n < max {
		v := hexValue[b[n]]
		if v == 0xff {
			break
		}
		sec = sec<<4 | uint64(nano>>28)
		nano = nano<<4 | uint32(v)
		n++
	}
	return Label{Sec: sec, Nano: nano}, n
}
