package conformance

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/taikit/taikit/internal/testref"
)

func loadAll(t *testing.T) *File {
	t.Helper()
	f, err := LoadDefault()
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func rep(s string, n int) string { return strings.Repeat(s, n) }

func TestLoadEverything(t *testing.T) {
	f := loadAll(t)
	var want []string
	for _, g := range []struct {
		prefix string
		n      int
	}{{"ML", 8}, {"MP", 21}, {"ML", 32}, {"TN", 9}, {"S6", 8}, {"SV", 4}} {
		start := 1
		if g.prefix == "ML" && g.n == 32 {
			start = 9 // ML09… follow the MP block
		}
		for i := start; i <= g.n; i++ {
			want = append(want, fmt.Sprintf("%s%02d", g.prefix, i))
		}
	}
	var got []string
	for _, c := range f.Cases {
		got = append(got, c.ID)
		if !c.Verified || c.Title == "" || len(c.Argv) == 0 || c.StdinSpec == "" || c.Umask == 0 {
			t.Errorf("%s (line %d): incomplete: %+v", c.ID, c.Line, c)
		}
	}
	if len(f.Cases) != 74 || !reflect.DeepEqual(got, want) {
		t.Fatalf("%d automated cases %q, want 74: %q", len(got), got, want)
	}
	if len(f.Procedural) != 15 {
		t.Fatalf("%d procedural cases, want 15", len(f.Procedural))
	}
	for i, p := range f.Procedural {
		if p.ID != fmt.Sprintf("P%02d", i+1) || p.Title == "" || !p.Verified || p.Body == "" {
			t.Errorf("procedural %d: %+v", i, p)
		}
	}
	p := f.Procedural
	if p[0].Title != "multilog ALRM forces rotation only if current is non-empty" ||
		p[5].Tag != "verified on a 64 KiB tmpfs" || p[5].Title != "multilog disk full" ||
		!strings.HasPrefix(p[14].Body, "  expect: default action: process dies (status 129)") {
		t.Errorf("procedural cases: %+v, %+v, %+v", p[0], p[5], p[14])
	}
	ps, err := LoadProcedural(mustPath(t))
	if err != nil || len(ps) != 15 {
		t.Errorf("LoadProcedural: %d, %v", len(ps), err)
	}
	cs, err := Load(mustPath(t))
	if err != nil || len(cs) != 74 {
		t.Errorf("Load: %d, %v", len(cs), err)
	}
	if c := Find(cs, "MP16"); c.Title != `multilog match(): pattern "named[*]: Cleaned cache *" vs line "named[135]: Cleaned cache of 3121 RRs." -> MATCH` {
		t.Errorf("MP16 title %q", c.Title)
	}
	if c := Find(cs, "XX99"); c.ID != "" {
		t.Errorf("Find of a missing ID: %+v", c)
	}
}

func mustPath(t *testing.T) string {
	t.Helper()
	p, err := DefaultPath()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// The copy in testdata must stay byte-identical to the generated file.
func TestCopyIsVerbatim(t *testing.T) {
	p := mustPath(t)
	ref := filepath.Join(filepath.Dir(p), "..", "..", "..", "shared", "reference", "conformance-cases.txt")
	want, err := os.ReadFile(ref)
	if err != nil {
		t.Skipf("reference copy not available: %v", err)
	}
	got, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs from %s: copy it again, unchanged", p, ref)
	}
}

func TestParsedFields(t *testing.T) {
	ml21 := Get(t, "ML21")
	if want := []string{"multilog", "s4096",
		`!echo "in=$(wc -c) state=[$(cat <&4)] cwd=$(basename $(pwd))"; echo NEXT >&5`, "./d"}; !reflect.DeepEqual(ml21.Argv, want) {
		t.Errorf("ML21 argv %q, want %q", ml21.Argv, want)
	}
	if got := ml21.Stdin(); !bytes.Equal(got, GenLines(60, 100)) || len(got) != 6000 {
		t.Errorf("ML21 stdin: %d bytes", len(got))
	}
	for id, want := range map[string][]string{
		"S605": {"s6-log", "--", "-", "+^hel", "t", "T", "pPFX", "1"},
		"MP21": {"multilog", "-*", `+\*`, "./d"},
		"MP06": {"multilog", "-*", "+", "./d"},
		"MP16": {"multilog", "-*", "+named[*]: Cleaned cache *", "./d"},
		"ML08": {"multilog", "-a", "./d1", "+a", "-b", "./d2", "-*", "./d3"},
		"ML20": {"multilog", "s4096", "n2", "./d1", "s8000", "./d2", "!tr a-z A-Z", "./d3"},
		"S608": {"s6-log", "-l", "10", "./d"},
		"TN01": {"tai64n"},
	} {
		if got := Get(t, id).Argv; !reflect.DeepEqual(got, want) {
			t.Errorf("%s argv %q, want %q", id, got, want)
		}
	}

	ml11 := Get(t, "ML11")
	if want := rep("A", 998) + "BC" + rep("D", 500) + "\n"; string(ml11.Stdin()) != want {
		t.Errorf("ML11 stdin %q", ml11.Stdin())
	}
	if s := Get(t, "ML04").Stdin(); string(s) != "a\n\nb\x00c\n" {
		t.Errorf("ML04 stdin %q", s)
	}
	if s := Get(t, "ML15").Stdin(); string(s) != rep("E", 200)+"\n"+rep("F", 201)+"\na\n" {
		t.Errorf("ML15 stdin %q", s)
	}
	if s := Get(t, "ML03").Stdin(); s == nil || len(s) != 0 {
		t.Errorf("ML03 stdin %q", s)
	}
	// Stdin returns a copy.
	ml11.Stdin()[0] = 'Z'
	if ml11.Stdin()[0] != 'A' {
		t.Error("Stdin shares its bytes")
	}

	ml10 := Get(t, "ML10")
	want10 := []FileExpect{
		{Name: "st1", Mode: 0o600, Size: 1001, HasContent: true, Content: []byte("STAT 2" + rep("\n", 995)), Desc: `"STAT 2" + "\n"*995`, Line: ml10.Line + 4},
		{Name: "st2", Mode: 0o600, Size: 1001, HasContent: true, Content: []byte("last" + rep("\n", 997)), Desc: `"last" + "\n"*997`, Line: ml10.Line + 5},
	}
	if !reflect.DeepEqual(ml10.Files, want10) || ml10.Dirs != nil || ml10.Exit != 0 || ml10.Stdout.Listed || ml10.Stderr.Listed ||
		string(ml10.Stdin()) != "STAT 1\nother\nSTAT 2\nlast\n" {
		t.Errorf("ML10: %+v", ml10)
	}

	tn03 := Get(t, "TN03")
	wantOut := Output{Listed: true,
		Expr: `"1999-08-24 04:04:05.787492500 mark\nno stamp\n @4000000037c219bf2ef02e94 lead\n1970-01-01 00:00:00.000000000 epoch\n"`,
		Want: []byte("1999-08-24 04:04:05.787492500 mark\nno stamp\n @4000000037c219bf2ef02e94 lead\n1970-01-01 00:00:00.000000000 epoch\n")}
	if !reflect.DeepEqual(tn03.Stdout, wantOut) || !reflect.DeepEqual(tn03.Env, []string{"TZ=UTC"}) || tn03.Exit != 0 {
		t.Errorf("TN03: %+v", tn03)
	}
	if tz, ok := tn03.Getenv("TZ"); tz != "UTC" || !ok {
		t.Errorf("TN03 TZ %q %v", tz, ok)
	}
	// A deterministic expectation is not masked: a stamp must stay a stamp.
	if err := tn03.Stdout.Check(tn03.Stdout.Want); err != nil {
		t.Error(err)
	}
	if tn07 := Get(t, "TN07"); tn07.Exit != -11 || !tn07.Stdout.Listed || len(tn07.Stdout.Want) != 0 || tn07.Stdout.Masked {
		t.Errorf("TN07: %+v", tn07)
	}
	if tn01 := Get(t, "TN01"); string(tn01.Stdout.Want) != "@<TAI64N> a\n@<TAI64N> \n@<TAI64N> b" || !tn01.Stdout.Masked {
		t.Errorf("TN01: %+v", tn01.Stdout)
	}
	if s := Get(t, "S605").Stdout; !s.Masked || !s.DateTimes || string(s.Want) != "@<TAI64N> <DATETIME>  PFX hello\n" {
		t.Errorf("S605 stdout %+v", s)
	}
	if s := Get(t, "ML15").Stderr; !s.Masked || s.DateTimes ||
		string(s.Want) != rep("E", 200)+"\n"+rep("E", 200)+"\n"+rep("F", 200)+"...\n"+rep("F", 200)+"...\na\n" {
		t.Errorf("ML15 stderr %+v", s)
	}
	if s := Get(t, "ML28").Stderr; string(s.Want) != "multilog: fatal: unable to lock directory ./d: temporary failure\n" || Get(t, "ML28").Exit != 111 {
		t.Errorf("ML28 stderr %+v", s)
	}

	ml16 := Get(t, "ML16")
	if len(ml16.Dirs) != 1 || ml16.Dirs[0].Name != "d" {
		t.Fatalf("ML16 dirs %+v", ml16.Dirs)
	}
	xs := rep("x", 57)
	sizeOnly := func(name string, size int64, sha, first, last string, nl, line int) FileExpect {
		return FileExpect{Name: name, Mode: 0o744, Size: size, SHA256Prefix: sha,
			FirstLinePrefix: []byte(first + xs), LastLinePrefix: []byte(last + xs), Newlines: nl, DateTimes: true,
			Desc: fmt.Sprintf(`size-only: sha256(masked)=%s first-line-prefix="%s" last-line-prefix="%s" newlines=%d`, sha, first+xs, last+xs, nl),
			Line: ml16.Line + line}
	}
	empty := func(name string, mode fs.FileMode, line int) FileExpect {
		return FileExpect{Name: name, Mode: mode, HasContent: true, Content: []byte{}, DateTimes: true, Desc: `content=""`, Line: ml16.Line + line}
	}
	want16 := []FileExpect{
		sizeOnly("@<TAI64N#1>.s", 2100, "fbfa0e426a278ce9", "050", "070", 21, 5),
		sizeOnly("@<TAI64N#2>.s", 2100, "5a486e89e01d99c0", "071", "091", 21, 6),
		sizeOnly("current", 800, "12f7130d3e4a1f84", "092", "099", 8, 7),
		empty("lock", 0o600, 8),
		empty("state", 0o644, 9),
	}
	if !reflect.DeepEqual(ml16.Dirs[0].Entries, want16) {
		t.Errorf("ML16 entries\n%+v\nwant\n%+v", ml16.Dirs[0].Entries, want16)
	}
	for _, e := range ml16.Dirs[0].Entries[:3] {
		if !e.SizeOnly() {
			t.Errorf("%s should be size-only", e.Name)
		}
	}
	if ml16.StdinSpec != `gen_lines(100): line i = "%03d"%i + "x"*96 + "\n"  (10000 bytes)` || !bytes.Equal(ml16.Stdin(), GenLines(100, 100)) {
		t.Errorf("ML16 stdin %q", ml16.StdinSpec)
	}

	ml23 := Get(t, "ML23")
	wantPre := []Pre{
		{Path: "d", Dir: true, Mode: 0o700},
		{Path: "d/current", Mode: 0o644, Content: []byte("old\n"), HasContent: true},
		{Path: "d/state", Mode: 0o644, Content: []byte("S\n"), HasContent: true},
	}
	if !reflect.DeepEqual(ml23.Pre, wantPre) || ml23.Umask != 0o022 {
		t.Errorf("ML23 pre %+v umask %o", ml23.Pre, ml23.Umask)
	}
	if e, ok := ml23.Dirs[0].Entry("@<TAI64N#1>.u"); !ok || e.Mode != 0o644 || string(e.Content) != "old\n" {
		t.Errorf("ML23 archive %+v", e)
	}
	if ml13 := Get(t, "ML13"); len(ml13.Pre) != 1 || string(ml13.Pre[0].Content) != rep("Z", 2000) ||
		string(ml13.Files[0].Content) != "x"+rep("\n", 1000)+rep("Z", 999) {
		t.Errorf("ML13 %+v", ml13.Pre)
	}
	if u := Get(t, "ML32").Umask; u != 0o077 {
		t.Errorf("ML32 umask %o", u)
	}
	if e, _ := Get(t, "SV02").Dirs[0].Entry("current"); string(e.Content) != "<DATETIME> x\n" || !e.DateTimes {
		t.Errorf("SV02 current %+v", e)
	}
	if e, ok := Get(t, "ML31").Dirs[0].Entry("@zzzzzzzzzzzzzzzzzzzzzzzzzzzz"); !ok || e.Size != 0 {
		t.Errorf("ML31 long name %+v", e)
	}
	if c := Get(t, "SV04"); string(c.Pre[1].Content) != "-*\n+*: keep*\ne*: err*\npPFX:\n" || c.Pre[1].Path != "d/config" {
		t.Errorf("SV04 pre %+v", c.Pre)
	}
	if s := Get(t, "S602").Stdin(); !bytes.Equal(s, GenLines(1000, 100)) {
		t.Error("S602 stdin is not gen_lines(1000)")
	}
	if s := Get(t, "S604").Stdin(); string(s) != rep("E", 203)+"\n"+rep("F", 204)+"\n" {
		t.Errorf("S604 stdin %q", s)
	}
}

func TestGenLines(t *testing.T) {
	b := GenLines(100, 100)
	lines := strings.SplitAfter(string(b), "\n")
	if len(b) != 10000 || len(lines) != 101 || lines[100] != "" {
		t.Fatalf("gen_lines(100): %d bytes, %d lines", len(b), len(lines))
	}
	for i, l := range lines[:100] {
		if want := fmt.Sprintf("%03d", i) + rep("x", 96) + "\n"; l != want {
			t.Fatalf("line %d: %q", i, l)
		}
	}
	if l := string(GenLines(1000, 100)[99900:]); l != "999"+rep("x", 96)+"\n" {
		t.Errorf("gen_lines(1000) last line %q (3 digits up to n=1000)", l)
	}
	b = GenLines(1001, 100)
	if len(b) != 100100 || string(b[:100]) != "0000"+rep("x", 95)+"\n" || string(b[100000:]) != "1000"+rep("x", 95)+"\n" {
		t.Errorf("gen_lines(1001): %q…%q", b[:100], b[100000:])
	}
	if b := GenLines(2, 10); string(b) != "000xxxxxx\n001xxxxxx\n" {
		t.Errorf("gen_lines(2, width=10) %q", b)
	}
	if b := GenLines(0, 100); len(b) != 0 {
		t.Errorf("gen_lines(0) %q", b)
	}

	// The summaries in the file pin gen_lines down: the archives of ML16
	// and S602 are runs of whole input lines, and S602 shows that
	// gen_lines(1000) has 3-digit indexes although its stdin note says
	// "4-digit index".
	for _, c := range []struct {
		id, entry string
		n, from   int
		to        int // lines [from, to]
	}{
		{"ML16", "@<TAI64N#1>.s", 100, 50, 70},
		{"ML16", "@<TAI64N#2>.s", 100, 71, 91},
		{"ML16", "current", 100, 92, 99},
		{"ML17", "@<TAI64N#1>.s", 100, 0, 24},
		{"S602", "@<TAI64N#1>.s", 1000, 737, 818},
		{"S602", "current", 1000, 982, 999},
		{"SV03", "@<TAI64N#3>.s", 1000, 961, 991},
	} {
		e, ok := Get(t, c.id).Dirs[0].Entry(c.entry)
		if !ok {
			t.Fatalf("%s has no %s", c.id, c.entry)
		}
		content := GenLines(c.n, 100)[c.from*100 : (c.to+1)*100]
		if err := CheckFile(e, c.entry, e.Mode, content); err != nil {
			t.Errorf("%s: %v", c.id, err)
		}
	}
}

func TestMasks(t *testing.T) {
	for _, c := range []struct{ in, stamps, both string }{
		{"@4000000037c219bf2ef02e94 x", "@<TAI64N> x", "@<TAI64N> x"},
		{"a @4000000037c219bf2ef02e94ab b", "a @<TAI64N>ab b", "a @<TAI64N>ab b"},                          // the first 24 digits
		{"@4000000037C219BF2EF02E94 @4000000037c219bf", "@4000000037C219BF2EF02E94 @4000000037c219bf", ""}, // uppercase, short
		{"@400000006a1b2c3d0e0f1011@400000006a1b2c3d0e0f1012", "@<TAI64N>@<TAI64N>", ""},
		{"2026-05-01 12:34:56.123456789  PFX hello", "", "<DATETIME>  PFX hello"}, // s6-log T
		{"2026-05-01_12:34:56.12345 x", "", "<DATETIME> x"},                       // svlogd -tt
		{"2026-05-01T12:34:56.123456 x", "", "<DATETIME> x"},                      // svlogd -ttt
		{"2026-05-01 12:34:56.1234 x", "", "2026-05-01 12:34:56.1234 x"},          // too few fraction digits
		{"@40000000681361c80d3f6d2c 2026-05-01 12:34:56.123456789 x", "@<TAI64N> 2026-05-01 12:34:56.123456789 x", "@<TAI64N> <DATETIME> x"},
	} {
		stamps := c.stamps
		if stamps == "" {
			stamps = c.in
		}
		both := c.both
		if both == "" {
			both = stamps
		}
		if got := string(MaskStamps([]byte(c.in))); got != stamps {
			t.Errorf("MaskStamps(%q) = %q, want %q", c.in, got, stamps)
		}
		if got := string(Mask([]byte(c.in), true)); got != both {
			t.Errorf("Mask(%q, true) = %q, want %q", c.in, got, both)
		}
		if got := string(Mask([]byte(c.in), false)); got != stamps {
			t.Errorf("Mask(%q, false) = %q, want %q", c.in, got, stamps)
		}
	}
	if got := string(MaskDateTimes([]byte("at 2026-05-01 12:34:56.123456789"))); got != "at <DATETIME>" {
		t.Errorf("MaskDateTimes: %q", got)
	}

	names := []string{"state", "@400000006a1b2c3d0e0f1012.u", "@short", "@400000006a1b2c3d0e0f1011.s",
		"@400000006a1b2c3d0e0f1011.x", "@400000006a1b2c3d0e0f10111.s", "current", "@400000006a1b2c3d0e0f1010.s"}
	want := []string{"state", "@<TAI64N#3>.u", "@short", "@<TAI64N#2>.s",
		"@400000006a1b2c3d0e0f1011.x", "@400000006a1b2c3d0e0f10111.s", "current", "@<TAI64N#1>.s"}
	if got := MaskNames(names); !reflect.DeepEqual(got, want) {
		t.Errorf("MaskNames:\n got %q\nwant %q", got, want)
	}
	var many []string
	for i := 12; i >= 1; i-- {
		many = append(many, fmt.Sprintf("@4000000000000000%08x.s", i))
	}
	if got := MaskNames(many); got[0] != "@<TAI64N#12>.s" || got[11] != "@<TAI64N#1>.s" {
		t.Errorf("MaskNames(12 names) = %q", got)
	}
}

func TestExpressions(t *testing.T) {
	for _, c := range []struct{ in, want, rest string }{
		{`""`, "", ""},
		{`"a\nb\\c\"d\x00\x7f\xff"`, "a\nb\\c\"d\x00\x7f\xff", ""},
		{`"x"*3 + "\n"`, "xxx\n", ""},
		{`"E"*2 + "\n" + "F"*0 + "...\na\n"`, "EE\n...\na\n", ""},
		{`"ab"*2`, "abab", ""},
		{`"1999"   (deterministic: not masked)`, "1999", deterministic},
		{`"a" + "b"  (x) + "c"`, "ab", `(x) + "c"`},
		{`"a"+"b"`, "ab", ""},
	} {
		got, rest, err := parseExpr(c.in)
		if err != nil || string(got) != c.want || rest != c.rest {
			t.Errorf("parseExpr(%s) = %q, %q, %v; want %q, %q", c.in, got, rest, err, c.want, c.rest)
		}
	}
	for _, bad := range []string{``, `x`, `"abc`, `"\q"`, `"\x4"`, `"\xzz"`, `"a\`, `"x"*`, `"x"*99999999999999`} {
		if got, _, err := parseExpr(bad); err == nil {
			t.Errorf("parseExpr(%s) = %q, want an error", bad, got)
		}
	}
	for _, b := range [][]byte{nil, []byte("hello\n"), []byte(rep("Z", 2000)), []byte("x" + rep("\n", 1000) + rep("Z", 999)),
		[]byte("\x00\x01\"\\" + rep("\xff", 9) + "abcabcabc" + rep("q", 7))} {
		q := QuoteRuns(b)
		got, rest, err := parseExpr(q)
		if err != nil || rest != "" || !bytes.Equal(got, b) {
			t.Errorf("QuoteRuns %s does not parse back: %q %q %v", q, got, rest, err)
		}
	}
	if q := QuoteRuns([]byte("STAT 2" + rep("\n", 995))); q != `"STAT 2" + "\n"*995` {
		t.Errorf("QuoteRuns = %s", q)
	}

	for _, c := range []struct {
		in   string
		want []string
	}{
		{`a  b`, []string{"a", "b"}},
		{`"" x`, []string{"", "x"}},
		{`"a b"c 'd e' f\ g`, []string{"a bc", "d e", "f g"}},
		{`"\$x \` + "`" + ` \q \n \x41"`, []string{"$x ` \\q \n A"}},
		{`"!echo \"a\"; echo NEXT >&5"`, []string{`!echo "a"; echo NEXT >&5`}},
	} {
		got, err := SplitWords(c.in)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("SplitWords(%s) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{`"abc`, `'abc`, `abc\`, `"\x4"`} {
		if got, err := SplitWords(bad); err == nil {
			t.Errorf("SplitWords(%s) = %q, want an error", bad, got)
		}
	}

	for _, bad := range []string{
		"### ML01  no tag\n",
		"### ML01  t   [verified]\n  argv   : x\n  stdin  : \"\"\n  bogus  : 1\n",
		"### ML01  t   [verified]\n  argv   : x\n  stdin  : 3 bytes: \"ab\"\n",
		"### ML01  t   [verified]\n  argv   : x\n  stdin  : gen_lines(2)  (7 bytes)\n",
		"### ML01  t   [verified]\n  argv   : x\n  stdin  : \"\"\n      current mode=0644 size=0  content=\"\"\n",
		"### ML01  t   [verified]\n  argv   : x\n  stdin  : \"\"\n  dir d:\n      current mode=0644 size=0  content=\"\" junk\n",
		"### ML01  t   [verified]\n  argv   : x\n  stdin  : \"\"\n  stdout : \"a\"   (masked?)\n",
		"### ML01  t   [verified]\n  argv   : x\n",
		"### ML01  t   [verified]\n  argv   : x\n  stdin  : \"\"\n  pre    : f mode=0644\n",
	} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("Parse(%q) succeeded", bad)
		}
	}
	f, err := Parse([]byte("### ML99  t   [MISMATCH]\n  argv   : x\n  stdin  : gen_lines(2, width=10)  (20 bytes)\n  dir d:\n      sub                    dir mode=2755\n"))
	if err != nil {
		t.Fatal(err)
	}
	c := f.Cases[0]
	if c.Verified || string(c.Stdin()) != "000xxxxxx\n001xxxxxx\n" || !c.Dirs[0].Entries[0].Dir ||
		c.Dirs[0].Entries[0].Mode != fs.ModeSetgid|0o755 || UnixMode(c.Dirs[0].Entries[0].Mode) != 0o2755 {
		t.Errorf("%+v", c)
	}
}

