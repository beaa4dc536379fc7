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

// TestPackageTable: the README's tables of packages list exactly the
// module's packages outside cmd/ (go list), each once, with its job.
func TestPackageTable(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(readme), "\n## Packages\n")
	section, _, _ = strings.Cut(section, "\n## ")
	row := regexp.MustCompile("^\\| \\[`([a-z0-9/]+)`\\]\\(([a-z0-9/]+)/\\) \\| (.+) \\|$")
	var listed []string
	for line := range strings.Lines(section) {
		line = strings.TrimSuffix(line, "\n")
		if !strings.HasPrefix(line, "| [") {
			continue
		}
		m := row.FindStringSubmatch(line)
		if m == nil || m[1] != m[2] || len(m[3]) < 10 {
			t.Errorf("malformed row (want | [`pkg`](pkg/) | its job |): %s", line)
			continue
		}
		if slices.Contains(listed, m[1]) {
			t.Errorf("%s is listed twice", m[1])
		}
		listed = append(listed, m[1])
	}
	cmd := exec.Command("go", "list", "./...")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var packages []string
	for p := range strings.FieldsSeq(string(out)) {
		rel := strings.TrimPrefix(strings.TrimPrefix(p, "github.com/taikit/taikit"), "/")
		if rel != "" && !strings.HasPrefix(rel, "cmd/") {
			packages = append(packages, rel)
		}
	}
	for _, p := range packages {
		if !slices.Contains(listed, p) {
			t.Errorf("package %s is not in the README's tables of packages", p)
		}
	}
	for _, p := range listed {
		if !slices.Contains(packages, p) {
			t.Errorf("the README lists %s, which go list does not know", p)
		}
	}
}
