package report

import (
	"go/ast"
	"go/constant"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"strings"
	"testing"

	"github.com/idv-project/idv/flow"
)

// TestEveryTextHasItsJapanese: every English text the reports write — each literal given
// to tr or trf in this package, and the titles, descriptions, sections, outcome headers
// and reasons held in tables — has its Japanese, with as many formatting verbs.
func TestEveryTextHasItsJapanese(t *testing.T) {
	texts := map[string]string{} // text → where
	formats := map[string]bool{} // the texts given to trf
	fset := token.NewFileSet()
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, e.Name(), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || (sel.Sel.Name != "tr" && sel.Sel.Name != "trf") {
				return true
			}
			if s, ok := literal(call.Args[0]); ok {
				texts[s] = fset.Position(call.Pos()).String()
				formats[s] = formats[s] || sel.Sel.Name == "trf"
			}
			return true
		})
	}
	if len(texts) < 50 {
		t.Fatalf("found %d texts given to tr: the search is broken", len(texts))
	}
	for _, d := range Library {
		texts[d.Title], texts[d.Description] = "Library", "Library"
		for _, s := range d.Sections {
			texts[s.Title] = "Library " + d.Name
		}
	}
	for _, h := range outcomeHeaders {
		texts[h] = "outcomeHeaders"
	}
	for _, w := range reasonWords {
		texts[w.words] = "reasonWords"
	}
	for _, p := range []string{"line", "queue", "agent", "status", "language", "wrap-up"} {
		texts[p] = "Filter.describe"
	}
	for _, s := range []flow.Status{flow.StatusVerified, flow.StatusIdentified, flow.StatusUnidentified} {
		texts[s.DisplayText()] = "Status.DisplayText"
	}
	for en, where := range texts {
		ja, ok := japanese[en]
		if !ok {
			t.Errorf("%s: %q has no Japanese", where, en)
			continue
		}
		if formats[en] && strings.Count(en, "%") != strings.Count(ja, "%") {
			t.Errorf("%q: the Japanese %q has other formatting verbs", en, ja)
		}
	}
	for en := range japanese {
		if _, ok := texts[en]; !ok {
			t.Errorf("the catalogue holds %q, which nothing writes", en)
		}
	}
}

// literal is the value of a string constant expression: a literal, or literals joined by +.
func literal(e ast.Expr) (string, bool) {
	tv, err := types.Eval(token.NewFileSet(), nil, token.NoPos, types.ExprString(e))
	if err != nil || tv.Value == nil || tv.Value.Kind() != constant.String {
		return "", false
	}
	return constant.StringVal(tv.Value), true
}

// TestTokensBreakWhereAReaderExpects: a PDF cell breaks a route after a comma, not inside
// its figures ("queue:retail,,,,3" / "00"), and never starts a line with a closing
// bracket ("本人確認失敗（3回" / "）").
func TestTokensBreakWhereAReaderExpects(t *testing.T) {
	for in, want := range map[string]string{
		"queue:retail,,,,300": "queue:retail,|,|,|,|300",
		"本人確認失敗（3回）":          "本|人|確|認|失|敗|（|3|回）",
		"Verification failed": "Verification |failed",
	} {
		if got := strings.Join(tokens(in), "|"); got != want {
			t.Errorf("tokens(%q) = %q, want %q", in, got, want)
		}
	}
}