func TestCheckFile(t *testing.T) {
	d := Get(t, "ML16").Dirs[0]
	arch, _ := d.Entry("@<TAI64N#1>.s")
	content := GenLines(100, 100)[5000:7100]
	name := "@400000006a1b2c3d0e0f1011.s"
	if err := CheckFile(arch, name, 0o744, content); err != nil {
		t.Fatal(err)
	}
	if err := CheckFile(arch, "@<TAI64N#1>.s", 0o744, content); err != nil {
		t.Fatal(err)
	}
	changed := bytes.Clone(content)
	changed[1000] = 'y' // same size, lines and prefixes: only the hash tells
	lastLine := bytes.Clone(content)
	lastLine[2001] = '9'
	for _, c := range []struct {
		name    string
		mode    fs.FileMode
		content []byte
		want    string
	}{
		{name, 0o644, content, "mode 0644, want 0744"},
		{name, 0o744 | fs.ModeSetuid, content, "mode 4744, want 0744"},
		{name, fs.ModeDir | 0o744, nil, "is a directory"},
		{"@400000006a1b2c3d0e0f1011.u", 0o744, content, "name"},
		{"current", 0o744, content, "name"},
		{name, 0o744, content[:2000], "size 2000, want 2100"},
		{name, 0o744, changed, "sha256(masked)"},
		{name, 0o744, lastLine, "last line starts"},
		{name, 0o744, append([]byte("X"), content[1:]...), "first line starts"},
		{name, 0o744, bytes.ReplaceAll(content, []byte("x\n07"), []byte("xx07")), "newlines"},
	} {
		err := CheckFile(arch, c.name, c.mode, c.content)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("CheckFile(%s, %v, %d bytes) = %v; want %q", c.name, c.mode, len(c.content), err, c.want)
		}
	}

	// Full content, masked.
	cur, _ := Get(t, "ML04").Dirs[0].Entry("current")
	real := []byte("@4000000069f1e2d30a1b2c3d a\n@4000000069f1e2d30a1b2c3d \n@4000000069f1e2d30a1b2c3e b\x00c\n")
	if err := CheckFile(cur, "current", 0o744, real); err != nil {
		t.Error(err)
	}
	if err := CheckFile(cur, "current", 0o744, bytes.Replace(real, []byte("b\x00c"), []byte("b\x01c"), 1)); err == nil ||
		!strings.Contains(err.Error(), `content: got "@<TAI64N> a\n@<TAI64N> \n@<TAI64N> b\x01c\n"`) {
		t.Errorf("changed content: %v", err)
	}
	st := Get(t, "ML10").Files[0]
	if err := CheckFile(st, "st1", 0o600, []byte("STAT 2"+rep("\n", 995))); err != nil {
		t.Error(err)
	}
	if err := CheckFile(st, "st1", 0o600, []byte("STAT 1"+rep("\n", 995))); err == nil ||
		!strings.Contains(err.Error(), "first difference at byte 5") {
		t.Errorf("ML10 changed: %v", err)
	}
	// Describe writes what the file shows.
	for _, e := range Get(t, "ML16").Dirs[0].Entries[:1] {
		if got := Describe(content, true); got != e.Desc {
			t.Errorf("Describe = %s\nwant       %s", got, e.Desc)
		}
	}
	if got := Describe([]byte("@4000000069f1e2d30a1b2c3d x\n"), true); got != `content="@<TAI64N> x\n"` {
		t.Errorf("Describe = %s", got)
	}
	if s := Summarize([]byte("ab\ncd")); string(s.LastLinePrefix) != "cd" || s.Newlines != 1 || string(s.FirstLinePrefix) != "ab" {
		t.Errorf("Summarize: %+v", s)
	}
	if s := Summarize(nil); len(s.FirstLinePrefix) != 0 || len(s.LastLinePrefix) != 0 || s.Newlines != 0 ||
		s.SHA256 != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
		t.Errorf("Summarize(nil): %+v", s)
	}
}

