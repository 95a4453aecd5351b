// SPDX-License-Identifier: MPL-2.0

package ocikms_test

// TestExportsMatchTheOfficialPackage compares this package's API with the official
// github.com/hashicorp/go-kms-wrapping/wrappers/ocikms/v2 at the version Vault pins:
//
//   - the official side is its source, fetched with `go mod download` (from the module cache when
//     it is there, so the test runs offline after one download) and read with go/parser;
//   - this side is the compiler's view of the shim (export data from `go list -export`, read with
//     go/importer), so aliases are resolved to what the binding really declares.
//
// Top-level exported names must be identical, with the same kind (const, var, func, type), the
// same constant types and values, the same function signatures and, for types, the same
// underlying type (exported struct fields only). Every method of an official exported type must
// exist with the same signature; extra methods (the binding's Init, Finalize, Rewrap, ...) are
// listed, not failed. The test does not link the shim, so it needs no libocikms.a: only a C
// compiler and include/ocikms.h for cgo's type checking of the binding.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/constant"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const (
	officialPath = "github.com/hashicorp/go-kms-wrapping/wrappers/ocikms/v2"
	// officialVersion is the version github.com/hashicorp/vault v1.21.4 requires.
	officialVersion = "v2.0.9"
	bindingPath     = "github.com/ocikms/ocikms/go-bindings"
	wrappingPath    = "github.com/hashicorp/go-kms-wrapping/v2"
)

// anyWord matches the predeclared alias any, which the official source spells interface{}.
var anyWord = regexp.MustCompile(`\bany\b`)

// api maps "const X", "var X", "func X", "type X", "method T.M" and "field T.F" to a description
// that two equivalent declarations share.
type api map[string]string

func TestExportsMatchTheOfficialPackage(t *testing.T) {
	goCmd := goCommand(t)
	official := officialAPI(t, officialSource(t, goCmd))
	shim, pkg, imp := shimAPI(t, goCmd)

	if len(official) == 0 {
		t.Fatal("no exported declaration found in the official package")
	}
	var problems []string
	for _, key := range sortedKeys(official) {
		got, ok := shim[key]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("missing %s (official: %s)", key, official[key]))
		case got != official[key]:
			problems = append(problems, fmt.Sprintf("%s differs:\n\tofficial: %s\n\tshim:     %s", key, official[key], got))
		}
	}
	var extraMethods []string
	for _, key := range sortedKeys(shim) {
		if _, ok := official[key]; ok {
			continue
		}
		if strings.HasPrefix(key, "method ") {
			extraMethods = append(extraMethods, strings.TrimPrefix(key, "method "))
			continue
		}
		problems = append(problems, fmt.Sprintf("extra %s (%s): the official package has no such name", key, shim[key]))
	}
	if len(problems) > 0 {
		t.Errorf("the shim's API differs from %s@%s:\n%s", officialPath, officialVersion, strings.Join(problems, "\n"))
	}
	t.Logf("%d official declarations compared with %s@%s; methods only the binding has: %s",
		len(official), officialPath, officialVersion, strings.Join(extraMethods, ", "))

	// What Vault relies on beyond names: *Wrapper is a wrapping.Wrapper (and an InitFinalizer, so
	// Vault calls Init and Finalize).
	wrapperType := pkg.Scope().Lookup("Wrapper")
	if wrapperType == nil {
		t.Fatal("no Wrapper type")
	}
	wrapping, err := imp.Import(wrappingPath)
	if err != nil {
		t.Fatalf("loading %s: %v", wrappingPath, err)
	}
	ptr := types.NewPointer(wrapperType.Type())
	for _, name := range []string{"Wrapper", "InitFinalizer"} {
		iface := wrapping.Scope().Lookup(name).Type().Underlying().(*types.Interface)
		if !types.Implements(ptr, iface) {
			t.Errorf("*Wrapper does not implement wrapping.%s", name)
		}
	}
}

// goCommand is the go command of the toolchain running the test.
func goCommand(t *testing.T) string {
	if path, err := exec.LookPath("go"); err == nil {
		return path
	}
	path := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("no go command in PATH or GOROOT: %v", err)
	}
	return path
}

// officialSource returns the directory of the official module in the module cache, downloading it
// (checksum-verified against sum.golang.org) when it is not there yet.
func officialSource(t *testing.T, goCmd string) string {
	cmd := exec.Command(goCmd, "mod", "download", "-json", officialPath+"@"+officialVersion)
	// Outside any module: the shim's own go.mod declares the same module path.
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=", "GO111MODULE=on")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var info struct{ Dir, Error string }
	if jsonErr := json.Unmarshal(out, &info); err != nil || jsonErr != nil || info.Dir == "" {
		t.Fatalf("go mod download %s@%s: %v %s %s (run it once with network access; later runs use the module cache)",
			officialPath, officialVersion, err, info.Error, stderr.String())
	}
	return info.Dir
}

