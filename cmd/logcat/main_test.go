package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/taikit/taikit/internal/logcat"
	"github.com/taikit/taikit/internal/testref"
	"github.com/taikit/taikit/rotate"
	"github.com/taikit/taikit/tai64n"
	"github.com/taikit/taikit/tzlocal"
)

func TestMain(m *testing.M) { testref.TestMainOr(m, main) }

// result is what an in-process run of logcat left.
type result struct {
	out, err string
	code     int
}

// now is the present the tests run at: 2026-11-21 13:24:17 UTC.
var now = time.Date(2026, 11, 21, 13, 24, 17, 0, time.UTC)

func logcatTZ(t *testing.T, tz, stdin string, args ...string) result {
	t.Helper()
	var out, errs bytes.Buffer
	code := logcat.Run(args, logcat.Env{
		Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errs,
		Now:       func() time.Time { return now },
		LocalZone: func() *tzlocal.Zone { return tzlocal.Load(tz, true, tzlocal.SystemSource()) },
	})
	return result{out.String(), errs.String(), code}
}

func run(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	return logcatTZ(t, "Europe/Berlin", stdin, args...)
}

// lbl is the daemontools label of Unix second sec and nanosecond ns.
func lbl(sec int64, ns uint32) string { return tai64n.FromUnix(sec, ns, tai64n.Daemontools).String() }

// numbered returns n stamped lines "<stamp> line <i> <text>" one
// millisecond apart from start, and the text of each.
func numbered(start int64, n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "%s line %d %s\n", lbl(start+int64(i/1000), uint32(i%1000)*1e6), i, strings.Repeat("x", i%97))
	}
	return b.String()
}

// writeDir writes stamped lines into a log directory through package
// rotate, in files of at most maxSize bytes, and returns the directory.
func writeDir(t *testing.T, content string, maxSize int64, comp rotate.Method) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "log")
	d, err := rotate.Open(dir, rotate.Options{MaxSize: maxSize, Keep: 100000, Compression: rotate.Compression{Method: comp}})
	if err != nil {
		t.Fatal(err)
	}
	for l := range strings.Lines(content) {
		if _, err := d.Write([]byte(l)); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// dirContent is a directory's archives in name order and then current,
// decompressed: what `cat @* current` gives after zcat.
func dirContent(t *testing.T, dir string) string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "@*"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	names = append(names, filepath.Join(dir, "current"))
	var b strings.Builder
	for _, n := range names {
		data, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.HasPrefix(data, []byte{0x1f, 0x8b}) {
			zr, err := gzip.NewReader(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			var plain bytes.Buffer
			if _, err := plain.ReadFrom(zr); err != nil {
				t.Fatal(err)
			}
			data = plain.Bytes()
		}
		b.Write(data)
	}
	return b.String()
}

func TestStdinAndFiles(t *testing.T) {
	in := numbered(1_800_000_000, 50)
	if r := run(t, in); r.code != 0 || r.out != in {
		t.Fatalf("cat of stdin: exit %d %s", r.code, r.err)
	}
	if r := run(t, in, "-"); r.out != in {
		t.Fatalf("cat of -: %q", r.out)
	}
	f := testref.WriteTemp(t, in)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(in))
	zw.Close()
	g := filepath.Join(t.TempDir(), "@4000000000000000000000.s")
	os.WriteFile(g, gz.Bytes(), 0o644)
	if r := run(t, "", f, g); r.code != 0 || r.out != in+in {
		t.Fatalf("a file and a gzip file: exit %d, %d bytes, %s", r.code, len(r.out), r.err)
	}
	// A corrupt gzip file: the message names it, the rest is still read,
	// the exit is 111.
	bad := filepath.Join(t.TempDir(), "bad")
	os.WriteFile(bad, append([]byte{0x1f, 0x8b}, "not gzip"...), 0o644)
	r := run(t, "", bad, f)
	if r.code != 111 || r.out != in || !strings.Contains(r.err, "logcat: warning: unable to decompress "+bad) {
		t.Fatalf("corrupt gzip: exit %d, %d bytes, %q", r.code, len(r.out), r.err)
	}
}

