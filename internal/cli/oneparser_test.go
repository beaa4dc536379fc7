package cli

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// flagUsers are programs allowed the standard flag package: tools for
// developers, not commands that taikit installs.
var flagUsers = []string{"bench", "internal/testreport"}

// TestOneOptionParser guards the rule that Getopt and Parse are the one
// option parser: outside internal/cli, no Go file (tests aside) looks for
// the end of the options, which every hand-written parser must, and no
// command or library imports another option package. What counts as
// looking for it: "--" compared with a word (==, !=, a case), looked for
// at a word's start (strings.HasPrefix, CutPrefix, TrimPrefix), or both
// a word's first and second bytes compared with '-' in one function. One
// of them alone is not enough to tell a parser ("-1h" is a time to logcat,
// "-pat" and "g-glob" are multilog script words), so it is allowed.
func TestOneOptionParser(t *testing.T) {
	reportProblems(t)(parserProblems(filepath.Join("..", "..")))
}

// TestOneParserGuardCatches: the guard finds the loops taikit's commands
// had before they used Getopt and Parse, and the flag package in a
// command, and passes what only looks like them.
func TestOneParserGuardCatches(t *testing.T) {
	root := t.TempDir()
	write := func(name, src string) { plant(t, root, name, src) }
	write("chain/getopt.go", `package chain
func Getopt(args []string) int {
	i := 0
	for ; i < len(args); i++ {
		word := args[i]
		if word[0] != '-' { break }
		if word[1] == '-' { break }
	}
	return i
}
`)
	write("cmd/svc/main.go", `package main
import ("flag"; s "strings")
func parse(args []string) (rest []string) {
	for i, a := range args {
		switch {
		case a == "--":
			return args[i+1:]
		case s.HasPrefix(a, `+"`--`"+`):
			continue
		}
		switch a {
		case "-", "--":
		}
	}
	flag.Parse()
	return nil
}
`)
	write("logcat/time.go", `package logcat
import ("errors"; "strings")
func sign(s, name string, t []string) error {
	if s[0] == '-' || name == "-" || strings.HasPrefix(t[0], "--- ") || t[1][1] == '-' {
		return errors.New("--cursor needs exactly one log directory")
	}
	return nil
}
`)
	write("bench/main.go", `package main
import "flag"
func main() { flag.Parse() }
`)
	write("cmd/x/main_test.go", `package main
func helper(a string) bool { return a == "--" }
`)
	problems, checked, err := parserProblems(root)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(problems, "\n")
	for _, want := range []string{
		"chain/getopt.go:7: a word's first and second bytes compared with '-'",
		`cmd/svc/main.go:2: imports "flag"`,
		`cmd/svc/main.go:6: "--" compared with a word`,
		`cmd/svc/main.go:8: "--" looked for with s.HasPrefix`,
		`cmd/svc/main.go:12: "--" as a case`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("%q not found in:\n%s", want, got)
		}
	}
	if len(problems) != 5 || checked != 4 {
		t.Errorf("%d files checked, %d problems:\n%s", checked, len(problems), got)
	}
}

// parserProblems lists what TestOneOptionParser forbids in the Go files
// under root, and how many files it looked at.
func parserProblems(root string) (problems []string, checked int, err error) {
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		// The parser's own package is the one exception; svctl's, below
		// it, is held to the rule.
		if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") || filepath.Dir(rel) == "internal/cli" {
			return nil
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		checked++
		report := func(n ast.Node, what string) {
			problems = append(problems, fmt.Sprintf("%s:%d: %s: options are read by internal/cli's Getopt or Parse only",
				rel, fset.Position(n.Pos()).Line, what))
		}
		names := map[string]string{} // local name → import path
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			local := p[strings.LastIndex(p, "/")+1:]
			if imp.Name != nil {
				local = imp.Name.Name
			}
			names[local] = p
			if (p == "flag" || p == "github.com/spf13/pflag") && !under(rel, flagUsers) {
				report(imp, "imports "+imp.Path.Value)
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.BinaryExpr:
				if n.Op != token.EQL && n.Op != token.NEQ {
					return true
				}
				if isLit(n.X, "--") || isLit(n.Y, "--") {
					report(n, `"--" compared with a word`)
				}
			case *ast.CaseClause:
				for _, e := range n.List {
					if isLit(e, "--") {
						report(e, `"--" as a case`)
					}
				}
			case *ast.CallExpr:
				sel, ok := n.Fun.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				x, ok := sel.X.(*ast.Ident)
				if !ok || (names[x.Name] != "strings" && names[x.Name] != "bytes") ||
					(sel.Sel.Name != "HasPrefix" && sel.Sel.Name != "CutPrefix" && sel.Sel.Name != "TrimPrefix") {
					return true
				}
				for _, a := range n.Args {
					if isLit(a, "--") {
						report(n, `"--" looked for with `+x.Name+"."+sel.Sel.Name)
					}
				}
			}
			return true
		})
		for _, d := range f.Decls {
			if fn, ok := d.(*ast.FuncDecl); ok {
				for _, n := range dashDash(fn) {
					report(n, "a word's first and second bytes compared with '-'")
				}
			}
		}
		return nil
	})
	return problems, checked, err
}

// dashDash finds, in fn, the comparisons of x[1] with '-' for a word x
// whose x[0] fn compares with '-' too: a look for "--" byte by byte.
func dashDash(fn *ast.FuncDecl) []ast.Node {
	var first = map[string]bool{}
	var second = map[string][]ast.Node{}
	ast.Inspect(fn, func(n ast.Node) bool {
		b, ok := n.(*ast.BinaryExpr)
		if !ok || (b.Op != token.EQL && b.Op != token.NEQ) {
			return true
		}
		for _, side := range [][2]ast.Expr{{b.X, b.Y}, {b.Y, b.X}} {
			ix, ok := side[0].(*ast.IndexExpr)
			if !ok || !isLit(side[1], "-") {
				continue
			}
			word, i := types.ExprString(ix.X), types.ExprString(ix.Index)
			switch i {
			case "0":
				first[word] = true
			case "1":
				second[word] = append(second[word], b)
			}
		}
		return true
	})
	var found []ast.Node
	for word, ns := range second {
		if first[word] {
			found = append(found, ns...)
		}
	}
	return found
}

// isLit: e is a string or character literal whose value is s.
func isLit(e ast.Expr, s string) bool {
	lit, ok := e.(*ast.BasicLit)
	if !ok || (lit.Kind != token.STRING && lit.Kind != token.CHAR) {
		return false
	}
	v, err := strconv.Unquote(lit.Value)
	return err == nil && v == s
}

func under(rel string, dirs []string) bool {
	for _, d := range dirs {
		if strings.HasPrefix(rel, d+"/") {
			return true
		}
	}
	return false
}
