package repocheck

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// root is the repository's top directory, from this package's.
const root = "../.."

// commands lists the directories of cmd/: what `go install ./cmd/...`
// installs.
func commands(t *testing.T) []string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(root, "cmd"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	return names
}

// TestEveryCommandDocumented: each installed command has a man page in
// doc/man8 and is named in the README's table of commands; each page and
// each name in the table is a command.
func TestEveryCommandDocumented(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, table, _ := strings.Cut(string(readme), "## Commands")
	table, _, _ = strings.Cut(table, "\n## ")
	var inTable []string
	for line := range strings.Lines(table) {
		if !strings.HasPrefix(line, "| [") {
			continue
		}
		first, _, _ := strings.Cut(line[1:], " | ")
		for _, m := range regexp.MustCompile("`([a-z0-9]+)`").FindAllStringSubmatch(first, -1) {
			inTable = append(inTable, m[1])
		}
	}
	cmds := commands(t)
	for _, c := range cmds {
		if _, err := os.Stat(filepath.Join(root, "doc", "man8", c+".8")); err != nil {
			t.Errorf("command %s has no man page doc/man8/%s.8", c, c)
		}
		if !slices.Contains(inTable, c) {
			t.Errorf("command %s is not in the README's table of commands", c)
		}
	}
	for _, name := range inTable {
		if !slices.Contains(cmds, name) {
			t.Errorf("the README's table names %s, which go install ./cmd/... does not install", name)
		}
	}
	pages, _ := filepath.Glob(filepath.Join(root, "doc", "man8", "*.8"))
	for _, p := range pages {
		if name := strings.TrimSuffix(filepath.Base(p), ".8"); !slices.Contains(cmds, name) {
			t.Errorf("man page %s is for no command in cmd/", p)
		}
	}
}

// TestManFindsThePages: with the MANPATH the README's set-up command
// exports, man finds taikit's page for every command, before any page a
// reference package installed under the same name.
func TestManFindsThePages(t *testing.T) {
	man, err := exec.LookPath("man")
	if err != nil {
		t.Skip("man is not installed: apt-get install man-db")
	}
	doc, err := filepath.Abs(filepath.Join(root, "doc"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range commands(t) {
		cmd := exec.Command(man, "-w", c)
		cmd.Env = append(os.Environ(), "MANPATH="+doc+":")
		out, err := cmd.Output()
		page := strings.TrimSpace(string(out))
		// The four svctl names are pages of one line, ".so man8/svctl.8",
		// which man -w follows.
		want := filepath.Join(doc, "man8", c+".8")
		if slices.Contains([]string{"svcstart", "svcstop", "svcreset", "svcrestart"}, c) {
			want = filepath.Join(doc, "man8", "svctl.8")
		}
		if err != nil || page != want {
			t.Errorf("MANPATH=%s: man -w %s = %q (%v), want %s", doc+":", c, page, err, want)
		}
	}
}