// Every output format, on a directory written by package rotate with
// gzip archives.
func TestFormats(t *testing.T) {
	in := numbered(1_800_000_000, 3000) + "an unstamped line \"quoted\"\n"
	dir := writeDir(t, in, 4096, rotate.Gzip)
	if r := run(t, "", dir); r.out != in {
		t.Fatalf("raw: %s", testref.Diff(in, r.out))
	}
	// -t is tai64nlocal, in local time and in UTC.
	for _, tz := range []string{"Europe/Berlin", "America/St_Johns", "UTC"} {
		want := string(tai64nlocal(t, tz, in))
		if r := logcatTZ(t, tz, "", "-t", dir); r.out != want {
			t.Errorf("TZ=%s -t: %s", tz, testref.Diff(want, r.out))
		}
	}
	utc := string(tai64nlocal(t, "UTC", in))
	if r := run(t, "", "-tu", dir); r.out != utc {
		t.Errorf("-tu: %s", testref.Diff(utc, r.out))
	}
	// -r and -j against the time package.
	berlin, _ := time.LoadLocation("Europe/Berlin")
	var rfcLocal, rfcUTC strings.Builder
	for l := range strings.Lines(in) {
		st, err := tai64n.Parse([]byte(l[:min(len(l), 25)]))
		if err != nil {
			rfcLocal.WriteString(l)
			rfcUTC.WriteString(l)
			continue
		}
		tm := st.Time(tai64n.Daemontools)
		rfcLocal.WriteString(tm.In(berlin).Format("2006-01-02T15:04:05.000000000Z07:00") + l[25:])
		rfcUTC.WriteString(tm.Format("2006-01-02T15:04:05.000000000Z07:00") + l[25:])
	}
	if r := run(t, "", "-r", dir); r.out != rfcLocal.String() {
		t.Errorf("-r: %s", testref.Diff(rfcLocal.String(), r.out))
	}
	if r := run(t, "", "-ru", dir); r.out != rfcUTC.String() {
		t.Errorf("-ru: %s", testref.Diff(rfcUTC.String(), r.out))
	}
	r := run(t, "", "-ju", dir)
	dec := json.NewDecoder(strings.NewReader(r.out))
	lines := slices.Collect(strings.Lines(in))
	utcLines := slices.Collect(strings.Lines(rfcUTC.String()))
	for i := 0; ; i++ {
		var rec struct {
			Time, TAI64N *string
			Line         string
		}
		if err := dec.Decode(&rec); err != nil {
			if i != len(lines) {
				t.Fatalf("-j: record %d: %v", i, err)
			}
			break
		}
		l := strings.TrimSuffix(lines[i], "\n")
		if i == len(lines)-1 {
			if rec.Time != nil || rec.TAI64N != nil || rec.Line != l {
				t.Errorf("-j unstamped: %+v", rec)
			}
			continue
		}
		if *rec.TAI64N != l[:25] || rec.Line != l[26:] || *rec.Time != utcLines[i][:len("2006-01-02T15:04:05.000000000Z")] {
			t.Fatalf("-j record %d: %q %q %q for %q", i, *rec.Time, *rec.TAI64N, rec.Line, l)
		}
	}
}

func tai64nlocal(t *testing.T, tz, in string) []byte {
	t.Helper()
	testref.Need(t, "/usr/bin/tai64nlocal")
	return testref.Run(t, []string{"TZ=" + tz}, []byte(in), "/usr/bin/tai64nlocal")
}