// describedAs reports whether an entry of dir, with e's (masked) name
// and size, is described as e.Desc by Describe.
func describedAs(dir string, e FileExpect) bool {
	entries, _ := os.ReadDir(dir)
	names := make([]string, len(entries))
	for i, n := range entries {
		names[i] = n.Name()
	}
	for i, shown := range MaskNames(names) {
		if shown != e.Name {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, names[i]))
		return err == nil && int64(len(b)) == e.Size && Describe(b, e.DateTimes) == e.Desc
	}
	return false
}

// reference returns the real program a case was observed on, skipping the
// test when it is not installed.
func reference(t *testing.T, c Case) string {
	t.Helper()
	p := filepath.Join("/usr/bin", c.Argv[0])
	testref.Need(t, p)
	return p
}

func run(t *testing.T, c Case, program string) (string, Result) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "cwd")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := c.Prepare(dir); err != nil {
		t.Fatal(err)
	}
	r, err := c.Exec(program, dir)
	if err != nil {
		t.Fatal(err)
	}
	return dir, r
}

// TestAgainstReferences replays every automated case on the real program
// it was observed on and checks the run with Case.Check: the parser, the
// masks and the checkers must accept what the real programs do. All 74
// cases take well under a second.
func TestAgainstReferences(t *testing.T) {
	f := loadAll(t)
	for _, c := range f.Cases {
		t.Run(c.ID, func(t *testing.T) {
			t.Parallel()
			dir, r := run(t, c, reference(t, c))
			if err := c.Check(dir, r); err != nil {
				t.Fatal(err)
			}
			// What the real program left is described exactly as the file
			// describes it.
			for _, d := range c.Dirs {
				for _, e := range d.Entries {
					if !e.Dir && !describedAs(filepath.Join(dir, d.Name), e) {
						t.Errorf("dir %s: no entry is described as %s %s", d.Name, e.Name, e.Desc)
					}
				}
			}
			for _, fe := range c.Files {
				b, err := os.ReadFile(filepath.Join(dir, fe.Name))
				if err != nil || QuoteRuns(MaskStamps(b)) != fe.Desc {
					t.Errorf("file %s: %s, want %s (%v)", fe.Name, QuoteRuns(MaskStamps(b)), fe.Desc, err)
				}
			}
		})
	}
}

