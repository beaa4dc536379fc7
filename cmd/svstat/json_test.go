package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/taikit/taikit/internal/testref"
	"github.com/taikit/taikit/supervise"
	"github.com/taikit/taikit/tai64n"
)

// TestJSON: svstat -j gives each directory's state as one JSON object a
// line, with svstat's words beside it.
func TestJSON(t *testing.T) {
	root := t.TempDir()
	now := time.Now()
	when := tai64n.FromTime(now.Add(-50*time.Second), tai64n.Daemontools)
	up := fakeService(t, root, "up", supervise.Status{When: when, PID: 77, Want: 'u'}, false)
	must(t, os.WriteFile(supervise.ExtraPath(up), supervise.Extra{Status: when, Restarts: 2, Readiness: supervise.Checking}.Append(nil), 0o644))
	down := fakeService(t, root, "down", supervise.Status{When: when, Want: 'd'}, true)
	missing := filepath.Join(root, "missing")
	var out bytes.Buffer
	if code := run([]string{"-j", up, down, missing}, &out, func() time.Time { return now }); code != 0 {
		t.Errorf("exit %d", code)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines:\n%s", len(lines), out.String())
	}
	var got [3]map[string]any
	for i, l := range lines {
		if err := json.Unmarshal([]byte(l), &got[i]); err != nil {
			t.Fatalf("line %d %q: %v", i, l, err)
		}
	}
	check := func(i int, key string, want any) {
		t.Helper()
		if g := got[i][key]; g != want {
			t.Errorf("line %d: %s = %#v, want %#v", i, key, g, want)
		}
	}
	check(0, "service", up)
	check(0, "up", true)
	check(0, "pid", float64(77))
	check(0, "want", "up")
	check(0, "extra", true)
	check(0, "readiness", "checking")
	check(0, "restarts", float64(2))
	check(0, "since", when.Time(tai64n.Daemontools).Format(time.RFC3339Nano))
	check(0, "text", "up (pid 77) 50 seconds, not ready, 2 restarts")
	check(1, "up", false)
	check(1, "normally_up", false)
	check(1, "want", "down")
	check(1, "extra", false)
	check(1, "text", "down 50 seconds")
	check(2, "error", "unable to chdir: file does not exist")
	check(2, "text", "unable to chdir: file does not exist")
}

// TestJSONOnlyFirst: -j anywhere but first is a directory, as daemontools'
// svstat takes it.
func TestJSONOnlyFirst(t *testing.T) {
	testref.Need(t, svstat)
	compare(t, []string{t.TempDir(), "-j"})
	compare(t, []string{"./-j"})
}