// JSON output decodes, whatever the bytes of the line: NUL, invalid UTF-8,
// control characters, quotes and backslashes. Invalid bytes become U+FFFD.
func TestJSONArbitraryBytes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte{0, 1, 0x1f, 0x7f, 0x80, 0xbf, 0xc3, 0xa9, 0xe2, 0x80, 0xa8, 0xff, '"', '\\', '\t', '\r', 'a', ' ', '/', '<'}
	var in strings.Builder
	var texts [][]byte
	for i := range 3000 {
		n := rng.IntN(60)
		b := make([]byte, n)
		for j := range b {
			if rng.IntN(3) == 0 {
				b[j] = byte(rng.IntN(256))
			} else {
				b[j] = alphabet[rng.IntN(len(alphabet))]
			}
			if b[j] == '\n' {
				b[j] = 'n'
			}
		}
		texts = append(texts, b)
		in.WriteString(lbl(1_800_000_000+int64(i), 0) + " ")
		in.Write(b)
		in.WriteByte('\n')
	}
	r := run(t, in.String(), "-j")
	dec := json.NewDecoder(strings.NewReader(r.out))
	for i, want := range texts {
		var rec map[string]any
		if err := dec.Decode(&rec); err != nil {
			t.Fatalf("record %d (%q): %v", i, want, err)
		}
		if got := rec["line"].(string); got != strings.ToValidUTF8(string(want), "\ufffd") && got != validRunes(want) {
			t.Fatalf("record %d: %q, want %q", i, got, want)
		}
	}
	// Each record is one line: no raw control byte survives.
	for l := range strings.Lines(r.out) {
		if strings.ContainsFunc(strings.TrimSuffix(l, "\n"), func(r rune) bool { return r < 0x20 }) || !utf8.ValidString(l) {
			t.Fatalf("record with a control byte or invalid UTF-8: %q", l)
		}
	}
}

// validRunes replaces each invalid byte by U+FFFD (ToValidUTF8 replaces a
// run of them by one).
func validRunes(b []byte) string {
	var s strings.Builder
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		s.WriteRune(r)
		b = b[n:]
	}
	return s.String()
}

// Time ranges on a directory: boundaries that fall between archives, on
// the first and last lines of archives, empty ranges, ranges before and
// after everything, and lines without a stamp.
func TestTimeRanges(t *testing.T) {
	// Stamps from the past, as in a real log: archives are named when
	// they are closed, after their lines, and the reader relies on it.
	base := time.Now().Unix() - 100000
	var in strings.Builder
	in.WriteString("before any stamp\n")
	for i := range 4000 {
		fmt.Fprintf(&in, "%s line %d\n", lbl(base+int64(i), 0), i)
		if i%10 == 3 {
			fmt.Fprintf(&in, "continuation of %d\n", i)
		}
	}
	content := in.String()
	for _, comp := range []rotate.Method{rotate.NoCompression, rotate.Zstd} {
		dir := writeDir(t, content, 4096, comp)
		archives, _ := filepath.Glob(filepath.Join(dir, "@*"))
		if len(archives) < 10 {
			t.Fatalf("%d archives", len(archives))
		}
		// The stamps where archives start and end.
		var edges []int64
		for _, a := range archives[:5] {
			data := dirFile(t, a)
			last := bytes.LastIndex(data[:len(data)-1], []byte("\n@"))
			lastL, _ := tai64n.Parse(data[last+1 : last+26])
			l, _ := lastL.Unix(tai64n.Daemontools)
			edges = append(edges, l, l+1)
			if first, err := tai64n.Parse(data[:25]); err == nil { // else a continuation line
				f, _ := first.Unix(tai64n.Daemontools)
				edges = append(edges, f)
			}
		}
		ranges := [][2]int64{{base - 100000000, base}, {base, base + 1}, {base + 3999, base + 100000000},
			{base + 4000, base + 100000000}, {base - 1, base}, {base + 500, base + 500}, {base + 600, base + 500}}
		for _, e := range edges {
			ranges = append(ranges, [2]int64{e, e + 1}, [2]int64{e - 1, e + 7}, [2]int64{e, base + 100000000}, [2]int64{0, e})
		}
		for _, rg := range ranges {
			want := expectRange(content, rg[0], rg[1])
			since, until := "@"+lbl(rg[0], 0)[1:], lbl(rg[1], 0)
			r := run(t, "", "-S", since, "-U", until, dir)
			if r.out != want {
				t.Errorf("%v [%d, %d): %s", comp, rg[0]-base, rg[1]-base, testref.Diff(want, r.out))
			}
			if code := map[bool]int{true: 1, false: 0}[want == ""]; r.code != code {
				t.Errorf("%v [%d, %d): exit %d, want %d", comp, rg[0], rg[1], r.code, code)
			}
			// The same in RFC 3339 and from standard input.
			s := time.Unix(rg[0], 0).UTC().Format(time.RFC3339)
			u := time.Unix(rg[1], 0).In(time.FixedZone("", 5*3600+1800)).Format(time.RFC3339)
			if r := run(t, content, "--since="+s, "--until", u); r.out != want {
				t.Errorf("stdin %s %s: %s", s, u, testref.Diff(want, r.out))
			}
		}
	}
}

