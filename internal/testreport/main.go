// Command testreport reads `go test -json` on standard input and writes
// what `go test` alone would (a line per package, and the whole output of
// each test that failed), then every test that skipped with its reason,
// then a count line: "N passed, N failed, N skipped". CI uses it so that
// a test that skipped (a reference program or server not installed) is
// seen, not hidden in a passing package.
//
//	go test -json ./... | go run ./internal/testreport [-allow-skips]
//
// It exits 1 when a test or package failed, when the input ended without
// a package's result, or (unless -allow-skips) when a test skipped.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// event is one line of test2json's output.
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

type testKey struct{ pkg, test string }

type report struct {
	out                     io.Writer
	output                  map[testKey]*strings.Builder // a running test's output so far
	skipped                 []string                     // "pkg Test: reason"
	passed, failed, skips   int
	packagesOK, packagesBad int
	started, ended          map[string]bool
}

func main() {
	allowSkips := flag.Bool("allow-skips", false, "do not fail when a test skipped")
	flag.Parse()
	r := &report{out: os.Stdout, output: map[testKey]*strings.Builder{}, started: map[string]bool{}, ended: map[string]bool{}}
	if err := r.read(os.Stdin); err != nil {
		fmt.Fprintf(os.Stderr, "testreport: %v\n", err)
		os.Exit(1)
	}
	os.Exit(r.finish(*allowSkips))
}

func (r *report) read(in io.Reader) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			// Not test2json's: the go command's own words (a build error).
			fmt.Fprintf(r.out, "%s\n", line)
			continue
		}
		r.add(e)
	}
	return sc.Err()
}

func (r *report) add(e event) {
	if e.Package != "" {
		r.started[e.Package] = true
	}
	if e.Test == "" {
		switch e.Action {
		case "output", "build-output":
			// The package's own lines: "ok  pkg 1.2s", "FAIL pkg", build
			// errors; not the bare PASS that -v adds.
			if e.Output != "PASS\n" && !strings.HasPrefix(e.Output, "=== ") {
				fmt.Fprint(r.out, e.Output)
			}
		case "pass", "skip":
			r.ended[e.Package] = true
			r.packagesOK++
		case "fail":
			r.ended[e.Package] = true
			r.packagesBad++
		}
		return
	}
	k := testKey{e.Package, e.Test}
	switch e.Action {
	case "run":
		r.output[k] = &strings.Builder{}
	case "output":
		if b := r.output[k]; b != nil {
			b.WriteString(e.Output)
		}
	case "pass":
		r.passed++
		delete(r.output, k)
	case "fail":
		r.failed++
		if b := r.output[k]; b != nil {
			fmt.Fprintf(r.out, "--- FAIL: %s %s\n%s", e.Package, e.Test, b.String())
		}
		delete(r.output, k)
	case "skip":
		r.skips++
		r.skipped = append(r.skipped, e.Package+" "+e.Test+": "+skipReason(r.output[k]))
		delete(r.output, k)
	}
}

// skipReason is what t.Skip said: the test's own output lines, which
// test2json streams before its "--- SKIP" line.
func skipReason(b *strings.Builder) string {
	if b == nil {
		return "(no reason given)"
	}
	var reason []string
	for l := range strings.Lines(b.String()) {
		if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "=== ") && !strings.HasPrefix(t, "--- ") {
			reason = append(reason, t)
		}
	}
	if len(reason) == 0 {
		return "(no reason given)"
	}
	return strings.Join(reason, " ")
}

func (r *report) finish(allowSkips bool) int {
	var unfinished []string
	for p := range r.started {
		if !r.ended[p] {
			unfinished = append(unfinished, p)
		}
	}
	sort.Strings(unfinished)
	for _, p := range unfinished {
		fmt.Fprintf(r.out, "testreport: package %s has no result (the test binary died?)\n", p)
	}
	if len(r.skipped) == 0 {
		fmt.Fprintln(r.out, "skipped tests: none")
	} else {
		fmt.Fprintf(r.out, "skipped tests (%d):\n", len(r.skipped))
		for _, s := range r.skipped {
			fmt.Fprintf(r.out, "  SKIP %s\n", s)
		}
	}
	fmt.Fprintf(r.out, "%d passed, %d failed, %d skipped\n", r.passed, r.failed, r.skips)
	switch {
	case r.failed > 0 || r.packagesBad > 0 || len(unfinished) > 0:
		return 1
	case r.skips > 0 && !allowSkips:
		fmt.Fprintln(r.out, "testreport: tests skipped: install what they name (.ci/run does on CI), or pass -allow-skips")
		return 1
	}
	return 0
}
