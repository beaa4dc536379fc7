package campaign

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestSIGPIPE closes the reader of multilog's standard output (the 1
// action) or standard error (the e action) while a stream flows through
// it: multilog is not killed by SIGPIPE, the directory still gets every
// line, and what the reader got before it went is a prefix of the stream.
// For 1 multilog warns once (on standard error); for e the errors are
// ignored, as the manual says. (daemontools' multilog dies of SIGPIPE with
// e, having logged only what it had read: a documented improvement.)
func TestSIGPIPE(t *testing.T) {
	for _, action := range []string{"1", "e"} {
		t.Run(action, func(t *testing.T) {
			in := newStream(pick(100_000, 1_000_000))
			work := t.TempDir()
			pipe := newLogPipe(t, in, 5)
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			o := procOpts{dir: work, stdin: pipe.r}
			if action == "1" {
				o.stdout = w
			} else {
				o.stderr = w
			}
			p := startProc(t, o, action, "s16384", "n1000000", "./d")
			w.Close()
			// Read some of the copy, then go away mid-stream.
			got := make([]byte, 0, 256<<10)
			buf := make([]byte, 4096)
			for len(got) < 200<<10 {
				n, err := r.Read(buf)
				got = append(got, buf[:n]...)
				if err != nil {
					t.Fatalf("reading multilog's copy: %v", err)
				}
			}
			r.Close()
			closedAt := pipe.consumed()
			for !pipe.finished() {
				if p.exited() {
					t.Fatalf("multilog ended (%d) before the end of its input, %d bytes after its reader went", exitCode(p.state), pipe.consumed()-closedAt)
				}
				time.Sleep(time.Millisecond)
			}
			pipe.closeWrite()
			code := p.wait(t, 2*time.Minute)
			if code != 0 {
				t.Fatalf("exit %d (a signal if negative); stderr %q", code, p.errText())
			}
			if want := in.bytesAt(0, int64(len(got))); !bytes.Equal(got, want) {
				t.Errorf("the reader got %d bytes that are not the start of the stream", len(got))
			}
			if action == "1" {
				want := "multilog: warning: unable to write to standard output: broken pipe; no more lines go there\n"
				if e := p.errText(); e != want {
					t.Errorf("stderr %q, want %q", e, want)
				}
			}
			files, err := readLogDir(filepath.Join(work, "d"))
			if err != nil {
				t.Fatal(err)
			}
			if err := sameAsStream(files, in); err != nil {
				t.Fatal(err)
			}
			figure(t, "reader of %s closed after %d bytes (%d consumed): multilog exit 0, all %d lines logged%s",
				map[string]string{"1": "standard output (1)", "e": "standard error (e)"}[action], len(got), closedAt, in.lines(),
				map[string]string{"1": ", one warning", "e": ""}[action])
		})
	}
}