func dirFile(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var plain bytes.Buffer
	if cmd := exec.Command("zstd", "-dc"); bytes.HasPrefix(data, []byte{0x28, 0xb5, 0x2f, 0xfd}) {
		cmd.Stdin, cmd.Stdout = bytes.NewReader(data), &plain
		if err := cmd.Run(); err != nil {
			t.Skipf("zstd -dc: %v", err)
		}
		return plain.Bytes()
	}
	if bytes.HasPrefix(data, []byte{0x1f, 0x8b}) {
		return []byte(dirContentOf(t, name))
	}
	return data
}

// expectRange keeps the lines whose stamp, or the stamp before them, is in
// [since, until).
func expectRange(content string, since, until int64) string {
	var b strings.Builder
	var cur int64
	has := false
	for l := range strings.Lines(content) {
		if st, err := tai64n.Parse([]byte(l[:min(len(l), 25)])); err == nil {
			cur, _ = st.Unix(tai64n.Daemontools)
			has = true
		}
		if has && cur >= since && cur < until {
			b.WriteString(l)
		}
	}
	return b.String()
}

func TestExitCodesAndMessages(t *testing.T) {
	dir := writeDir(t, numbered(1_800_000_000, 100), 4096, rotate.NoCompression)
	for _, c := range []struct {
		args []string
		code int
		err  string
	}{
		{[]string{dir}, 0, ""},
		{[]string{"-E", "line 5 ", dir}, 0, ""},
		{[]string{"-E", "no such line", dir}, 1, ""},
		{[]string{"-c", "-E", "no such line", dir}, 1, ""},
		{[]string{"-p", "+nothing", dir}, 1, ""},
		{[]string{"-S", "2030-01-01", dir}, 1, ""},
		{[]string{filepath.Join(dir, "missing"), dir}, 111, "logcat: warning: unable to read " + filepath.Join(dir, "missing") + ": file does not exist\n"},
		{[]string{"-S", "yesterday", dir}, 100, `logcat: fatal: -S: unable to read time "yesterday"`},
		{[]string{"-E", "(", dir}, 100, "logcat: fatal: -E \"(\": error parsing regexp"},
		{[]string{"-p", "x", dir}, 100, `logcat: fatal: -p "x": a selection word starts with +, -, g+ or g-`},
		{[]string{"-p", "g+[", dir}, 100, `logcat: fatal: -p "g+[": `},
		{[]string{"-n", "x", dir}, 100, `logcat: fatal: -n "x": want a number of lines`},
		{[]string{"-cj", dir}, 100, "logcat: fatal: -c prints a number"},
		{[]string{"-f", filepath.Join(dir, "current")}, 100, "logcat: fatal: unable to follow " + filepath.Join(dir, "current") + ": not a log directory"},
		{[]string{"-C", "c", dir, dir}, 100, "logcat: fatal: --cursor needs exactly one log directory"},
		{[]string{"-q"}, 100, "logcat: fatal: unknown option -q\nlogcat: usage: logcat "},
	} {
		r := run(t, "", c.args...)
		if r.code != c.code || !strings.HasPrefix(r.err, c.err) || (c.err == "" && r.err != "") {
			t.Errorf("%q: exit %d, %q; want %d, %q", c.args, r.code, r.err, c.code, c.err)
		}
	}
	if r := run(t, "", "-h"); r.code != 0 || !strings.Contains(r.out, "--since time") {
		t.Errorf("-h: %d %q", r.code, r.out)
	}
}

