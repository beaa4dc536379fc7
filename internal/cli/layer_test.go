package cli

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// commandLayer are the directories (with everything below them) where
// messages are printed and exit codes chosen.
var commandLayer = []string{
	"cmd",
	"internal/cli",
	// logcat's command itself: Run parses its argv, words its messages and
	// returns its exit code; cmd/logcat only adds signals and os.Exit.
	"internal/logcat",
	// programs that measure the commands, not libraries.
	"bench",
}

// exceptions are files outside the command layer allowed to use what the
// guard forbids, each for a reason that has nothing to do with a library
// printing or choosing an exit code.
var exceptions = map[string][]string{
	// TestMainOr is called from the TestMain of command tests: it exits
	// with the tests' code, or runs the command when the test binary
	// doubles as it. testref is imported by tests only.
	"internal/testref/testref.go": {"os.Exit"},
	// Main is called from TestMain too: it exits with the tests' code, and
	// says what they leave behind when it cannot remove it, after the last
	// test, when no test is left to fail.
	"internal/testref/binary.go": {"os.Exit", "os.Stderr"},
}

// TestLibrariesDoNotPrint guards the rule that libraries return errors and
// leave the wording of messages to the command layer: outside it (and test
// files), no package writes to this process's standard output or error,
// exits, declares exit codes or imports internal/cli. A library that needs
// a writer takes one (an io.Writer field, a Warn func); a child process's
// descriptors are the caller's to give.
func TestLibrariesDoNotPrint(t *testing.T) {
	reportProblems(t)(layerProblems(filepath.Join("..", "..")))
}

// TestLayerGuardCatches: the guard finds each forbidden use in a planted
// library, under any import name, and none in a command.
func TestLayerGuardCatches(t *testing.T) {
	root := t.TempDir()
	write := func(name, src string) { plant(t, root, name, src) }
	write("cmd/x/main.go", `package main
import ("fmt"; "os"; "github.com/taikit/taikit/internal/cli")
const ExitOops = 3
func main() { fmt.Fprintln(os.Stderr, "x"); os.Exit(cli.ExitTemporary) }
`)
	write("lib/lib.go", `package lib
import (
	"fmt"
	"log"
	sys "os"
	"syscall"
	"github.com/taikit/taikit/internal/cli"
)
const (
	ok = 0
	ExitTemporary = 111
)
func Fail() int {
	fmt.Fprintln(sys.Stderr, "lib: fatal")
	fmt.Println("out")
	log.Printf("x")
	println("y")
	syscall.Exit(1)
	sys.Exit(cli.ExitUsage)
	return ok
}
`)
	write("lib/lib_test.go", `package lib
import "os"
func helper() { os.Exit(0) }
`)
	problems, checked, err := layerProblems(root)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(problems, "\n")
	for _, want := range []string{"imports internal/cli", "exit code ExitTemporary", "sys.Stderr", "fmt.Println",
		"log.Printf", ": println", "syscall.Exit", "sys.Exit"} {
		if !strings.Contains(got, want) {
			t.Errorf("%q not found in:\n%s", want, got)
		}
	}
	if len(problems) != 8 || checked != 1 || strings.Contains(got, "cmd/") || strings.Contains(got, "_test.go") {
		t.Errorf("%d files checked, %d problems:\n%s", checked, len(problems), got)
	}
}

// layerProblems lists what the guard forbids in the Go files under root,
// and how many files it looked at.
func layerProblems(root string) (problems []string, checked int, err error) {
	forbidden := map[string]map[string]bool{ // import path → names
		"os":                    {"Stdout": true, "Stderr": true, "Exit": true},
		"syscall":               {"Exit": true},
		"golang.org/x/sys/unix": {"Exit": true},
		"fmt":                   {"Print": true, "Printf": true, "Println": true},
		"log":                   {"*": true}, // the standard logger writes to os.Stderr; Fatal exits
	}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") || inCommandLayer(rel) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") {
			return nil
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		checked++
		if f.Name.Name == "main" {
			// A program is its own command layer (internal/testreport,
			// which CI runs); only libraries are held to the rule.
			return nil
		}
		names := map[string]string{} // local name → import path
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if p == "github.com/taikit/taikit/internal/cli" {
				problems = append(problems, rel+" imports internal/cli, the command layer")
			}
			local := p[strings.LastIndex(p, "/")+1:]
			if imp.Name != nil {
				local = imp.Name.Name
			}
			names[local] = p
		}
		report := func(n ast.Node, what string) {
			if slices.Contains(exceptions[rel], what) {
				return
			}
			pos := fset.Position(n.Pos())
			problems = append(problems, fmt.Sprintf("%s:%d: %s outside the command layer (%s)",
				rel, pos.Line, what, strings.Join(commandLayer, ", ")))
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.SelectorExpr:
				if x, ok := n.X.(*ast.Ident); ok {
					if ban := forbidden[names[x.Name]]; ban["*"] || ban[n.Sel.Name] {
						report(n, x.Name+"."+n.Sel.Name)
					}
				}
			case *ast.CallExpr:
				if id, ok := n.Fun.(*ast.Ident); ok && (id.Name == "print" || id.Name == "println") {
					report(n, id.Name)
				}
			case *ast.GenDecl:
				if n.Tok != token.CONST {
					return true
				}
				for _, spec := range n.Specs {
					for _, id := range spec.(*ast.ValueSpec).Names {
						if strings.HasPrefix(strings.ToLower(id.Name), "exit") {
							report(id, "exit code "+id.Name)
						}
					}
				}
			}
			return true
		})
		return nil
	})
	return problems, checked, err
}

func inCommandLayer(rel string) bool {
	for _, dir := range commandLayer {
		if rel == dir {
			return true
		}
	}
	return false
}

// plant writes src as root/name, making its directories: a tree for a
// guard to be tried on.
func plant(t *testing.T, root, name, src string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
}

// reportProblems returns what fails t with a guard's findings over the
// module, and fails it too if the guard read too few files to have
// looked at the module at all.
func reportProblems(t *testing.T) func(problems []string, checked int, err error) {
	return func(problems []string, checked int, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range problems {
			t.Error(p)
		}
		if checked < 50 {
			t.Fatalf("only %d files checked: is ../.. the module's root?", checked)
		}
	}
}
