package apperr_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/lintsrc"
)

// repoRoot is the module root, two levels above this package.
const repoRoot = "../.."

// codeLiteralFindings walks every production Go file under the roots and
// names each place where a string literal stands where a problem code is
// expected: the code argument of apperr.E, Wrap and Errorf or of any
// function whose parameter is an apperr.Code, a conversion apperr.Code("…"),
// an assignment to a variable that holds a code (one declared as a Code or
// first given a Code constant),
// the Code of an apperr.Error literal, and (outside the platform clients,
// which compare their vendors' own codes) a comparison of a Code field with
// a non-empty string literal. The type checker cannot catch these: an untyped string
// constant converts to Code silently.
func codeLiteralFindings(t *testing.T, roots ...string) []string {
	t.Helper()
	fset := token.NewFileSet()
	byDir := map[string][]*ast.File{}
	err := lintsrc.Walk(func(path string) error {
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		byDir[filepath.Dir(path)] = append(byDir[filepath.Dir(path)], f)
		return nil
	}, roots...)
	if err != nil {
		t.Fatalf("walking %v: %v", roots, err)
	}
	var out []string
	report := func(n ast.Node, what string) {
		out = append(out, fmt.Sprintf("%s: %s", fset.Position(n.Pos()), what))
	}
	for dir, files := range byDir {
		inApperr := filepath.Base(dir) == "apperr"
		vendorClient := strings.Contains(filepath.ToSlash(dir), "internal/platform/")
		// isCode reports whether a type expression is apperr.Code.
		isCode := func(e ast.Expr) bool {
			return apperrName(e, inApperr, func(n string) bool { return n == "Code" })
		}
		codeParams := func(ft *ast.FuncType) []int {
			var idx []int
			i := 0
			for _, f := range ft.Params.List {
				n := max(len(f.Names), 1)
				for range n {
					if isCode(f.Type) {
						idx = append(idx, i)
					}
					i++
				}
			}
			return idx
		}
		// Functions of this package (declared or bound to a name) that take a Code.
		takesCode := map[string][]int{}
		if inApperr {
			takesCode["E"], takesCode["Wrap"], takesCode["Errorf"] = []int{1}, []int{1}, []int{1}
		}
		for _, f := range files {
			ast.Inspect(f, func(n ast.Node) bool {
				switch x := n.(type) {
				case *ast.FuncDecl:
					if idx := codeParams(x.Type); len(idx) > 0 {
						takesCode[x.Name.Name] = idx
					}
				case *ast.AssignStmt:
					for i, rhs := range x.Rhs {
						if fl, ok := rhs.(*ast.FuncLit); ok && i < len(x.Lhs) {
							if id, ok := x.Lhs[i].(*ast.Ident); ok {
								if idx := codeParams(fl.Type); len(idx) > 0 {
									takesCode[id.Name] = idx
								}
							}
						}
					}
				}
				return true
			})
		}
		isLit := func(e ast.Expr) bool {
			b, ok := e.(*ast.BasicLit)
			return ok && b.Kind == token.STRING
		}
		for _, f := range files {
			ast.Inspect(f, func(n ast.Node) bool {
				switch x := n.(type) {
				case *ast.CallExpr:
					var idx []int
					switch fn := x.Fun.(type) {
					case *ast.SelectorExpr:
						if id, ok := fn.X.(*ast.Ident); ok && id.Name == "apperr" {
							switch fn.Sel.Name {
							case "E", "Wrap", "Errorf":
								idx = []int{1}
							case "Code":
								idx = []int{0}
							}
						} else {
							idx = takesCode[fn.Sel.Name]
						}
					case *ast.Ident:
						idx = takesCode[fn.Name]
						if inApperr && fn.Name == "Code" {
							idx = []int{0}
						}
					}
					for _, i := range idx {
						if i < len(x.Args) && isLit(x.Args[i]) {
							report(x.Args[i], "string literal "+x.Args[i].(*ast.BasicLit).Value+" where a code is expected")
						}
					}
				case *ast.CompositeLit:
					if isErrorType(x.Type, inApperr) {
						for _, el := range x.Elts {
							if kv, ok := el.(*ast.KeyValueExpr); ok {
								if k, ok := kv.Key.(*ast.Ident); ok && k.Name == "Code" && isLit(kv.Value) {
									report(kv.Value, "string literal "+kv.Value.(*ast.BasicLit).Value+" as an apperr.Error's Code")
								}
							}
						}
					}
				case *ast.FuncDecl:
					if x.Body != nil {
						for _, f := range codeVarLiterals(x.Body, isCode, inApperr) {
							report(f, "string literal "+f.Value+" assigned to a code")
						}
					}
				case *ast.BinaryExpr:
					if vendorClient || (x.Op != token.EQL && x.Op != token.NEQ) {
						return true
					}
					for _, pair := range [][2]ast.Expr{{x.X, x.Y}, {x.Y, x.X}} {
						if sel, ok := pair[0].(*ast.SelectorExpr); ok && sel.Sel.Name == "Code" && isLit(pair[1]) && pair[1].(*ast.BasicLit).Value != `""` {
							report(x, "a Code compared with a string literal: check a sentinel error with errors.Is")
						}
					}
				}
				return true
			})
		}
	}
	sort.Strings(out)
	return out
}