// An unreadable archive and a corrupt one are named; every other file is
// still read, and the exit is 111.
func TestBadArchives(t *testing.T) {
	in := numbered(1_800_000_000, 2000)
	dir := writeDir(t, in, 4096, rotate.Gzip)
	archives, _ := filepath.Glob(filepath.Join(dir, "@*"))
	corrupt := archives[2]
	data, _ := os.ReadFile(corrupt)
	lost := dirContentOf(t, corrupt)
	os.WriteFile(corrupt, data[:len(data)/2], 0o644) // truncated gzip
	unreadable := archives[4]
	lost2 := dirContentOf(t, unreadable)
	if os.Getuid() == 0 {
		// root reads any file; a directory in its place cannot be read.
		os.Remove(unreadable)
		os.Mkdir(unreadable, 0o755)
	} else {
		os.Chmod(unreadable, 0)
	}
	r := run(t, "", dir)
	if r.code != 111 || !strings.Contains(r.err, "logcat: warning: unable to decompress "+corrupt) ||
		!strings.Contains(r.err, unreadable) {
		t.Fatalf("exit %d, %q", r.code, r.err)
	}
	// Every line but those of the two archives is there, once and in
	// order; of the corrupt archive, a first part may be.
	want := strings.Replace(strings.Replace(in, lost2, "", 1), lost, "", 1)
	var kept, fromLost strings.Builder
	lostLines := map[string]bool{}
	for l := range strings.Lines(lost) {
		lostLines[l] = true
	}
	for l := range strings.Lines(r.out) {
		if lostLines[l] {
			fromLost.WriteString(l)
		} else {
			kept.WriteString(l)
		}
	}
	if kept.String() != want || !strings.HasPrefix(lost, fromLost.String()) {
		t.Fatalf("%s", testref.Diff(want, kept.String()))
	}
}

func dirContentOf(t *testing.T, name string) string {
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	b.ReadFrom(zr)
	return b.String()
}

// A directory of 10,000 archives is read whole, in order, and a time
// window in it is found quickly.
func TestManyArchives(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "log")
	os.Mkdir(dir, 0o755)
	var want strings.Builder
	for i := range 10000 {
		l := fmt.Sprintf("%s archive %d\n", lbl(1_800_000_000+int64(i), 0), i)
		want.WriteString(l)
		os.WriteFile(filepath.Join(dir, lbl(1_800_000_000+int64(i), 500)+".s"), []byte(l), 0o644)
	}
	os.WriteFile(filepath.Join(dir, "current"), nil, 0o744)
	if r := run(t, "", dir); r.code != 0 || r.out != want.String() {
		t.Fatalf("exit %d %s: %s", r.code, r.err, testref.Diff(want.String(), r.out))
	}
	start := time.Now()
	r := run(t, "", "-S", lbl(1_800_005_000, 0), "-U", lbl(1_800_005_060, 0), dir)
	took := time.Since(start)
	if n := strings.Count(r.out, "\n"); n != 60 {
		t.Fatalf("a minute: %d lines", n)
	}
	t.Logf("a one-minute window among 10,000 archives: %v", took)
}

// writeWith pipes lines through a reference logger writing dir and returns
// dir; script is the logger's arguments with "DIR" for the directory.
func writeWith(t *testing.T, lines string, prog string, script ...string) string {
	t.Helper()
	testref.Need(t, prog)
	dir := filepath.Join(t.TempDir(), "log")
	if prog == "/usr/bin/svlogd" {
		os.Mkdir(dir, 0o755)
		os.WriteFile(filepath.Join(dir, "config"), []byte("s4096\nn1000\n"), 0o644)
	}
	args := slices.Clone(script)
	for i, a := range args {
		if a == "DIR" {
			args[i] = dir
		}
	}
	testref.Run(t, nil, []byte(lines), prog, args...)
	return dir
}

