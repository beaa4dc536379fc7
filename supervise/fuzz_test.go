package supervise

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzDecodeStatus: any 18 bytes or more decode (as svstat reads them), and
// the record re-encodes to the same bytes, the paused byte normalised to 0
// or 1 (svstat only asks whether it is zero); fewer are ErrBadFormat.
func FuzzDecodeStatus(f *testing.F) {
	f.Add([]byte("@\x00\x00\x00e\xf1\xa2\xb3\x00\x1e\x84\x80\x39\x30\x00\x00\x00u"))
	f.Add(make([]byte, 17))
	f.Add(bytes.Repeat([]byte{0xff}, 40))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := DecodeStatus(b)
		if len(b) < StatusSize {
			if !errors.Is(err, ErrBadFormat) {
				t.Fatalf("%d bytes: err %v, want ErrBadFormat", len(b), err)
			}
			return
		}
		if err != nil {
			t.Fatalf("%x: %v", b, err)
		}
		want := bytes.Clone(b[:StatusSize])
		if want[16] != 0 {
			want[16] = 1
		}
		if got := s.Append(nil); !bytes.Equal(got, want) {
			t.Fatalf("%x decodes to %+v, which encodes as %x", b, s, got)
		}
	})
}

// FuzzDecodeExtra: no input makes the decoder fail other than with
// ErrExtraFormat, and what it accepts re-encodes to a file that decodes to
// the same Extra.
func FuzzDecodeExtra(f *testing.F) {
	f.Add([]byte("taikit-extra 1\nstatus @4000000065f1a2b3001e8480\nrestarts 3\nready @4000000065f1a2b4002dc6c0\nexit 1 0\n"))
	f.Add([]byte("taikit-extra 1\nstatus @4000000065f1a2b3001e8480\nrestarts 0\nready checking\n"))
	f.Add([]byte("taikit-extra 1\nready failed\nexit -1 9\nfuture key\n"))
	f.Add([]byte("taikit-extra 2\n"))
	f.Add([]byte("taikit-extra 1\nexit 1 0\nbackoff 16\ngaveup 5\n"))
	f.Add([]byte("taikit-extra 1\nwaiting db/cache\nmissing queue/...\ncycle web\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := DecodeExtra(b)
		if err != nil {
			if !errors.Is(err, ErrExtraFormat) {
				t.Fatalf("%q: %v does not wrap ErrExtraFormat", b, err)
			}
			return
		}
		again, err := DecodeExtra(e.Append(nil))
		if err != nil || again != e {
			t.Fatalf("%q decodes to %+v; re-encoded %q decodes to %+v, %v", b, e, e.Append(nil), again, err)
		}
	})
}
