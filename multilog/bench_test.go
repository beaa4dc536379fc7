package multilog

import (
	"bytes"
	"fmt"
	"io"
	"testing"
)

// benchInput is about 92-byte log lines, as the bench corpus.
func benchInput(size int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "sshd[%05d]: Accepted publickey for deploy from 10.0.%d.%d port %05d ssh2: ED25519\n",
			i%50000, i%256, (i*7)%256, 20000+i%40000)
	}
	return b.Bytes()
}

// BenchmarkEngine runs scripts over 16 MiB in chunks of readSize, as multilog
// reads them, into directories that discard: the engine alone.
func BenchmarkEngine(b *testing.B) {
	in := benchInput(16 << 20)
	for _, script := range [][]string{
		{"t", "./d"},
		{"./d"},
		{"t", "-*", "+* sshd*", "-* * * * * 10.0.1.*", "e", "=st", "./d"},
		{"t", "./d1", "./d2"},
		// The bench harness's qmail-style script: eight deselections.
		{"t", "-* * -- MARK --", "-* * tick", "-* * kernel: *", "-* * systemd[1]: Started *",
			"-* * cron[*]: (*) CMD *", "-* * sshd[*]: Accepted publickey for *", "-* * api[*]: level=debug *",
			"./main", "-*", "+* * worker-*: job=* queue=* state=failed *", "=status"},
	} {
		b.Run(fmt.Sprint(script), func(b *testing.B) {
			p := Parse(script)
			var dirs []io.Writer
			for _, a := range p.Actions {
				if a.Kind == Dir {
					dirs = append(dirs, io.Discard)
				}
			}
			e := NewEngine(p, Sinks{Dirs: dirs, Status: []StatusWriter{nopStatus{}}, Stdout: io.Discard, Stderr: io.Discard, Clock: fixedClock})
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for p := in; len(p) > 0; {
					k := min(len(p), readSize)
					e.Process(p[:k])
					p = p[k:]
				}
			}
		})
	}
}