// Directories written by daemontools' multilog (with and without !gzip),
// s6-log and svlogd read as the concatenation of their files.
func TestReferenceWriters(t *testing.T) {
	lines := testref.MixedLines(800, 7)
	for _, c := range []struct {
		prog   string
		script []string
	}{
		{"/usr/bin/multilog", []string{"t", "s4096", "n1000", "DIR"}},
		{"/usr/bin/multilog", []string{"t", "s65536", "n1000", "!gzip", "DIR"}},
		{"/usr/bin/s6-log", []string{"-b", "t", "n1000", "s4096", "DIR"}},
		{"/usr/bin/svlogd", []string{"-t", "DIR"}},
	} {
		t.Run(filepath.Base(c.prog)+strings.Join(c.script, "_"), func(t *testing.T) {
			dir := writeWith(t, lines, c.prog, c.script...)
			want := dirContent(t, dir)
			// s6-log splits lines longer than its -l (8192 bytes).
			if n := strings.Count(want, "\n"); n != strings.Count(lines, "\n") && c.prog != "/usr/bin/s6-log" {
				t.Fatalf("%s kept %d lines of %d", c.prog, n, strings.Count(lines, "\n"))
			}
			if r := run(t, "", dir); r.code != 0 || r.out != want {
				t.Fatalf("exit %d %s: %s", r.code, r.err, testref.Diff(want, r.out))
			}
			// The last ten minutes hold every line (they were just written),
			// stamps converted as the writer's own tai64nlocal converts them:
			// s6's are leap-aware (-l). This runs the real command, in the
			// present.
			conv, args := "/usr/bin/tai64nlocal", []string{"-t", "-S", "-10m", dir}
			if c.prog == "/usr/bin/s6-log" {
				conv, args = "/usr/bin/s6-tai64nlocal", []string{"-tl", "-S", "-10m", dir}
			}
			testref.Need(t, conv)
			wantLocal := string(testref.Run(t, []string{"TZ=Europe/Berlin"}, []byte(want), conv))
			if got := runReal(t, "TZ=Europe/Berlin", args...); got != wantLocal {
				t.Fatalf("%q: %s", args, testref.Diff(wantLocal, got))
			}
		})
	}
}

// runReal runs logcat as a process (the test binary as the command), in
// the present, and returns its output.
func runReal(t *testing.T, env string, args ...string) string {
	t.Helper()
	return string(testref.Run(t, []string{testref.BeCommand, env}, nil, testref.Self(t), args...))
}

// Selection by multilog's patterns gives what daemontools' multilog keeps
// with the same words: the stamped lines of a directory through
// `multilog '-*' +pattern ... ./d` (no t: the window is the stored line,
// stamp included, as logcat's patterns see it).
func TestSelectionLikeMultilog(t *testing.T) {
	testref.Need(t, "/usr/bin/multilog")
	lines := testref.MixedLines(4000, 11)
	stamped := string(testref.Run(t, nil, []byte(lines), "/usr/bin/tai64n"))
	src := writeDir(t, stamped, 1<<24, rotate.NoCompression)
	for _, words := range [][]string{
		{"+* service[*]: request *"},
		{"-* service[*]: *"},
		{"+* long *", "-* long long long long long *"},
		{"-*", "+*status=200", "+*status=500", "-* service[1*"},
		{"+*"},
		{"-*"},
		{"+@*"},
		{"+* *@4000000037c219bf2ef02e94 *"},
		{"+*x"},
		{"-* b*", "+* b\x00*"},
		{"+* *long"}, // beyond the 1000-byte window on long lines
	} {
		// multilog starts selected; logcat starts deselected when the first
		// word selects: give multilog the "-*" that logcat implies.
		script := slices.Clone(words)
		if strings.HasPrefix(words[0], "+") {
			script = append([]string{"-*"}, script...)
		}
		if slices.ContainsFunc(words, func(w string) bool { return strings.ContainsRune(w, 0) }) {
			continue // a command line cannot hold NUL
		}
		dir := filepath.Join(t.TempDir(), "sel")
		testref.Run(t, nil, []byte(stamped), "/usr/bin/multilog", append(append(script, "s16777215"), dir)...)
		want, _ := os.ReadFile(filepath.Join(dir, "current"))
		var args []string
		for _, w := range words {
			args = append(args, "-p", w)
		}
		r := run(t, "", append(args, src)...)
		if r.out != string(want) {
			t.Errorf("%q: %s", words, testref.Diff(string(want), r.out))
		}
		// Inverted: every other line.
		inv := run(t, "", append(append(args, "-v"), src)...)
		if n := strings.Count(inv.out, "\n") + strings.Count(r.out, "\n"); n != 4000 {
			t.Errorf("%q: %d lines with and without -v", words, n)
		}
	}
}
