package tai64n

import (
	"bytes"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/taikit/taikit/tzlocal"
)

// benchCorpus returns n log lines of about 92 bytes, each stamped, about
// twelve lines per second, as a busy service writes them.
func benchCorpus(n int) []byte {
	var b bytes.Buffer
	start := FromUnix(1795263893, 0, Daemontools)
	for i := 0; i < n; i++ {
		l := Label{Sec: start.Sec + uint64(i/12), Nano: uint32(i%12) * 83333333}
		fmt.Fprintf(&b, "%s sshd[%05d]: Accepted publickey for deploy from 10.0.%d.%d port %05d\n",
			l, 1000+i%50000, i%256, (i*7)%256, 20000+i%40000)
	}
	return b.Bytes()
}

func BenchmarkStamper(b *testing.B) {
	in := benchCorpus(100000)
	r := bytes.NewReader(in)
	s := NewStamper(time.Now, Daemontools)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r.Reset(in)
		if _, err := s.Copy(io.Discard, r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkConverter(b *testing.B) {
	in := benchCorpus(100000)
	for _, c := range []struct {
		name   string
		zone   func() Zone
		layout Layout
	}{
		{"UTC", func() Zone { return nil }, LayoutTAI64NLocal},
		{"Berlin", func() Zone { return tzlocal.Load("Europe/Berlin", true, tzlocal.SystemSource()) }, LayoutTAI64NLocal},
		{"Berlin-RFC3339", func() Zone { return tzlocal.Load("Europe/Berlin", true, tzlocal.SystemSource()) }, LayoutRFC3339},
		{"Berlin-time.Location", func() Zone {
			loc, err := time.LoadLocation("Europe/Berlin")
			if err != nil {
				b.Skip(err)
			}
			return Location(loc)
		}, LayoutTAI64NLocal},
	} {
		b.Run(c.name, func(b *testing.B) {
			r := bytes.NewReader(in)
			conv := NewConverter(NewFormatter(c.zone(), Daemontools, c.layout))
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				r.Reset(in)
				if _, err := conv.Copy(io.Discard, r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkAppendParse(b *testing.B) {
	buf := make([]byte, 0, 32)
	in := []byte("@4000000037c219bf2ef02e94")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		l, _ := ParsePrefix(in)
		l.Nano += uint32(i)
		buf = l.Append(buf[:0])
	}
}
