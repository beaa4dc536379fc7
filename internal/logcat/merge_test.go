package logcat

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/taikit/taikit/internal/logtest"
	"github.com/taikit/taikit/tzlocal"
)

// runLogcat runs the command with args and returns its output, messages
// and exit code.
func runLogcat(args ...string) (string, string, int) {
	var out, errs bytes.Buffer
	code := Run(args, Env{
		Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errs,
		Now:       time.Now,
		LocalZone: func() *tzlocal.Zone { return nil },
	})
	return out.String(), errs.String(), code
}

func TestMergeThreeDirectories(t *testing.T) {
	dirs, want := logtest.MergeFixture(t, t.TempDir(), -1)
	for _, d := range dirs {
		if archives, _ := filepath.Glob(filepath.Join(d, "@*.s")); len(archives) < 5 {
			t.Fatalf("%s: %d archives, want several", d, len(archives))
		}
	}
	out, errs, code := runLogcat(append([]string{"--no-label"}, dirs...)...)
	if code != 0 || errs != "" {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if out != want {
		t.Fatalf("merge differs:\n%s", firstDiff(want, out))
	}
}

func TestMergeWithAnEmptyDirectory(t *testing.T) {
	dirs, want := logtest.MergeFixture(t, t.TempDir(), 1)
	out, errs, code := runLogcat(append([]string{"--no-label"}, dirs...)...)
	if code != 0 || errs != "" {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if out != want {
		t.Fatalf("merge differs:\n%s", firstDiff(want, out))
	}
}

// A directory that is not there is named in a warning; the others are
// still read and merged, and the exit code says something was missing.
func TestMergeWithAMissingDirectory(t *testing.T) {
	root := t.TempDir()
	dirs, want := logtest.MergeFixture(t, root, 1)
	missing := filepath.Join(root, "nope")
	for _, args := range [][]string{
		{dirs[0], missing, dirs[2]},
		{missing, dirs[0], dirs[2]},
		{dirs[0], dirs[2], missing},
	} {
		out, errs, code := runLogcat(append([]string{"--no-label"}, args...)...)
		if code != 111 {
			t.Errorf("%q: exit %d, want 111", args, code)
		}
		if wantMsg := "logcat: warning: unable to read " + missing + ": file does not exist\n"; errs != wantMsg {
			t.Errorf("%q: messages %q, want %q", args, errs, wantMsg)
		}
		if out != want {
			t.Errorf("%q: merge differs:\n%s", args, firstDiff(want, out))
		}
	}
}

// firstDiff describes where two outputs first differ.
func firstDiff(want, got string) string {
	w, g := strings.SplitAfter(want, "\n"), strings.SplitAfter(got, "\n")
	for i := range min(len(w), len(g)) {
		if w[i] != g[i] {
			return fmt.Sprintf("line %d: got %q, want %q", i+1, g[i], w[i])
		}
	}
	return fmt.Sprintf("%d lines, want %d", len(g), len(w))
}

// Merged, each line is written after the name of the directory it came
// from, padded to the longest; without the labels the merge is the same.
func TestMergeLabels(t *testing.T) {
	root := t.TempDir()
	dirs, want := logtest.MergeFixture(t, root, -1)
	long := filepath.Join(root, "service", "longer-name", "log", "main")
	if err := os.MkdirAll(long, 0o755); err != nil {
		t.Fatal(err)
	}
	out, errs, code := runLogcat(append(dirs, long)...)
	if code != 0 || errs != "" {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var plain strings.Builder
	width := len("longer-name")
	for l := range strings.Lines(out) {
		at := markAt(l)
		pre, rest := l[at:at+width+2], l[at+width+2:]
		name, pad, ok := strings.Cut(pre, ":")
		if !ok || len(pad) != width-len(name)+1 || strings.Trim(pad, " ") != "" {
			t.Fatalf("line %q: not a label padded to %d after its stamp", l, width)
		}
		if !strings.Contains(rest, "dir"+name[1:]+" line") {
			t.Fatalf("line %q labelled %s", l, name)
		}
		plain.WriteString(l[:at] + rest)
	}
	if plain.String() != want {
		t.Fatalf("merge under the labels differs:\n%s", firstDiff(want, plain.String()))
	}
	out, _, _ = runLogcat("-H", dirs[1])
	if !strings.HasPrefix(out, "d1: ") || !regexp.MustCompile(`(?m)^@[0-9a-f]{24} d1: `).MatchString(out) {
		t.Errorf("-H with one directory: %.40q", out)
	}
	out, _, _ = runLogcat("-j", dirs[0], dirs[2])
	if !strings.HasPrefix(out, `{"label":"d0","time":`) {
		t.Errorf("-j: %.60q", out)
	}
}

// Context crosses the archives of a directory and the directories of a
// merge: it is the lines around in the stream as written without it.
func TestContextAcrossArchivesAndMerges(t *testing.T) {
	dirs, _ := logtest.MergeFixture(t, t.TempDir(), -1)
	re := regexp.MustCompile(`line [0-9]*(17|40|41|99)( |$)`)
	for _, args := range [][]string{{dirs[0]}, {"--no-label", dirs[0]}, dirs} {
		all, _, code := runLogcat(args...)
		if code != 0 {
			t.Fatalf("%q: exit %d", args, code)
		}
		var lines []string
		for l := range strings.Lines(all) {
			lines = append(lines, strings.TrimSuffix(l, "\n"))
		}
		for _, bf := range [][2]int{{2, 3}, {0, 1}, {4, 0}} {
			ctx := append([]string{"-B", fmt.Sprint(bf[0]), "-A", fmt.Sprint(bf[1]), "-E", re.String()}, args...)
			got, _, code := runLogcat(ctx...)
			if code != 0 {
				t.Fatalf("%q: exit %d", ctx, code)
			}
			want := contextModel(lines, re.MatchString, bf[0], bf[1], 0, -1)
			// The model marks every line "x: " or "x- " after its stamp;
			// logcat marks only labelled lines, with their labels.
			var w strings.Builder
			for l := range strings.Lines(want) {
				if l == "--\n" {
					w.WriteString(l)
					continue
				}
				at := markAt(l)
				mark, rest := l[at:at+3], l[at+3:]
				if len(args) == 3 {
					name, text, _ := strings.Cut(rest, ": ")
					rest = name + mark[1:] + text
				}
				w.WriteString(l[:at] + rest)
			}
			if got != w.String() {
				t.Errorf("%q differs:\n%s", ctx, firstDiff(w.String(), got))
			}
		}
	}
}

// The line before the first of an archive is the last of the archive
// before it, and the other way round.
func TestContextAtArchiveBoundary(t *testing.T) {
	dirs, _ := logtest.MergeFixture(t, t.TempDir(), -1)
	archives, _ := filepath.Glob(filepath.Join(dirs[0], "@*.s"))
	if len(archives) < 3 {
		t.Fatalf("%d archives", len(archives))
	}
	a, err := os.ReadFile(archives[1])
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(archives[2])
	if err != nil {
		t.Fatal(err)
	}
	lastOfA := a[bytes.LastIndexByte(a[:len(a)-1], '\n')+1:]
	firstOfB := b[:bytes.IndexByte(b, '\n')+1]
	want := string(lastOfA) + string(firstOfB)
	for _, args := range [][]string{
		{"-B1", "-E", regexp.QuoteMeta(string(firstOfB[:len(firstOfB)-1])) + "$", dirs[0]},
		{"-A1", "-E", regexp.QuoteMeta(string(lastOfA[:len(lastOfA)-1])) + "$", dirs[0]},
	} {
		if got, errs, code := runLogcat(args...); got != want || code != 0 {
			t.Errorf("%q: exit %d %s, got\n%s\nwant\n%s", args, code, errs, got, want)
		}
	}
}

// Two directories holding the same lines, byte for byte: each line is
// labelled with the directory it came from, in the merged order (equal
// stamps in the order the directories are named).
func TestLabelledMergeOfIdenticalLines(t *testing.T) {
	root := t.TempDir()
	content := stamped(1, "same one") + "\n" + "  unstamped, same\n" + stamped(2, "same two") + "\n"
	var dirs []string
	for _, name := range []string{"web", "db"} {
		d := filepath.Join(root, name, "log", "main")
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "current"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, d)
	}
	out, errs, code := runLogcat(append([]string{"-A", "1", "-E", "one"}, dirs...)...)
	want := label(1).String() + " web: same one\n" +
		"web-   unstamped, same\n" +
		label(1).String() + " db:  same one\n" +
		"db-    unstamped, same\n"
	if code != 0 || out != want {
		t.Fatalf("exit %d %s, got\n%s\nwant\n%s", code, errs, out, want)
	}
	out, _, _ = runLogcat(append([]string{"-j", "-E", "two"}, dirs...)...)
	if n := strings.Count(out, `{"label":"web"`); n != 1 || strings.Count(out, `{"label":"db"`) != 1 {
		t.Fatalf("-j: %s", out)
	}
}
