package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

const testLines = 10000

func generate(t *testing.T, lines int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := generateStampedLog(&buf, lines); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestCorpusDeterministic(t *testing.T) {
	a, b := generate(t, testLines), generate(t, testLines)
	if !bytes.Equal(a, b) {
		t.Fatal("two generations with the same line count differ")
	}
	// A smaller corpus is not a prefix of a larger one (the stamps spread over the same day),
	// but its line count must be exact.
	if n := bytes.Count(generate(t, 123), []byte("\n")); n != 123 {
		t.Fatalf("asked for 123 lines, got %d", n)
	}
}

// TestCorpusPinned pins the generator's output. The corpus is cached on disk under a versioned
// name, so a change here must come with a new Corpus.Name (corpus-v2, …) and a new digest.
func TestCorpusPinned(t *testing.T) {
	const want = "faa40a3f37b1e2d8b1e161e03b600384fb1eff6f9ebcde7a8a497a19d647532d"
	if got := fmt.Sprintf("%x", sha256.Sum256(generate(t, 1000))); got != want || stampedLogCorpus.Name != "corpus-v1" {
		t.Errorf("corpus %s is now %s: bump its version in Corpus.Name and update this test", stampedLogCorpus.Name, got)
	}
}

func TestCorpusLineLengths(t *testing.T) {
	data := generate(t, testLines)
	lines := bytes.SplitAfter(data, []byte("\n"))
	lines = lines[:len(lines)-1] // after the final newline
	if len(lines) != testLines {
		t.Fatalf("got %d lines, want %d", len(lines), testLines)
	}
	avg := float64(len(data)) / testLines
	if avg < 89 || avg > 95 {
		t.Errorf("average line length %.1f bytes, want about 92", avg)
	}
	short, long := 0, 0
	for _, l := range lines {
		switch {
		case len(l) < 50:
			short++
		case len(l) > 150:
			long++
		}
	}
	// The mix must include some unusually short and long lines, but mostly typical ones.
	if short == 0 || long == 0 || short+long > testLines/5 {
		t.Errorf("%d short and %d long lines out of %d", short, long, testLines)
	}
}

var stampRE = regexp.MustCompile(`^@([0-9a-f]{16})([0-9a-f]{8}) [^\n]*\n$`)

func TestCorpusStamps(t *testing.T) {
	sc := bufio.NewScanner(bytes.NewReader(generate(t, testLines)))
	var prevSec, prevNano, firstSec uint64
	for n := 0; sc.Scan(); n++ {
		line := sc.Text() + "\n"
		m := stampRE.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("line %d has no valid TAI64N stamp: %q", n+1, line)
		}
		sec, _ := strconv.ParseUint(m[1], 16, 64)
		nano, _ := strconv.ParseUint(m[2], 16, 32)
		if nano > 999999999 {
			t.Fatalf("line %d: nanoseconds %d out of range", n+1, nano)
		}
		if sec < 1<<62 || sec >= 1<<63 {
			t.Fatalf("line %d: seconds label %x is not a TAI64 label near now", n+1, sec)
		}
		if n == 0 {
			firstSec = sec
			if got := int64(sec - tai64Offset); got != corpusStart {
				t.Errorf("first stamp is Unix %d, want %d", got, corpusStart)
			}
		} else if sec < prevSec || sec == prevSec && nano < prevNano {
			t.Fatalf("line %d: stamp goes backwards", n+1)
		}
		prevSec, prevNano = sec, nano
	}
	// The stamps cover about one day whatever the line count.
	if span := prevSec - firstSec; span < corpusSpan*9/10 || span > corpusSpan*11/10 {
		t.Errorf("stamps span %d s, want about %d", span, corpusSpan)
	}
}

func TestCachedCorpus(t *testing.T) {
	dir := t.TempDir()
	path, size, generated, err := cachedCorpus(dir, stampedLogCorpus, 100)
	if err != nil || !generated {
		t.Fatalf("first call: generated=%v err=%v", generated, err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() != size {
		t.Fatalf("stat %s: %v (size %d, want %d)", path, err, fi.Size(), size)
	}
	if _, _, generated, err = cachedCorpus(dir, stampedLogCorpus, 100); err != nil || generated {
		t.Fatalf("second call regenerated (%v) or failed (%v)", generated, err)
	}
	// A truncated file (an interrupted write by some older version, say) is replaced.
	if err := os.Truncate(path, size/2); err != nil {
		t.Fatal(err)
	}
	if _, _, generated, err = cachedCorpus(dir, stampedLogCorpus, 100); err != nil || !generated {
		t.Fatalf("truncated file not regenerated (%v, %v)", generated, err)
	}
	if fi, _ := os.Stat(path); fi.Size() != size {
		t.Fatalf("size after regeneration %d, want %d", fi.Size(), size)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, "*.tmp")); len(leftovers) > 0 {
		t.Errorf("temporary files left behind: %v", leftovers)
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{5}, 5},
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{9, 1, 1, 1, 9}, 1},
	} {
		in := append([]float64(nil), tc.in...)
		if got := median(in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
		for i := range in {
			if in[i] != tc.in[i] {
				t.Errorf("median reordered its input: %v", in)
			}
		}
	}
}

