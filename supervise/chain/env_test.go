package chain

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/taikit/taikit/errtext"
)

func TestEnvChangesApplyMergesAsPathexec(t *testing.T) {
	environ := []string{"A=1", "B=2", "C=3", "D=4", "NOVALUE", "B=dup"}
	var c EnvChanges
	c.Set("B", "new")  // B=2 removed (D=4 takes its place), appended
	c.Unset("A")       // A=1 removed (B=dup takes its place)
	c.Set("Z", "")     // new, empty
	c.Unset("MISSING") // nothing
	c.Set("C=x", "y")  // a name with '=': C removed, "C=x=y" appended
	c.Unset("NOVALUE") // an entry without '=' is no variable of that name
	got := c.Apply(environ)
	// By hand, as pathexec does it:
	//   B=new:   [A=1 B=dup C=3 D=4 NOVALUE] + B=new
	//   -A:      [B=new B=dup C=3 D=4 NOVALUE]
	//   Z=:      [B=new B=dup C=3 D=4 NOVALUE Z=]
	//   C=x=y:   [B=new B=dup Z= D=4 NOVALUE] + C=x=y
	want := []string{"B=new", "B=dup", "Z=", "D=4", "NOVALUE", "C=x=y"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	if environ[0] != "A=1" || len(environ) != 6 {
		t.Fatalf("Apply changed its argument: %q", environ)
	}
	var removeWithEquals EnvChanges
	removeWithEquals.Unset("E=F") // an empty envdir file named E=F sets E to F
	if got := removeWithEquals.Apply([]string{"E=1"}); !reflect.DeepEqual(got, []string{"E=F"}) {
		t.Fatalf("unset E=F: %q", got)
	}
}

func TestEnvValue(t *testing.T) {
	for in, want := range map[string]string{
		"":                   "",
		"plain":              "plain",
		"trail \t \t":        "trail",
		"  lead":             "  lead",
		"in \t side  ":       "in \t side",
		"a\x00b\x00":         "a\nb\n",
		"nul then tab\x00\t": "nul then tab\n",
		"cr\r":               "cr\r",
	} {
		if got := EnvValue([]byte(in)); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}

func TestReadEnvDir(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"A":     "first line  \t \nsecond\n",
		"B":     "x\x00y\x00\n",
		"EMPTY": "",
		"NL":    "\n",
		"C=D":   "v",
		"E=F":   "",
		".dot":  "hidden",
		"LONG":  strings.Repeat("q", 100000),
		"CR":    "a\r\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("/nonexistent", filepath.Join(dir, "DANGLING")); err != nil {
		t.Fatal(err)
	}
	c, err := ReadEnvDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"A": "A=first line", "B": "B=x\ny\n", "EMPTY": "EMPTY", "NL": "NL=", "C=D": "C=D=v", "E=F": "E=F",
		"LONG": "LONG=" + strings.Repeat("q", 100000), "CR": "CR=a\r", "DANGLING": "DANGLING",
	}
	// The changes come in the directory's order.
	f, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	names, err := f.Readdirnames(-1)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	var wantEntries []string
	for _, n := range names {
		if !strings.HasPrefix(n, ".") {
			wantEntries = append(wantEntries, want[n])
		}
	}
	if !reflect.DeepEqual(c.entries, wantEntries) {
		t.Fatalf("changes %q\nwant %q", c.entries, wantEntries)
	}
}

func TestReadEnvDirFailures(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		dir, msg string
		errno    syscall.Errno
	}{
		{dir, "unable to read " + dir + "/sub: is a directory", syscall.EISDIR},
		{filepath.Join(dir, "none"), "unable to switch to directory " + dir + "/none: file does not exist", syscall.ENOENT},
		{file, "unable to switch to directory " + file + ": not a directory", syscall.ENOTDIR},
	} {
		_, err := ReadEnvDir(c.dir)
		var f *errtext.Error
		if !errors.As(err, &f) || err.Error() != c.msg || !errors.Is(err, c.errno) {
			t.Errorf("%s: %v, want %q", c.dir, err, c.msg)
		}
	}
}

func TestEnvironIsTheStartingEnvironment(t *testing.T) {
	env := Environ()
	if len(env) == 0 {
		t.Skip("empty environment")
	}
	// os.Environ drops repeated names; otherwise the two agree.
	seen := map[string]bool{}
	var dedup []string
	for _, e := range env {
		name, _, _ := strings.Cut(e, "=")
		if !seen[name] || !strings.Contains(e, "=") {
			dedup = append(dedup, e)
		}
		seen[name] = true
	}
	if !reflect.DeepEqual(dedup, os.Environ()) {
		t.Fatalf("Environ %q\nos.Environ %q", env, os.Environ())
	}
}
