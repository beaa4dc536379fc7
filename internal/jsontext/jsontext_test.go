package jsontext

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestAppendStringDecodes: what AppendString writes is a JSON string that
// encoding/json decodes to the input, invalid UTF-8 turned into U+FFFD.
func TestAppendStringDecodes(t *testing.T) {
	for _, in := range []string{"", "plain", "q\"uote\\back", "tab\tnl\nret\rbs\bff\f", "\x00\x01\x1f\x7f",
		"é€𝄞", "\u2028\u2029", "bad \xff\xfe byte", "mixed \xc3 end"} {
		out := AppendString([]byte("x:"), []byte(in))
		if !strings.HasPrefix(string(out), "x:") {
			t.Fatalf("%q: the buffer's start was not kept: %q", in, out)
		}
		var got string
		if err := json.Unmarshal(out[2:], &got); err != nil {
			t.Fatalf("%q: %s is not JSON: %v", in, out[2:], err)
		}
		if want := strings.ToValidUTF8(in, "\ufffd"); got != want && !(utf8.ValidString(in) && got == in) {
			// ToValidUTF8 folds a run of bad bytes into one U+FFFD; AppendString writes one per byte.
			if strings.ReplaceAll(got, "\ufffd", "") != strings.ReplaceAll(want, "\ufffd", "") {
				t.Errorf("%q: decoded %q", in, got)
			}
		}
	}
}

func FuzzAppendString(f *testing.F) {
	f.Add([]byte("a\"b\\c\n\xff"))
	f.Fuzz(func(t *testing.T, in []byte) {
		var got string
		if err := json.Unmarshal(AppendString(nil, in), &got); err != nil {
			t.Fatalf("%q: not JSON: %v", in, err)
		}
		if utf8.Valid(in) && got != string(in) {
			t.Fatalf("%q decoded as %q", in, got)
		}
	})
}
