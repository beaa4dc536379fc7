package tzlocal

// TZif files (RFC 8536) as glibc 2.36's time/tzfile.c reads them. glibc
// accepts or rejects a file by its own checks, not by the RFC's, and falls
// back to parsing $TZ as a POSIX string when it rejects one, so the exact
// acceptance rules matter: e.g. it takes the 64-bit section of any file whose
// version byte is non-zero, finds the footer by the file size, and drops the
// footer's last byte whatever it is.

import (
	"encoding/binary"
	"math"
)

type tzifType struct {
	offset  int32
	isDST   bool
	abbrIdx uint8
	isStd   bool
	isUT    bool
}

type tzifData struct {
	trans []int64
	idx   []uint8
	types []tzifType
	// chars is the abbreviation block; tail is what follows it in glibc's
	// buffer (the footer text and its NUL), which an abbreviation index may
	// run into.
	chars, tail []byte
	leapAt      []int64
	leapCorr    []int64
	spec        string // footer TZ string, "" when absent or empty
	// abbrs replaces the abbreviations after applyDefault.
	abbrs []string
}

const tzifHeaderLen = 44

// tzifCounts decodes the six counts of a header as glibc does: a signed
// 32-bit value converted to size_t, so negative counts become huge.
func tzifCounts(h []byte) (isut, isstd, leap, time, typ, chars uint64) {
	get := func(i int) uint64 {
		return uint64(int64(int32(binary.BigEndian.Uint32(h[20+4*i:]))))
	}
	return get(0), get(1), get(2), get(3), get(4), get(5)
}

// tzifParse returns nil where glibc's __tzfile_read would "goto lose".
func tzifParse(b []byte) *tzifData {
	if len(b) < tzifHeaderLen || string(b[:4]) != "TZif" {
		return nil
	}
	isut, isstd, leap, time, typ, chars := tzifCounts(b)
	if isstd > typ || isut > typ {
		return nil
	}
	pos := int64(tzifHeaderLen)
	width := 4
	if b[4] != 0 {
		// Skip the 32-bit data with glibc's size_t arithmetic (which may
		// wrap and even seek backwards) and re-read the header there.
		width = 8
		skip := int64(time*5 + typ*6 + chars + leap*8 + isstd + isut)
		if skip < -pos || skip > int64(len(b)) {
			return nil
		}
		pos += skip
		if pos > int64(len(b)-tzifHeaderLen) || string(b[pos:pos+4]) != "TZif" {
			return nil
		}
		isut, isstd, leap, time, typ, chars = tzifCounts(b[pos:])
		if isstd > typ || isut > typ {
			return nil
		}
		pos += tzifHeaderLen
	}
	// Any negative count of the header in use makes one of glibc's size
	// checks or buffer allocations fail.
	for _, c := range [...]uint64{isut, isstd, leap, time, typ, chars} {
		if c > math.MaxInt32 {
			return nil
		}
	}
	rem := uint64(int64(len(b)) - pos)
	specLen := uint64(0)
	if width == 8 {
		need := time*9 + typ*6 + chars
		if rem < need {
			return nil
		}
		specLen = rem - need
		if specLen < leap*12 {
			return nil
		}
		specLen -= leap * 12
		if specLen < isstd {
			return nil
		}
		specLen -= isstd
		if specLen == 0 || specLen-1 < isut {
			return nil
		}
		specLen -= isut + 1
		if specLen == 0 {
			return nil
		}
	} else if rem < time*5+typ*6+chars+leap*8+isstd+isut {
		return nil
	}

	p := b[pos:]
	take := func(n uint64) []byte {
		s := p[:n]
		p = p[n:]
		return s
	}
	d := &tzifData{}
	w := uint64(width)
	raw := take(time * w)
	d.trans = make([]int64, time)
	for i := range d.trans {
		if width == 8 {
			d.trans[i] = int64(binary.BigEndian.Uint64(raw[8*i:]))
		} else {
			d.trans[i] = int64(int32(binary.BigEndian.Uint32(raw[4*i:])))
		}
	}
	d.idx = append([]uint8(nil), take(time)...)
	for _, x := range d.idx {
		if uint64(x) >= typ {
			return nil
		}
	}
	d.types = make([]tzifType, typ)
	for i := range d.types {
		t := take(6)
		// An abbreviation index equal to chars is accepted.
		if t[4] > 1 || uint64(t[5]) > chars {
			return nil
		}
		d.types[i] = tzifType{
			offset:  int32(binary.BigEndian.Uint32(t)),
			isDST:   t[4] == 1,
			abbrIdx: t[5],
		}
	}
	d.chars = take(chars)
	d.leapAt = make([]int64, leap)
	d.leapCorr = make([]int64, leap)
	for i := range d.leapAt {
		t := take(w + 4)
		if width == 8 {
			d.leapAt[i] = int64(binary.BigEndian.Uint64(t))
		} else {
			d.leapAt[i] = int64(int32(binary.BigEndian.Uint32(t)))
		}
		d.leapCorr[i] = int64(int32(binary.BigEndian.Uint32(t[w:])))
	}
	for i, c := range take(isstd) {
		d.types[i].isStd = c != 0
	}
	for i, c := range take(isut) {
		d.types[i].isUT = c != 0
	}
	if width == 8 && p[0] == '\n' {
		// glibc reads specLen-1 bytes after the newline and overwrites the
		// region's last byte with NUL.
		d.tail = append(append([]byte(nil), p[1:specLen]...), 0)
		d.spec = tzCString(d.tail, nil)
	}
	return d
}