// The checker catches a wrong run: the real multilog's ML16 directory with
// one change at a time.
func TestCheckDirRejects(t *testing.T) {
	c := Get(t, "ML16")
	prog := reference(t, c)
	for _, change := range []struct {
		what string
		do   func(d string, archives []string) error
		want string
	}{
		{"nothing", func(string, []string) error { return nil }, ""},
		{"a byte of current", func(d string, _ []string) error {
			return os.WriteFile(filepath.Join(d, "current"), bytes.Replace(GenLines(100, 100)[9200:], []byte("95x"), []byte("95y"), 1), 0o644)
		}, "current: sha256(masked)"},
		{"mode of current", func(d string, _ []string) error { return os.Chmod(filepath.Join(d, "current"), 0o644) }, "current: mode 0644, want 0744"},
		{"an extra archive", func(d string, _ []string) error {
			return os.WriteFile(filepath.Join(d, "@400000000000000000000000.s"), nil, 0o744)
		}, "entries"},
		{"a missing state", func(d string, _ []string) error { return os.Remove(filepath.Join(d, "state")) }, "entries"},
		{"archives swapped", func(d string, a []string) error {
			for _, step := range [][2]string{{a[0], "tmp"}, {a[1], a[0]}, {"tmp", a[1]}} {
				if err := os.Rename(filepath.Join(d, step[0]), filepath.Join(d, step[1])); err != nil {
					return err
				}
			}
			return nil
		}, "@<TAI64N#1>.s: sha256(masked)"},
		{"an archive renamed .u", func(d string, a []string) error {
			return os.Rename(filepath.Join(d, a[1]), filepath.Join(d, a[1][:25]+".u"))
		}, "entries"},
	} {
		t.Run(change.what, func(t *testing.T) {
			dir, r := run(t, c, prog)
			d := filepath.Join(dir, "d")
			var archives []string
			entries, _ := os.ReadDir(d)
			for _, e := range entries {
				if IsArchiveName(e.Name()) {
					archives = append(archives, e.Name())
				}
			}
			if len(archives) != 2 {
				t.Fatalf("archives %q", archives)
			}
			if err := change.do(d, archives); err != nil {
				t.Fatal(err)
			}
			err := c.Check(dir, r)
			switch {
			case change.want == "" && err != nil:
				t.Fatal(err)
			case change.want != "" && (err == nil || !strings.Contains(err.Error(), change.want)):
				t.Fatalf("Check = %v; want an error with %q", err, change.want)
			}
		})
	}
	// And a wrong exit code or output.
	dir, r := run(t, c, prog)
	r.Exit, r.Stderr = 111, []byte("oops\n")
	if err := c.Check(dir, r); err == nil || !strings.Contains(err.Error(), "exit 111, want 0") ||
		!strings.Contains(err.Error(), `stderr: got "oops\n", want ""`) {
		t.Errorf("Check = %v", err)
	}
}
