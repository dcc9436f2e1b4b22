package cfjs

import (
	"fmt"
	"math/big"
	"reflect"
	"regexp"
	"strings"

	"github.com/dop251/goja/ast"
	"github.com/dop251/goja/file"
	"github.com/dop251/goja/parser"
	"github.com/dop251/goja/token"
)

// The engine underneath (goja) parses far more of JavaScript than
// cloudfront-js-2.0 runs. checkSubset walks the syntax tree and refuses what
// AWS's "JavaScript runtime 2.0 features for CloudFront Functions" page does
// not list: its core features are ES 5.1, plus const and let, async and await
// ("await can be used inside async functions only. async arguments and
// closures are not supported"), template literals, arrow functions, rest
// parameters, the ** operator and numeric separators. Code this refuses
// might run on CloudFront; code it accepts uses only what AWS documents.

// unsupported names the documented-feature rule a node breaks.
func unsupported(n ast.Node) string {
	switch n := n.(type) {
	case *ast.ClassLiteral, *ast.ClassDeclaration, *ast.SuperExpression, *ast.PrivateDotExpression:
		return "classes"
	case *ast.YieldExpression:
		return "generators"
	case *ast.FunctionLiteral:
		if n.Generator {
			return "generators"
		}
	case *ast.ArrayPattern, *ast.ObjectPattern:
		return "destructuring"
	case *ast.SpreadElement:
		return "spread syntax"
	case *ast.ForOfStatement:
		return "for...of"
	case *ast.OptionalChain, *ast.Optional:
		return "optional chaining (?.)"
	case *ast.BinaryExpression:
		if n.Operator == token.COALESCE {
			return "nullish coalescing (??)"
		}
	case *ast.AssignExpression:
		switch n.Operator {
		case token.COALESCE_ASSIGN, token.LOGICAL_AND_ASSIGN, token.LOGICAL_OR_ASSIGN:
			return "logical assignment (??=, &&=, ||=)"
		}
	case *ast.PropertyShort:
		return "shorthand properties ({a})"
	case *ast.PropertyKeyed:
		if n.Computed {
			return "computed property names ({[k]: v})"
		}
		if n.Kind == ast.PropertyKindMethod {
			return "method shorthand ({f() {}})"
		}
	case *ast.TemplateLiteral:
		if n.Tag != nil {
			return "tagged templates"
		}
	case *ast.MetaProperty:
		return "new.target and import.meta"
	case *ast.NumberLiteral:
		if _, ok := n.Value.(*big.Int); ok {
			return "BigInt"
		}
	case *ast.ParameterList:
		for _, b := range n.List {
			if b.Initializer != nil {
				return "default parameter values"
			}
		}
	}
	return ""
}

// checkSubset parses src (as rewritten by rewriteImports) and reports the
// first construct outside the documented runtime, with its position.
func checkSubset(name, src string) error {
	fs := &file.FileSet{}
	prog, err := parser.ParseFile(fs, name, src, 0, parser.WithDisableSourceMaps)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrSyntax, err)
	}
	var found error
	topLevelAsync := map[*ast.FunctionLiteral]bool{}
	for _, st := range prog.Body {
		if fd, ok := st.(*ast.FunctionDeclaration); ok {
			topLevelAsync[fd.Function] = true
		}
	}
	walk(reflect.ValueOf(prog.Body), func(n ast.Node) bool {
		rule := unsupported(n)
		if rule == "" {
			switch n := n.(type) {
			case *ast.FunctionLiteral:
				if n.Async && !topLevelAsync[n] {
					rule = "async closures and async arguments (async is for top-level function declarations)"
				}
			case *ast.ArrowFunctionLiteral:
				if n.Async {
					rule = "async closures and async arguments (async is for top-level function declarations)"
				}
			}
		}
		if rule == "" {
			return true
		}
		pos := fs.Position(n.Idx0())
		found = fmt.Errorf("%w: %s:%d:%d: %s", ErrUnsupported, name, pos.Line, pos.Column, rule)
		return false
	})
	return found
}

// walk calls visit for every ast.Node reachable from v, parents first,
// until visit returns false. The goja AST has no walker of its own; the
// tree is acyclic, so a reflective descent is enough.
func walk(v reflect.Value, visit func(ast.Node) bool) bool {
	switch v.Kind() {
	case reflect.Interface, reflect.Pointer:
		if v.IsNil() {
			return true
		}
		if v.Type().Implements(reflect.TypeFor[ast.Node]()) {
			if n, ok := v.Interface().(ast.Node); ok && !visit(n) {
				return false
			}
		}
		return walk(v.Elem(), visit)
	case reflect.Struct:
		// Node structs held by value (the Identifier in a DotExpression)
		// are never a forbidden construct themselves: descend only.
		for i := range v.NumField() {
			if !v.Type().Field(i).IsExported() {
				continue
			}
			if !walk(v.Field(i), visit) {
				return false
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			if !walk(v.Index(i), visit) {
				return false
			}
		}
	}
	return true
}

// rewriteImports turns `import cf from 'cloudfront'` and `import crypto from
// 'crypto'` into const declarations, keeping line numbers, and refuses any
// other import. Those two are the modules CloudFront Functions import; goja
// runs scripts, not modules, so each becomes a const of the same name.
func rewriteImports(name, src string) (string, error) {
	importRE := regexp.MustCompile(`(?m)^([ \t]*)import[ \t]+([A-Za-z_$][A-Za-z0-9_$]*)[ \t]+from[ \t]+(?:'(cloudfront|crypto)'|"(cloudfront|crypto)")[ \t]*;?`)
	anyImportRE := regexp.MustCompile(`(?m)^[ \t]*import\b`)
	out := importRE.ReplaceAllStringFunc(src, func(m string) string {
		sub := importRE.FindStringSubmatch(m)
		module := sub[3] + sub[4]
		return sub[1] + "const " + sub[2] + " = " + moduleLoader + "('" + module + "');"
	})
	if loc := anyImportRE.FindStringIndex(out); loc != nil {
		line := strings.Count(out[:loc[0]], "\n") + 1
		return "", fmt.Errorf("%w: %s:%d: only `import name from 'cloudfront'` and `import name from 'crypto'` are supported", ErrUnsupported, name, line)
	}
	return out, nil
}
