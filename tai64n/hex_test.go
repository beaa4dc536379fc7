package tai64n

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
)

func TestAppendAndParse(t *testing.T) {
	l := Label{Sec: 0x4000000037c219bf, Nano: 0x2ef02e94}
	got := l.Append([]byte("x"))
	if string(got) != "x@4000000037c219bf2ef02e94" {
		t.Fatalf("Append = %q", got)
	}
	for _, s := range []string{"@4000000037c219bf2ef02e94", "@4000000037C219BF2EF02E94", "@4000000037c219BF2ef02E94"} {
		p, err := Parse([]byte(s))
		if err != nil || p != l {
			t.Errorf("Parse(%q) = %v, %v", s, p, err)
		}
		if p, ok := ParsePrefix([]byte(s + " rest")); !ok || p != l {
			t.Errorf("ParsePrefix(%q) = %v, %v", s, p, ok)
		}
	}
	var m Label
	if err := m.UnmarshalText([]byte(l.String())); err != nil || m != l {
		t.Fatalf("text round trip: %v %v", m, err)
	}
	if b, _ := l.MarshalText(); string(b) != l.String() {
		t.Fatalf("MarshalText = %q", b)
	}
}

func TestParseErrors(t *testing.T) {
	for _, s := range []string{"", "@", "4000000037c219bf2ef02e94", "@zz", "@4000000037c219bf2ef02e9",
		"@4000000037c219bf2ef02e94 ", "@4000000037c219bf2ef02e9g", "@4000000037c219bf2ef02e940"} {
		_, err := Parse([]byte(s))
		if err == nil {
			t.Errorf("Parse(%q) accepted", s)
			continue
		}
		if !errors.Is(err, ErrSyntax) {
			t.Errorf("Parse(%q) error %v does not wrap ErrSyntax", s, err)
		}
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Offset < 0 || pe.Offset > len(s) {
			t.Errorf("Parse(%q) error %#v has no usable offset", s, err)
		}
		if _, ok := ParsePrefix([]byte(s)); ok && len(s) < StampLen {
			t.Errorf("ParsePrefix(%q) accepted a short stamp", s)
		}
	}
}

func TestHexNoAllocs(t *testing.T) {
	buf := make([]byte, 0, 64)
	in := []byte("@4000000037c219bf2ef02e94 text")
	if n := testing.AllocsPerRun(1000, func() {
		l, _ := ParsePrefix(in)
		buf = l.Append(buf[:0])
	}); n != 0 {
		t.Fatalf("ParsePrefix+Append allocate %v times", n)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"@4000000037c219bf2ef02e94", "@", "", "@4000000037C219BF2EF02E94", "@zz", "@400000000000000a00000000x"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := Parse(b)
		p, ok := ParsePrefix(b)
		if err != nil {
			if ok && len(b) == StampLen {
				t.Fatalf("Parse rejected %q but ParsePrefix accepted it", b)
			}
			return
		}
		if !ok || p != l {
			t.Fatalf("ParsePrefix(%q) = %v, %v; Parse gave %v", b, p, ok, l)
		}
		if got := l.Append(nil); !bytes.Equal(got, bytes.ToLower(b)) {
			t.Fatalf("Append(Parse(%q)) = %q", b, got)
		}
	})
}

func TestScanStamp24MatchesScanHex(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	alphabet := []byte("0123456789abcdefABCDEF@g/:`GF\x00\xff \n")
	for i := 0; i < 200000; i++ {
		b := make([]byte, 25+r.IntN(3))
		for j := range b {
			if r.IntN(20) == 0 {
				b[j] = alphabet[r.IntN(len(alphabet))]
			} else {
				b[j] = "0123456789abcdefABCDEF"[r.IntN(22)]
			}
		}
		if r.IntN(2) == 0 {
			b[24] = ' '
		}
		fast, ok := scanStamp24(b)
		slow, n := scanHex(b, maxHexRun+1)
		if ok != (n == 24) || (ok && fast != slow) {
			t.Fatalf("%q: fast %v %v, slow %v %d", b, fast, ok, slow, n)
		}
	}
}