// tzCString reads a NUL-terminated string starting in a and continuing into
// b, as glibc reads abbreviations out of its single buffer. Running off the
// end would read unknown memory in glibc; we stop there.
func tzCString(a, b []byte) string {
	for i, c := range a {
		if c == 0 {
			return string(a[:i])
		}
	}
	for i, c := range b {
		if c == 0 {
			return string(a) + string(b[:i])
		}
	}
	return string(a) + string(b)
}

// abbrev is the abbreviation of type i.
func (d *tzifData) abbrev(i int) string {
	if d.abbrs != nil {
		return d.abbrs[i]
	}
	k := int(d.types[i].abbrIdx)
	if k > len(d.chars) {
		return ""
	}
	return tzCString(d.chars[k:], d.tail)
}

// applyDefault is __tzfile_default: d is the posixrules file, rewritten to
// carry the user's standard and DST names and offsets while keeping its
// transition dates. stdoff and dstoff are seconds east.
//
// glibc shifts each transition by the difference between the user's offset
// and the file's "rule" offset. Since the fix for glibc bug 29951 (in Debian's
// 2.36) __tzfile_read no longer sets rule_dstoff, so it holds whatever the
// previous __tzfile_default left there. localtime() re-runs this on every
// call for such zones, so from the second call of a process on it is the
// user's own dstoff and the DST-relative shift is zero; that steady state is
// what we reproduce (a process's very first localtime uses 0 instead).
func (d *tzifData) applyDefault(stdName, dstName string, stdoff, dstoff int32) {
	ruleStd := int64(0)
	ruleDst := int64(dstoff)
	if len(d.trans) == 0 {
		ruleStd = int64(d.types[0].offset)
		ruleDst = ruleStd
	} else {
		for i := len(d.trans) - 1; i >= 0; i-- {
			if t := d.types[d.idx[i]]; !t.isDST {
				ruleStd = int64(t.offset)
				break
			}
		}
	}
	isDST := false
	for i := range d.trans {
		t := d.types[d.idx[i]]
		if t.isDST {
			d.idx[i] = 1
		} else {
			d.idx[i] = 0
		}
		switch {
		case t.isUT:
		case isDST && !t.isStd:
			d.trans[i] += int64(dstoff) - ruleDst
		default:
			d.trans[i] += int64(stdoff) - ruleStd
		}
		isDST = t.isDST
	}
	d.types = []tzifType{{offset: stdoff}, {offset: dstoff, isDST: true}}
	d.abbrs = []string{stdName, dstName}
}