// officialAPI reads the exported declarations of the package's non-test source files.
func officialAPI(t *testing.T, dir string) api {
	fset := token.NewFileSet()
	matches, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(matches) == 0 {
		t.Fatalf("no Go files in %s: %v", dir, err)
	}
	out := api{}
	for _, path := range matches {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		if file.Name.Name != "ocikms" {
			t.Fatalf("%s: package %s, expected ocikms", path, file.Name.Name)
		}
		r := astRenderer{imports: importNames(t, file)}
		for _, decl := range file.Decls {
			switch d := decl.(type) {
			case *ast.FuncDecl:
				if !d.Name.IsExported() {
					continue
				}
				if d.Recv == nil {
					out["func "+d.Name.Name] = r.signature(d.Type)
					continue
				}
				recv := receiverName(d.Recv.List[0].Type)
				if ast.IsExported(recv) {
					out["method "+recv+"."+d.Name.Name] = r.signature(d.Type)
				}
			case *ast.GenDecl:
				r.genDecl(t, d, out)
			}
		}
	}
	return out
}

// importNames maps each import's name in the file to its path.
func importNames(t *testing.T, file *ast.File) map[string]string {
	names := map[string]string{}
	for _, spec := range file.Imports {
		path, err := strconv.Unquote(spec.Path.Value)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(path)
		if spec.Name != nil {
			name = spec.Name.Name
		} else if base := filepath.Base(filepath.Dir(path)); strings.HasPrefix(name, "v") && isDigits(name[1:]) {
			name = base // a major version suffix: the package is named after the element before it
		}
		names[name] = path
	}
	return names
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func receiverName(expr ast.Expr) string {
	switch e := expr.(type) {
	case *ast.StarExpr:
		return receiverName(e.X)
	case *ast.IndexExpr:
		return receiverName(e.X)
	case *ast.Ident:
		return e.Name
	}
	return ""
}

// astRenderer writes AST types in the notation typeString uses for go/types: package-qualified
// by import path, the package's own names unqualified, no parameter names.
type astRenderer struct {
	imports map[string]string
}

func (r astRenderer) genDecl(t *testing.T, d *ast.GenDecl, out api) {
	switch d.Tok {
	case token.CONST:
		var lastType ast.Expr
		var lastValues []ast.Expr
		for _, spec := range d.Specs {
			vs := spec.(*ast.ValueSpec)
			if len(vs.Values) > 0 || vs.Type != nil {
				lastType, lastValues = vs.Type, vs.Values
			}
			for i, name := range vs.Names {
				if !name.IsExported() {
					continue
				}
				if i >= len(lastValues) {
					t.Fatalf("const %s: implicit (iota) values are not supported by this test", name.Name)
				}
				lit, ok := lastValues[i].(*ast.BasicLit)
				if !ok {
					t.Fatalf("const %s: only literal values are supported by this test", name.Name)
				}
				value := constant.MakeFromLiteral(lit.Value, lit.Kind, 0)
				typ := "untyped " + map[token.Token]string{token.STRING: "string", token.INT: "int",
					token.FLOAT: "float", token.CHAR: "rune", token.IMAG: "complex"}[lit.Kind]
				if lastType != nil {
					typ = r.expr(lastType)
				}
				out["const "+name.Name] = typ + " = " + value.ExactString()
			}
		}
	case token.VAR:
		for _, spec := range d.Specs {
			vs := spec.(*ast.ValueSpec)
			for _, name := range vs.Names {
				if !name.IsExported() {
					continue
				}
				if vs.Type == nil {
					t.Fatalf("var %s: only variables with an explicit type are supported by this test", name.Name)
				}
				out["var "+name.Name] = r.expr(vs.Type)
			}
		}
	case token.TYPE:
		for _, spec := range d.Specs {
			ts := spec.(*ast.TypeSpec)
			if !ts.Name.IsExported() {
				continue
			}
			out["type "+ts.Name.Name] = r.expr(ts.Type)
			if st, ok := ts.Type.(*ast.StructType); ok {
				for _, field := range st.Fields.List {
					for _, name := range field.Names {
						if name.IsExported() {
							out["field "+ts.Name.Name+"."+name.Name] = r.expr(field.Type)
						}
					}
				}
			}
		}
	}
}

func (r astRenderer) signature(ft *ast.FuncType) string {
	return "func" + r.tuple(ft.Params, true) + r.results(ft.Results)
}

func (r astRenderer) tuple(list *ast.FieldList, parens bool) string {
	var parts []string
	if list != nil {
		for _, field := range list.List {
			n := len(field.Names)
			if n == 0 {
				n = 1
			}
			for range n {
				parts = append(parts, r.expr(field.Type))
			}
		}
	}
	if !parens {
		return strings.Join(parts, ", ")
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func (r astRenderer) results(list *ast.FieldList) string {
	if list == nil || len(list.List) == 0 {
		return ""
	}
	count := 0
	for _, field := range list.List {
		count += max(1, len(field.Names))
	}
	if count == 1 {
		return " " + r.tuple(list, false)
	}
	return " " + r.tuple(list, true)
}

func (r astRenderer) expr(expr ast.Expr) string {
	switch e := expr.(type) {
	case *ast.Ident:
		if e.Name == "any" {
			return "interface{}"
		}
		return e.Name
	case *ast.SelectorExpr:
		if x, ok := e.X.(*ast.Ident); ok {
			if path, ok := r.imports[x.Name]; ok {
				return path + "." + e.Sel.Name
			}
		}
	case *ast.StarExpr:
		return "*" + r.expr(e.X)
	case *ast.Ellipsis:
		return "..." + r.expr(e.Elt)
	case *ast.ArrayType:
		if e.Len == nil {
			return "[]" + r.expr(e.Elt)
		}
	case *ast.MapType:
		return "map[" + r.expr(e.Key) + "]" + r.expr(e.Value)
	case *ast.ChanType:
		switch e.Dir {
		case ast.SEND:
			return "chan<- " + r.expr(e.Value)
		case ast.RECV:
			return "<-chan " + r.expr(e.Value)
		}
		return "chan " + r.expr(e.Value)
	case *ast.FuncType:
		return r.signature(e)
	case *ast.InterfaceType:
		if len(e.Methods.List) == 0 {
			return "interface{}"
		}
	case *ast.StructType:
		var fields []string
		for _, field := range e.Fields.List {
			for _, name := range field.Names {
				if name.IsExported() {
					fields = append(fields, name.Name+" "+r.expr(field.Type))
				}
			}
			if len(field.Names) == 0 {
				fields = append(fields, "embedded "+r.expr(field.Type))
			}
		}
		return "struct{" + strings.Join(fields, "; ") + "}"
	}
	return fmt.Sprintf("<unsupported %T>", expr)
}

// shimAPI loads the shim from the compiler's export data and describes its exported API.
func shimAPI(t *testing.T, goCmd string) (api, *types.Package, types.Importer) {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(goCmd, "list", "-export", "-deps", "-f", "{{.ImportPath}}\t{{.Export}}", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	listed, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -export: %v\n%s", err, stderr.String())
	}
	exports := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(listed)), "\n") {
		path, file, _ := strings.Cut(line, "\t")
		exports[path] = file
	}
	fset := token.NewFileSet()
	imp := importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		file := exports[path]
		if file == "" {
			return nil, fmt.Errorf("no export data for %s", path)
		}
		return os.Open(file)
	})
	pkg, err := imp.Import(officialPath)
	if err != nil {
		t.Fatalf("loading the shim's export data: %v", err)
	}

	qualifier := func(p *types.Package) string {
		if p.Path() == officialPath || p.Path() == bindingPath {
			return "" // the package's own names (the binding's, through the aliases)
		}
		return p.Path()
	}
	typeString := func(typ types.Type) string {
		return anyWord.ReplaceAllString(types.TypeString(typ, qualifier), "interface{}")
	}
	signature := func(sig *types.Signature) string {
		var params []string
		for i := 0; i < sig.Params().Len(); i++ {
			typ := sig.Params().At(i).Type()
			if sig.Variadic() && i == sig.Params().Len()-1 {
				params = append(params, "..."+typeString(typ.(*types.Slice).Elem()))
				continue
			}
			params = append(params, typeString(typ))
		}
		var results []string
		for i := 0; i < sig.Results().Len(); i++ {
			results = append(results, typeString(sig.Results().At(i).Type()))
		}
		s := "func(" + strings.Join(params, ", ") + ")"
		switch len(results) {
		case 0:
		case 1:
			s += " " + results[0]
		default:
			s += " (" + strings.Join(results, ", ") + ")"
		}
		return s
	}
	underlying := func(name string, typ types.Type) (string, map[string]string) {
		st, ok := typ.Underlying().(*types.Struct)
		if !ok {
			if sig, ok := typ.Underlying().(*types.Signature); ok {
				return signature(sig), nil
			}
			return typeString(typ.Underlying()), nil
		}
		var fields []string
		exported := map[string]string{}
		for i := 0; i < st.NumFields(); i++ {
			f := st.Field(i)
			switch {
			case f.Embedded():
				fields = append(fields, "embedded "+typeString(f.Type()))
			case f.Exported():
				fields = append(fields, f.Name()+" "+typeString(f.Type()))
				exported["field "+name+"."+f.Name()] = typeString(f.Type())
			}
		}
		return "struct{" + strings.Join(fields, "; ") + "}", exported
	}

	out := api{}
	scope := pkg.Scope()
	for _, name := range scope.Names() {
		obj := scope.Lookup(name)
		if !obj.Exported() {
			continue
		}
		switch o := obj.(type) {
		case *types.Const:
			out["const "+name] = typeString(o.Type()) + " = " + o.Val().ExactString()
		case *types.Var:
			out["var "+name] = typeString(o.Type())
		case *types.Func:
			out["func "+name] = signature(o.Type().(*types.Signature))
		case *types.TypeName:
			desc, fields := underlying(name, o.Type())
			out["type "+name] = desc
			for k, v := range fields {
				out[k] = v
			}
			mset := types.NewMethodSet(types.NewPointer(o.Type()))
			for i := 0; i < mset.Len(); i++ {
				m := mset.At(i).Obj()
				if m.Exported() {
					out["method "+name+"."+m.Name()] = signature(m.Type().(*types.Signature))
				}
			}
		}
	}
	return out, pkg, imp
}

func sortedKeys(m api) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
