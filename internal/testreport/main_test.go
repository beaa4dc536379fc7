package main

import (
	"strings"
	"testing"
)

func reportOn(t *testing.T, input string, allowSkips bool) (string, int) {
	t.Helper()
	var out strings.Builder
	r := &report{out: &out, output: map[testKey]*strings.Builder{}, started: map[string]bool{}, ended: map[string]bool{}}
	if err := r.read(strings.NewReader(input)); err != nil {
		t.Fatal(err)
	}
	code := r.finish(allowSkips)
	return out.String(), code
}

// Lines as `go test -json` writes them (go 1.26), for a package with a
// passing, a skipped and a failing test.
const sample = `{"Action":"start","Package":"p"}
{"Action":"run","Package":"p","Test":"TestA"}
{"Action":"output","Package":"p","Test":"TestA","Output":"=== RUN   TestA\n"}
{"Action":"output","Package":"p","Test":"TestA","Output":"--- PASS: TestA (0.00s)\n"}
{"Action":"pass","Package":"p","Test":"TestA"}
{"Action":"run","Package":"p","Test":"TestB"}
{"Action":"output","Package":"p","Test":"TestB","Output":"=== RUN   TestB\n"}
{"Action":"output","Package":"p","Test":"TestB","Output":"    b_test.go:9: reference program /usr/bin/multilog is not installed: apt-get install daemontools\n"}
{"Action":"output","Package":"p","Test":"TestB","Output":"--- SKIP: TestB (0.00s)\n"}
{"Action":"skip","Package":"p","Test":"TestB"}
{"Action":"run","Package":"p","Test":"TestC"}
{"Action":"output","Package":"p","Test":"TestC","Output":"=== RUN   TestC\n"}
{"Action":"output","Package":"p","Test":"TestC","Output":"    c_test.go:3: got 1, want 2\n"}
{"Action":"output","Package":"p","Test":"TestC","Output":"--- FAIL: TestC (0.00s)\n"}
{"Action":"fail","Package":"p","Test":"TestC"}
{"Action":"output","Package":"p","Output":"FAIL\n"}
{"Action":"output","Package":"p","Output":"FAIL\tp\t0.01s\n"}
{"Action":"fail","Package":"p"}
`

func TestReport(t *testing.T) {
	out, code := reportOn(t, sample, true)
	for _, want := range []string{
		"--- FAIL: p TestC\n", "got 1, want 2\n", "FAIL\tp\t0.01s\n",
		"skipped tests (1):\n  SKIP p TestB: b_test.go:9: reference program /usr/bin/multilog is not installed: apt-get install daemontools\n",
		"\n1 passed, 1 failed, 1 skipped\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if code != 1 {
		t.Errorf("a failure gives exit %d", code)
	}
	if strings.Contains(out, "TestA") {
		t.Errorf("a passing test's output is shown:\n%s", out)
	}
}

func TestReportSkipsFailUnlessAllowed(t *testing.T) {
	passing := strings.NewReplacer(`"Action":"fail","Package":"p","Test":"TestC"`, `"Action":"pass","Package":"p","Test":"TestC"`,
		`{"Action":"fail","Package":"p"}`, `{"Action":"pass","Package":"p"}`).Replace(sample)
	if _, code := reportOn(t, passing, false); code != 1 {
		t.Errorf("a skip without -allow-skips gives exit %d", code)
	}
	if out, code := reportOn(t, passing, true); code != 0 || !strings.Contains(out, "2 passed, 0 failed, 1 skipped") {
		t.Errorf("with -allow-skips: exit %d\n%s", code, out)
	}
}

// A package whose test binary died leaves no result: that is a failure,
// and so is a build error, which the go command writes as plain text.
func TestReportUnfinishedAndBuildErrors(t *testing.T) {
	out, code := reportOn(t, `{"Action":"start","Package":"q"}
{"Action":"run","Package":"q","Test":"TestX"}
`, true)
	if code != 1 || !strings.Contains(out, "package q has no result") {
		t.Errorf("unfinished package: exit %d\n%s", code, out)
	}
	out, code = reportOn(t, `# q
q/x.go:1:1: syntax error
{"Action":"output","Package":"q","Output":"FAIL\tq [build failed]\n"}
{"Action":"fail","Package":"q"}
`, true)
	if code != 1 || !strings.Contains(out, "q/x.go:1:1: syntax error\n") || !strings.Contains(out, "FAIL\tq [build failed]") {
		t.Errorf("build failure: exit %d\n%s", code, out)
	}
}
