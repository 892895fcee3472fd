package flow

import "testing"

// A route kind reads as the word that starts the route's text form.
func TestRouteKindString(t *testing.T) {
	for route, want := range map[string]string{"queue:support,,,,300": "queue", "goto:main,s,1": "goto", "continue": "continue"} {
		r, err := ParseRoute(route)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Kind.String(); got != want {
			t.Errorf("kind of %q = %q, want %q", route, got, want)
		}
	}
	if got := RouteKind(-1).String(); got != "unknown" {
		t.Errorf("an undefined kind reads %q", got)
	}
}