func isErrorType(e ast.Expr, inApperr bool) bool {
	if u, ok := e.(*ast.UnaryExpr); ok {
		e = u.X
	}
	return apperrName(e, inApperr, func(n string) bool { return n == "Error" })
}

// apperrName reports whether e names something of package apperr whose
// name matches: apperr.X outside the package, X inside it.
func apperrName(e ast.Expr, inApperr bool, match func(string) bool) bool {
	switch x := e.(type) {
	case *ast.SelectorExpr:
		id, ok := x.X.(*ast.Ident)
		return ok && id.Name == "apperr" && match(x.Sel.Name)
	case *ast.Ident:
		return inApperr && match(x.Name)
	}
	return false
}

func TestNoCodeLiterals(t *testing.T) {
	t.Parallel()
	var roots []string
	for _, r := range []string{"internal", "functions", "infra"} {
		p := filepath.Join(repoRoot, r)
		if _, err := os.Stat(p); err == nil {
			roots = append(roots, p)
		}
	}
	for _, f := range codeLiteralFindings(t, roots...) {
		t.Errorf("%s (use a constant from internal/apperr/codes.go)", f)
	}
}

// codeVarLiterals finds, in one function body, string literals assigned to
// a variable that holds a code: one declared with the Code type or first
// bound to a Code constant (apperr.CodeX). The type checker would accept
// them, since an untyped string constant converts to Code.
func codeVarLiterals(body *ast.BlockStmt, isCode func(ast.Expr) bool, inApperr bool) []*ast.BasicLit {
	isConst := func(e ast.Expr) bool {
		return apperrName(e, inApperr, func(n string) bool { return strings.HasPrefix(n, "Code") && len(n) > len("Code") })
	}
	holds := map[string]bool{}
	ast.Inspect(body, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.ValueSpec:
			for i, name := range x.Names {
				if (x.Type != nil && isCode(x.Type)) || (i < len(x.Values) && isConst(x.Values[i])) {
					holds[name.Name] = true
				}
			}
		case *ast.AssignStmt:
			if x.Tok == token.DEFINE && len(x.Lhs) == len(x.Rhs) {
				for i, l := range x.Lhs {
					if id, ok := l.(*ast.Ident); ok && isConst(x.Rhs[i]) {
						holds[id.Name] = true
					}
				}
			}
		}
		return true
	})
	var out []*ast.BasicLit
	ast.Inspect(body, func(n ast.Node) bool {
		x, ok := n.(*ast.AssignStmt)
		if !ok || len(x.Lhs) != len(x.Rhs) {
			return true
		}
		for i, l := range x.Lhs {
			id, ok := l.(*ast.Ident)
			lit, isLit := x.Rhs[i].(*ast.BasicLit)
			if ok && holds[id.Name] && isLit && lit.Kind == token.STRING {
				out = append(out, lit)
			}
		}
		return true
	})
	return out
}
