package multilog

import (
	"strings"
	"testing"
	"time"

	"github.com/taikit/taikit/rotate"
)

func TestParseDaemontoolsWords(t *testing.T) {
	p := Parse([]string{"tfoo", "t", "s1", "n0", "./a", "s99999999", "n5", "!gzip", "./b", "s5000x", "nfoo", "/c",
		"-", "+x*", "e", "=st", "xyz", "log", ""})
	if p.Stamp != StampTAI64N {
		t.Fatal("first word t must stamp")
	}
	var dirs []rotate.Options
	for _, a := range p.Actions {
		if a.Kind == Dir {
			dirs = append(dirs, a.Options)
		}
	}
	want := []struct {
		size    int64
		keep    int
		proc    string
		hasProc bool
	}{{4096, 2, "", false}, {16777215, 5, "gzip", true}, {5000, 2, "gzip", true}}
	for i, w := range want {
		d := dirs[i]
		if d.MaxSize != w.size || d.Keep != w.keep || d.Processor != w.proc || d.HasProcessor != w.hasProc {
			t.Errorf("dir %d: %+v, want %+v", i, d, w)
		}
	}
	if len(p.Warnings) != 4 {
		t.Fatalf("warnings %q: want t (not first), xyz, log and the empty word", p.Warnings)
	}
	for _, w := range p.Warnings {
		if !strings.Contains(w, "does nothing") {
			t.Errorf("warning %q", w)
		}
	}
	kinds := ""
	for _, a := range p.Actions {
		kinds += string("+-e=D1"[a.Kind])
	}
	if kinds != "DDD-+e=" {
		t.Fatalf("actions %s", kinds)
	}
}

func TestParseOverlongNumbersWrap(t *testing.T) {
	// daemontools' scan_ulong wraps; the clamp then applies.
	p := Parse([]string{"s18446744073709551617", "./d"}) // 2^64+1 wraps to 1 → 4096
	if got := p.Actions[0].Options.MaxSize; got != 4096 {
		t.Fatalf("size %d", got)
	}
}

func TestParseExtensions(t *testing.T) {
	p := Parse([]string{"Tu", "S1000000", "R3600", "zg9", "pweb", "./d", "z0", "p", "1", "g+*error*", "d3", "z", "!cat", "./e"})
	if p.Stamp != StampUTC || p.ReadyFD != 3 {
		t.Fatalf("stamp %v ready %d", p.Stamp, p.ReadyFD)
	}
	d := p.Actions[0]
	if d.Options.MaxTotal != 1000000 || d.Options.Period != time.Hour || d.Options.Compression != (rotate.Compression{Method: rotate.Gzip, Level: 9}) || d.Prefix != "web" {
		t.Fatalf("first dir %+v", d)
	}
	if p.Actions[1].Kind != Stdout || p.Actions[1].Prefix != "" || p.Actions[2].Glob == nil {
		t.Fatalf("actions %+v", p.Actions)
	}
	e := p.Actions[3]
	if e.Options.Compression.Method != rotate.NoCompression || !e.Options.HasProcessor {
		t.Fatalf("a processor wins over z: %+v", e.Options)
	}
	if len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "processor") {
		t.Fatalf("warnings %q", p.Warnings)
	}
	for _, w := range []string{"zz", "z23", "zg10", "Sx", "R-1", "d2", "dx", "g*", "Tx", "1x"} {
		if p := Parse([]string{w}); len(p.Warnings) != 1 || len(p.Actions) != 0 {
			t.Errorf("%q: warnings %q actions %d", w, p.Warnings, len(p.Actions))
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"t s4096 n3 ./d", "-* +hello ./d e =st", "T z zg9 S100 R10 p x 1 g+a* d3 ./e", "s999999999999999999999 n ! ./x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, script string) {
		p := Parse(strings.Split(script, " "))
		for _, a := range p.Actions {
			if a.Kind == Dir && (a.Options.MaxSize < 4096 || a.Options.MaxSize > 16777215 || a.Options.Keep < 2) {
				t.Fatalf("%q: dir options out of range: %+v", script, a.Options)
			}
		}
	})
}

// TestParseFullDiskWords: L (drop what a full disk refuses, with a marker)
// and N (svlogd's: how many archives a full disk may not delete) apply to
// the directories after them; malformed ones are warned about and ignored.
func TestParseFullDiskWords(t *testing.T) {
	p := Parse([]string{"./a", "N3", "./b", "L", "./c", "N0", "./d", "Lx", "N-1", "Nx"})
	want := []struct {
		policy  rotate.Policy
		minKeep int
	}{{rotate.Block, 0}, {rotate.Block, 3}, {rotate.Lossy, 3}, {rotate.Lossy, 0}}
	var dirs []rotate.Options
	for _, a := range p.Actions {
		if a.Kind == Dir {
			dirs = append(dirs, a.Options)
		}
	}
	for i, w := range want {
		if dirs[i].Policy != w.policy || dirs[i].MinKeep != w.minKeep {
			t.Errorf("dir %s: policy %v, MinKeep %d; want %v, %d", dirs[i].Name, dirs[i].Policy, dirs[i].MinKeep, w.policy, w.minKeep)
		}
	}
	if len(p.Warnings) != 3 {
		t.Fatalf("warnings %q: want Lx, N-1 and Nx", p.Warnings)
	}
}
