package logread

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/taikit/taikit/tai64n"
)

// Time ranges are checked against a model: the lines of the directory in
// order, each with the stamp it belongs to (its own, else that of the
// nearest stamped line before it, else none). A range [since, until]
// selects exactly the lines whose stamp lies in it, when stamps never go
// back, which is what a log directory holds.

type modelLine struct {
	text  []byte
	stamp tai64n.Label // zero: before any stamped line
}

type rangeDir struct {
	dir    string
	lines  []modelLine
	stamps []tai64n.Label // every distinct stamp, in order
	names  []tai64n.Label // the archives' names
}

// buildRangeDir writes a directory of archives (plain, large enough for
// the binary search, gzip and zstd) and "current". Stamps advance one
// second every three lines, so lines share stamps, and one line in seven
// has none; the first lines of the directory have none at all. An
// archive is named by the stamp of its last line, the earliest name a
// writer could give it, so that bounds equal to names are exercised.
func buildRangeDir(t testing.TB) *rangeDir {
	t.Helper()
	d := &rangeDir{dir: filepath.Join(t.TempDir(), "log")}
	if err := os.Mkdir(d.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	base := tai64n.FromUnix(1700000000, 0, tai64n.Daemontools)
	var cur tai64n.Label
	for i := range 6000 {
		var b []byte
		if i < 2 || i%7 == 3 {
			b = fmt.Appendf(b, "  unstamped line %d, belongs to the stamp before it\n", i)
		} else {
			cur = tai64n.Label{Sec: base.Sec + uint64(i/3)}
			b = cur.Append(b)
			b = fmt.Appendf(b, " line %05d\n", i)
			if len(d.stamps) == 0 || d.stamps[len(d.stamps)-1] != cur {
				d.stamps = append(d.stamps, cur)
			}
		}
		d.lines = append(d.lines, modelLine{b, cur})
	}
	// File boundaries (line indexes), and how each file is written.
	cuts := []int{0, 1, 700, 1400, 1402, 2600, 3900, 4500, 5200, 6000}
	comp := []string{"plain", "plain", "gzip", "plain", "plain", "zstd", "gzip", "plain", "current"}
	for f := 0; f+1 < len(cuts); f++ {
		var data []byte
		for _, l := range d.lines[cuts[f]:cuts[f+1]] {
			data = append(data, l.text...)
		}
		last := d.lines[cuts[f+1]-1].stamp
		if last == (tai64n.Label{}) {
			last = tai64n.Label{Sec: base.Sec - 1}
		}
		name := string(last.Append(nil)) + ".s"
		switch comp[f] {
		case "gzip":
			var b bytes.Buffer
			w := gzip.NewWriter(&b)
			w.Write(data)
			w.Close()
			data = b.Bytes()
		case "zstd":
			enc, _ := zstd.NewWriter(nil)
			data = enc.EncodeAll(data, nil)
			enc.Close()
		case "current":
			name = fileCurrent
		}
		if name != fileCurrent {
			d.names = append(d.names, last)
		}
		if err := os.WriteFile(filepath.Join(d.dir, name), data, 0o744); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

// want returns what the model selects.
func (d *rangeDir) want(since, until *tai64n.Label) []byte {
	var out []byte
	for _, l := range d.lines {
		if since != nil && l.stamp.Before(*since) {
			continue
		}
		if until != nil && until.Before(l.stamp) {
			break
		}
		out = append(out, l.text...)
	}
	return out
}

func (d *rangeDir) read(t *testing.T, since, until *tai64n.Label) []byte {
	t.Helper()
	var o Options
	if since != nil {
		o.Since, o.HasSince = *since, true
	}
	if until != nil {
		o.Until, o.HasUntil = *until, true
	}
	got, errs := readAll(t, d.dir, o)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	return got
}

// bounds returns the labels worth trying: every archive name and its
// neighbours (the boundaries), the first and last stamps, instants before
// and after everything, and a random sample of line stamps.
func (d *rangeDir) bounds() []tai64n.Label {
	near := func(l tai64n.Label) []tai64n.Label {
		before := tai64n.Label{Sec: l.Sec - 1, Nano: 999999999}
		return []tai64n.Label{before, l, {Sec: l.Sec, Nano: l.Nano + 1}}
	}
	var out []tai64n.Label
	for _, n := range d.names {
		out = append(out, near(n)...)
		out = append(out, near(tai64n.Label{Sec: n.Sec + 1})...)
	}
	first, last := d.stamps[0], d.stamps[len(d.stamps)-1]
	out = append(out, near(first)...)
	out = append(out, near(last)...)
	out = append(out, tai64n.Label{}, tai64n.Label{Sec: first.Sec - 100000}, tai64n.Label{Sec: last.Sec + 100000})
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		out = append(out, d.stamps[rng.IntN(len(d.stamps))])
	}
	return out
}

func TestReadSince(t *testing.T) {
	d := buildRangeDir(t)
	for _, since := range d.bounds() {
		got, want := d.read(t, &since, nil), d.want(&since, nil)
		if !bytes.Equal(got, want) {
			t.Fatalf("since %s: %s", since.Append(nil), firstDiff(got, want))
		}
	}
}

func TestReadUntil(t *testing.T) {
	d := buildRangeDir(t)
	for _, until := range d.bounds() {
		got, want := d.read(t, nil, &until), d.want(nil, &until)
		if !bytes.Equal(got, want) {
			t.Fatalf("until %s: %s", until.Append(nil), firstDiff(got, want))
		}
	}
}

func TestReadSinceUntil(t *testing.T) {
	d := buildRangeDir(t)
	b := d.bounds()
	rng := rand.New(rand.NewPCG(3, 4))
	for range 150 {
		since, until := b[rng.IntN(len(b))], b[rng.IntN(len(b))]
		got, want := d.read(t, &since, &until), d.want(&since, &until)
		if !bytes.Equal(got, want) {
			t.Fatalf("since %s until %s: %s", since.Append(nil), until.Append(nil), firstDiff(got, want))
		}
	}
}

// TestReadRangeCases names the cases the model covers, so that a failure
// says which one broke.
func TestReadRangeCases(t *testing.T) {
	d := buildRangeDir(t)
	first, last := d.stamps[0], d.stamps[len(d.stamps)-1]
	lab := func(sec uint64, nano uint32) *tai64n.Label { return &tai64n.Label{Sec: sec, Nano: nano} }
	name1 := d.names[2] // an archive named by the stamp of its last line
	cases := []struct {
		name         string
		since, until *tai64n.Label
		wantLines    int // -1: not checked beyond the model
	}{
		{"everything", nil, nil, len(d.lines)},
		{"until before everything", nil, lab(first.Sec-1, 0), 2}, // the unstamped lines at the start
		{"since after everything", lab(last.Sec+1, 0), nil, 0},
		{"since before everything", lab(first.Sec-1, 0), nil, len(d.lines) - 2},
		{"until after everything", nil, lab(last.Sec+1, 0), len(d.lines)},
		{"empty: since after until", lab(first.Sec+100, 0), lab(first.Sec+50, 0), 0},
		{"empty: between two stamps", lab(first.Sec+100, 1), lab(first.Sec+100, 2), 0},
		{"one stamp", lab(first.Sec+100, 0), lab(first.Sec+100, 0), -1},
		{"since = archive name", &name1, nil, -1},
		{"until = archive name", nil, &name1, -1},
		{"just one archive's last stamp", &name1, &name1, -1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, want := d.read(t, c.since, c.until), d.want(c.since, c.until)
			if !bytes.Equal(got, want) {
				t.Fatal(firstDiff(got, want))
			}
			if n := bytes.Count(got, []byte("\n")); c.wantLines >= 0 && n != c.wantLines {
				t.Fatalf("%d lines, want %d", n, c.wantLines)
			}
		})
	}
	// Unstamped lines go with the stamp before them: a range of one stamp
	// holds its unstamped followers, and a Since just after it drops them.
	one := d.read(t, &first, &first)
	if !bytes.Contains(one, []byte("unstamped line 3,")) || bytes.Count(one, []byte("\n")) != 2 {
		t.Fatalf("the range of one stamp with an unstamped line in it gave %q", one)
	}
	after := d.read(t, lab(first.Sec, 1), lab(first.Sec+2, 0))
	if bytes.Contains(after, []byte("unstamped line 3,")) {
		t.Fatalf("an unstamped line was given with the stamp after its own: %q", after)
	}
}

// TestReadSinceSkipsArchivesUnopened: archives named before Since are not
// opened (an unreadable one is not even reported), which is what makes a
// window in a large directory cheap.
func TestReadSinceSkipsArchivesUnopened(t *testing.T) {
	d := buildRangeDir(t)
	// Make the oldest archives unreadable in a way that holds for root too:
	// replace them by directories.
	for _, n := range d.names[:3] {
		p := filepath.Join(d.dir, string(n.Append(nil))+".s")
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	since := tai64n.Label{Sec: d.names[2].Sec + 1}
	got, want := d.read(t, &since, nil), d.want(&since, nil)
	if !bytes.Equal(got, want) {
		t.Fatal(firstDiff(got, want))
	}
}

// readLines is a helper for the tests that count lines.
func readLines(t *testing.T, r *Reader) (n int) {
	t.Helper()
	for {
		_, err := r.Next()
		if err == io.EOF {
			return n
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
}