func walls(ms ...int) []Sample {
	s := make([]Sample, len(ms))
	for i, m := range ms {
		s[i] = Sample{Wall: time.Duration(m) * time.Millisecond, User: time.Duration(m) * time.Millisecond / 2, MaxRSS: int64(m) << 10}
	}
	return s
}

func TestSummarize(t *testing.T) {
	sum := summarize(walls(300, 100, 200), 50e6)
	if sum.MedianWall != 200*time.Millisecond || sum.MinWall != 100*time.Millisecond || sum.MaxWall != 300*time.Millisecond {
		t.Errorf("median/min/max = %v/%v/%v", sum.MedianWall, sum.MinWall, sum.MaxWall)
	}
	if math.Abs(sum.MBps-250) > 1e-9 { // 50 MB in 0.2 s
		t.Errorf("MB/s = %v, want 250", sum.MBps)
	}
	if sum.MedianCPU != 100*time.Millisecond || sum.MaxRSS != 300<<10 || sum.Runs != 3 {
		t.Errorf("cpu %v, rss %d, runs %d", sum.MedianCPU, sum.MaxRSS, sum.Runs)
	}
}

func TestCompare(t *testing.T) {
	ours := walls(100, 100, 200)   // median 100
	theirs := walls(400, 300, 400) // median 400; per round 4, 3, 2
	c := compare("ref", ours, theirs)
	if c.RatioOfMedians != 4 || c.MedianPairRatio != 3 || c.Reference != "ref" {
		t.Errorf("compare = %+v, want ratio of medians 4 and median pair ratio 3", c)
	}
	if c := compare("ref", nil, theirs); c.RatioOfMedians != 0 || c.MedianPairRatio != 0 {
		t.Errorf("compare without samples = %+v, want zeros", c)
	}
}

func TestSuiteTable(t *testing.T) {
	seen := map[string]bool{"all": true}
	for _, s := range suites {
		if seen[s.Name] {
			t.Errorf("suite name %q used twice (or reserved)", s.Name)
		}
		seen[s.Name] = true
		if s.Corpus.Generate == nil || s.Corpus.Name == "" {
			t.Errorf("suite %s: corpus incomplete", s.Name)
		}
		ours, names := 0, map[string]bool{}
		for _, c := range s.Contenders {
			if (c.Build == "") == (c.Path == "") {
				t.Errorf("suite %s, contender %s: set exactly one of Build and Path", s.Name, c.Name)
			}
			if c.Path != "" && !filepath.IsAbs(c.Path) {
				t.Errorf("suite %s, contender %s: Path %q is not absolute", s.Name, c.Name, c.Path)
			}
			if c.Ours() {
				ours++
			}
			if names[c.Name] {
				t.Errorf("suite %s: contender name %q used twice", s.Name, c.Name)
			}
			names[c.Name] = true
		}
		if ours != 1 && len(s.Ratios) == 0 {
			t.Errorf("suite %s has %d contenders of ours, want 1 (or Ratios)", s.Name, ours)
		}
		for _, r := range s.Ratios {
			if !names[r.Of] || !names[r.To] {
				t.Errorf("suite %s: ratio %q names a contender it does not have", s.Name, r.Name)
			}
		}
	}
}

