package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/idv-project/idv/web"
)

// TestStateChangesComeFromIdvsOwnPages: the wrap-up, which browsers would post with the
// signed-in user's basic auth from any site's page, needs a JSON body and, from a
// browser, idv's own origin.
func TestStateChangesComeFromIdvsOwnPages(t *testing.T) {
	s := newSite(t, nil)
	post := func(edit ...func(*http.Request)) (int, string) {
		resp, body := s.req("POST", "/api/interactions/01MINE/wrapup", `{"code":"resolved"}`, append([]func(*http.Request){as("ann", "ann-password")}, edit...)...)
		return resp.StatusCode, body
	}
	json := header("Content-Type", "application/json")
	cases := []struct {
		name string
		edit []func(*http.Request)
		code int
	}{
		{"JSON from another site's page (Origin)", []func(*http.Request){json, header("Origin", "https://evil.example")}, 403},
		{"JSON from another site's page (Sec-Fetch-Site)", []func(*http.Request){json, header("Sec-Fetch-Site", "cross-site"), header("Origin", s.ts.URL)}, 403},
		{"JSON from a sibling site", []func(*http.Request){json, header("Sec-Fetch-Site", "same-site")}, 403},
		{"a text/plain body from idv's page", []func(*http.Request){header("Content-Type", "text/plain"), header("Origin", s.ts.URL)}, 415},
		{"a form from idv's page", []func(*http.Request){header("Content-Type", "application/x-www-form-urlencoded"), header("Origin", s.ts.URL)}, 415},
		{"no content type", nil, 415},
		{"JSON from idv's page (Origin)", []func(*http.Request){json, header("Origin", s.ts.URL)}, 200},
		{"JSON from idv's page (Sec-Fetch-Site)", []func(*http.Request){header("Content-Type", "application/json; charset=utf-8"), header("Sec-Fetch-Site", "same-origin")}, 200},
		{"JSON from a client that is no browser", []func(*http.Request){json}, 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if code, body := post(tc.edit...); code != tc.code {
				t.Errorf("POST wrap-up = %d %q, want %d", code, body, tc.code)
			}
		})
	}
}

// TestHeadersKeepPagesOutOfFramesAndDataOutOfCaches: every answer forbids framing;
// JSON and reports are neither sniffed nor stored.
func TestHeadersKeepPagesOutOfFramesAndDataOutOfCaches(t *testing.T) {
	s := newSite(t, nil)
	boss := as("boss", "boss-password")
	for _, tc := range []struct {
		path        string
		auth        func(*http.Request)
		code        int
		frames, api bool
	}{
		{"/", boss, 200, true, false},
		{"/app.js", boss, 200, true, false},
		{"/api/interactions/01MINE", boss, 200, true, true},
		{"/api/interactions?range=today", boss, 200, true, true},
		{"/api/reports/outcomes?range=today&format=csv", boss, 200, true, true},
		{"/api/me", boss, 200, true, true},
		{"/api/me", nil, 401, true, true},
	} {
		t.Run(tc.path, func(t *testing.T) {
			var edit []func(*http.Request)
			if tc.auth != nil {
				edit = append(edit, tc.auth)
			}
			resp, _ := s.req("GET", tc.path, "", edit...)
			h := resp.Header
			if resp.StatusCode != tc.code {
				t.Fatalf("GET %s: %s", tc.path, resp.Status)
			}
			if !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") || h.Get("X-Frame-Options") != "DENY" {
				t.Errorf("GET %s may be framed: CSP %q, X-Frame-Options %q", tc.path, h.Get("Content-Security-Policy"), h.Get("X-Frame-Options"))
			}
			if h.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("GET %s: X-Content-Type-Options %q", tc.path, h.Get("X-Content-Type-Options"))
			}
			if tc.api && h.Get("Cache-Control") != "no-store" {
				t.Errorf("GET %s: Cache-Control %q, want no-store", tc.path, h.Get("Cache-Control"))
			}
		})
	}
	resp, _ := s.req("GET", "/", "", boss)
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("the page's CSP %q lost default-src", csp)
	}
}

// TestOpenModeAnswersLoopbackNamesOnly: without sign-in (web.open), a request for
// another host name — another site's name rebound to 127.0.0.1 — is refused.
func TestOpenModeAnswersLoopbackNamesOnly(t *testing.T) {
	s := newSite(t, func(srv *web.Server) { srv.Access.Open = true })
	for host, code := range map[string]int{
		"localhost:8080": 200, "LOCALHOST": 200, "127.0.0.1:8080": 200, "127.0.0.2": 200, "[::1]:8080": 200, "[::1]": 200,
		"evil.example": 421, "evil.example:8080": 421, "127.0.0.1.evil.example": 421, "localhost.evil.example": 421,
		"192.0.2.1:8080": 421,
	} {
		resp, _ := s.req("GET", "/api/interactions/01MINE", "", func(r *http.Request) { r.Host = host })
		if resp.StatusCode != code {
			t.Errorf("Host: %s = %s, want %d", host, resp.Status, code)
		}
	}
}
