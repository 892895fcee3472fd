package crm

import (
	"encoding/json"
	"net/url"
	"testing"
)

// An endpoint template reads as its writer meant it: each {name} that is a known variable
// becomes its escaped value, once; any other brace is text.
func TestExpandFillsEachPlaceholderOnce(t *testing.T) {
	vars := map[string]string{"id": "C 1", "pin": "{id}"}
	for _, c := range []struct{ tmpl, want string }{
		{"/customers/{id}", "/customers/C%201"},
		{"/customers/{id}/{pin}", "/customers/C%201/%7Bid%7D"}, // a value is never expanded again
		{"{{id}}", "{C%201}"},
		{"/x/{unknown}/{id}", "/x/{unknown}/C%201"},
		{"/open/{id", "/open/{id"},
		{"{", "{"},
		{"no braces", "no braces"},
		{"{id}{id}", "C%201C%201"},
		{"", ""},
	} {
		if got := expand(c.tmpl, vars, url.PathEscape); got != c.want {
			t.Errorf("expand(%q) = %q, want %q", c.tmpl, got, c.want)
		}
	}
}

func BenchmarkExpand(b *testing.B) {
	vars := map[string]string{"id": "C001", "pin": "1234"}
	b.ReportAllocs()
	for b.Loop() {
		expand(`{"account":"{id}","pin":"{pin}"}`, vars, jsonEscape)
	}
}

// jsonEscape gives what encoding/json writes between the quotes of a JSON string.
func TestJSONEscapeMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "1234", "C001", `x"{pin}`, `a\b`, "<&>", "tab\there", "ü", "\u2028", "\x7f", "\x00"} {
		b, _ := json.Marshal(s)
		if got, want := jsonEscape(s), string(b[1:len(b)-1]); got != want {
			t.Errorf("jsonEscape(%q) = %q, want %q", s, got, want)
		}
	}
}