func TestSelectSuites(t *testing.T) {
	got, err := selectSuites([]string{"tai64nlocal", "all"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(suites) || got[0].Name != "tai64nlocal" {
		t.Errorf("selected %d suites starting with %q", len(got), got[0].Name)
	}
	if _, err := selectSuites([]string{"nope"}); err == nil || !strings.Contains(err.Error(), "unknown suite") {
		t.Errorf("unknown suite accepted: %v", err)
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"/usr/bin/tai64n":  "/usr/bin/tai64n",
		"TZ=Europe/Berlin": "TZ=Europe/Berlin",
		"a b":              "'a b'",
		"it's":             `'it'\''s'`,
		"":                 "''",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestPeakRSS(t *testing.T) {
	for _, tc := range []struct {
		rusage, sampled, harness, want int64
		kind                           string
	}{
		{rusage: 9 << 20, sampled: 8 << 20, harness: 5 << 20, want: 9 << 20, kind: rssExact},
		{rusage: 5 << 20, sampled: 1 << 20, harness: 5 << 20, want: 1 << 20, kind: rssSampled},
		{rusage: 5 << 20, sampled: 0, harness: 5 << 20, want: 5 << 20, kind: rssAtMost},
	} {
		if got, kind := peakRSS(tc.rusage, tc.sampled, tc.harness); got != tc.want || kind != tc.kind {
			t.Errorf("peakRSS(%d, %d, %d) = %d %q, want %d %q", tc.rusage, tc.sampled, tc.harness, got, kind, tc.want, tc.kind)
		}
	}
}

func TestReadHWM(t *testing.T) {
	path := filepath.Join(t.TempDir(), "status")
	status := "Name:\tcat\nVmPeak:\t    8000 kB\nVmHWM:\t    1234 kB\nVmRSS:\t    1000 kB\n"
	if err := os.WriteFile(path, []byte(status), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := readHWM(path); got != 1234<<10 {
		t.Errorf("readHWM = %d, want %d", got, 1234<<10)
	}
	zombie := "Name:\tcat\nState:\tZ (zombie)\n"
	if err := os.WriteFile(path, []byte(zombie), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := readHWM(path); got != 0 {
		t.Errorf("readHWM of a zombie = %d, want 0", got)
	}
}

// The tests below start real (tiny) processes; they check behaviour, never timing.

func needSh(t *testing.T) {
	t.Helper()
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
}

func testInvocation(t *testing.T, script string, stdout StdoutMode) invocation {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	if err := os.WriteFile(in, []byte("one\ntwo\nthree\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return invocation{Argv: []string{"/bin/sh", "-c", script}, Env: os.Environ(), Dir: dir,
		Stdin: in, Stdout: stdout, StderrFile: filepath.Join(dir, "stderr")}
}

func TestMeasure(t *testing.T) {
	needSh(t)
	ctx := t.Context()
	buf := make([]byte, 4096)

	s, err := measure(ctx, testInvocation(t, "cat; cat /dev/null", StdoutPipe), buf)
	if err != nil || s.OutBytes != int64(len("one\ntwo\nthree\n")) || s.Wall <= 0 {
		t.Errorf("pipe: %+v, %v; want the 14 bytes of stdin counted", s, err)
	}
	if s, err := measure(ctx, testInvocation(t, "cat", StdoutDevNull), buf); err != nil || s.OutBytes != 0 {
		t.Errorf("/dev/null: %+v, %v", s, err)
	}
	if _, err := measure(ctx, testInvocation(t, "echo oops >&2", StdoutDevNull), buf); err == nil || !strings.Contains(err.Error(), "oops") {
		t.Errorf("stderr output: err = %v, want one quoting it", err)
	}
	if _, err := measure(ctx, testInvocation(t, "echo bad >&2; exit 3", StdoutDevNull), buf); err == nil ||
		!strings.Contains(err.Error(), "exit status 3") || !strings.Contains(err.Error(), "bad") {
		t.Errorf("failing exit: err = %v, want exit status and stderr", err)
	}
}

func TestRunOnceHooks(t *testing.T) {
	needSh(t)
	corpus := filepath.Join(t.TempDir(), "corpus")
	if err := os.WriteFile(corpus, []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var setupDir string
	c := Contender{
		Name: "sh", Path: "/bin/sh",
		Args: []string{"-c", "test -f marker && cat > out"}, // needs Setup's file, in the cwd
		Setup: func(r *Run) error {
			setupDir = r.Dir
			return os.WriteFile(filepath.Join(r.Dir, "marker"), nil, 0o644)
		},
		Cleanup: func(r *Run) error {
			if b, err := os.ReadFile(filepath.Join(r.Dir, "out")); err != nil || string(b) != "x\n" {
				return errors.New("no copy of the corpus in out")
			}
			return nil
		},
	}
	s := Suite{Name: "hooks", Contenders: []Contender{c}}
	h := &harness{opts: options{warmup: 1}, work: t.TempDir()}
	for round := -1; round < 2; round++ {
		if _, err := h.runOnce(t.Context(), &s, &s.Contenders[0], append([]string{c.Path}, c.Args...), os.Environ(), corpus, round); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if _, err := os.Stat(setupDir); !os.IsNotExist(err) {
			t.Errorf("round %d: scratch directory %s not removed", round, setupDir)
		}
	}
	s.Contenders[0].Cleanup = func(*Run) error { return errors.New("bad output") }
	if _, err := h.runOnce(t.Context(), &s, &s.Contenders[0], append([]string{c.Path}, c.Args...), os.Environ(), corpus, 2); err == nil {
		t.Error("a failing Cleanup was not reported")
	}
}

// A daemon's run: Setup adds an argument and registers what to undo, Until ends the run once
// the program did its work, and what it says as it is stopped is no failure; one that exits
// before its work is done fails, and what Setup registered is undone either way.
func TestRunOnceUntil(t *testing.T) {
	needSh(t)
	corpus := filepath.Join(t.TempDir(), "corpus")
	if err := os.WriteFile(corpus, []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var undone []string
	c := Contender{
		Name: "daemon", Path: "/bin/sh",
		// Writes its argument, then waits to be stopped and says so on stderr.
		Args: []string{"-c", `trap 'kill $p; echo stopping >&2; exit 0' TERM; echo "$1" > arg.tmp && mv arg.tmp arg; sleep 600 & p=$!; wait $p`, "sh"},
		Setup: func(r *Run) error {
			r.Args = []string{"hello"}
			r.Defer(func() { undone = append(undone, "first") })
			r.Defer(func() { undone = append(undone, "second") })
			return nil
		},
		Until: func(r *Run) (bool, error) {
			b, err := os.ReadFile(filepath.Join(r.Dir, "arg"))
			return err == nil && string(b) == "hello\n", nil
		},
	}
	s := Suite{Name: "until", Contenders: []Contender{c}}
	h := &harness{opts: options{warmup: 0}, work: t.TempDir()}
	argv := append([]string{c.Path}, c.Args...)
	if sample, err := h.runOnce(t.Context(), &s, &s.Contenders[0], argv, os.Environ(), corpus, 0); err != nil || sample.Wall <= 0 {
		t.Fatalf("%+v, %v", sample, err)
	}
	if strings.Join(undone, " ") != "second first" {
		t.Errorf("undone: %q, want second then first", undone)
	}
	undone = nil
	s.Contenders[0].Args = []string{"-c", "exit 0"}
	if _, err := h.runOnce(t.Context(), &s, &s.Contenders[0], []string{"/bin/sh", "-c", "exit 0"}, os.Environ(), corpus, 1); err == nil ||
		!strings.Contains(err.Error(), "before its work was done") {
		t.Errorf("an early exit: %v", err)
	}
	if len(undone) != 2 {
		t.Errorf("undone after a failure: %q", undone)
	}
}

func TestCommandLineShowsUnsetVariables(t *testing.T) {
	s := &Suite{Env: []string{"TZ"}}
	got := commandLine("Europe/Berlin", s, []string{"/usr/bin/tai64nlocal"}, "/c", StdinFile)
	if want := "env -u TZ /usr/bin/tai64nlocal < /c > /dev/null"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	s = &Suite{Env: []string{"A=1"}}
	got = commandLine("UTC", s, []string{"x"}, "/c", StdinFile)
	if want := "TZ=UTC A=1 x < /c > /dev/null"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestCommandLineShowsThePipe(t *testing.T) {
	got := commandLine("", &Suite{}, []string{"/usr/bin/multilog", "t", "./d"}, "/c", StdinPipe)
	if want := "cat /c | /usr/bin/multilog t ./d > /dev/null"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// TestLoggedCorpus: the physical limit's input is the corpus with a logger's stamp before every
// line, and nothing else.
func TestLoggedCorpus(t *testing.T) {
	var plain, logged bytes.Buffer
	if err := stampedLogCorpus.Generate(&plain, 500); err != nil {
		t.Fatal(err)
	}
	if err := loggedCorpus.Generate(&logged, 500); err != nil {
		t.Fatal(err)
	}
	want := loggerStamp + strings.ReplaceAll(strings.TrimSuffix(plain.String(), "\n"), "\n", "\n"+loggerStamp) + "\n"
	if logged.String() != want {
		t.Fatalf("logged corpus differs from the corpus stamped once more (%d vs %d bytes)", logged.Len(), len(want))
	}
}

// TestRatios: a suite's ratios are the median over rounds of one contender's time over the
// other's, and say whether their target was met.
func TestRatios(t *testing.T) {
	ms := func(xs ...int) []Sample {
		var out []Sample
		for _, x := range xs {
			out = append(out, Sample{Wall: time.Duration(x) * time.Millisecond})
		}
		return out
	}
	r := &SuiteResult{CorpusBytes: 1, Contenders: []ContenderResult{
		{Name: "pipe", Status: statusOK, Samples: ms(150, 120, 300)},
		{Name: "limit", Status: statusOK, Samples: ms(100, 100, 100)},
	}}
	r.finish([]Ratio{{Name: "pipe / limit", Of: "pipe", To: "limit", Target: 1.4}})
	if len(r.Ratios) != 1 || len(r.Comparisons) != 0 {
		t.Fatalf("ratios %+v, comparisons %+v", r.Ratios, r.Comparisons)
	}
	q := r.Ratios[0]
	if math.Abs(q.MedianPairRatio-1.5) > 1e-9 || q.Met {
		t.Fatalf("got %+v, want a median of 1.5 over a target of 1.4", q)
	}
}
