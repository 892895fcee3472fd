package web_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/crypto/bcrypt"

	"github.com/idv-project/idv/web"
)

func hash(t *testing.T, p string) string {
	h, err := bcrypt.GenerateFromPassword([]byte(p), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

func TestAccess(t *testing.T) {
	st := twoCalls(t)
	srv := &web.Server{Reports: st, Interactions: st, Location: time.UTC, Log: zerolog.Nop(),
		Metrics: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "idv_calls_active 0\n") }),
		Access: web.Access{ProxyHeader: "X-Remote-User", TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, Users: []web.User{
			{Name: "boss", PasswordHash: hash(t, "boss-password"), Role: web.Supervisor},
			{Name: "ann", PasswordHash: hash(t, "ann-password"), Role: web.Agent, Agent: "PJSIP/agent1"},
		}}}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	get := func(path string, auth func(*http.Request)) (int, string) {
		req, _ := http.NewRequest("GET", ts.URL+path, nil)
		if auth != nil {
			auth(req)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	basic := func(u, p string) func(*http.Request) { return func(r *http.Request) { r.SetBasicAuth(u, p) } }
	proxy := func(u string) func(*http.Request) { return func(r *http.Request) { r.Header.Set("X-Remote-User", u) } }
	today := time.Now().UTC().Format("2006-01-02")
	cases := []struct {
		name string
		path string
		auth func(*http.Request)
		code int
		body string
	}{
		{"health needs no sign-in", "/healthz", nil, 200, "ok"},
		{"readiness needs no sign-in", "/readyz", nil, 200, "ready"},
		{"reports need sign-in", "/api/reports", nil, 401, "sign in"},
		{"a wrong password is refused", "/api/reports", basic("boss", "nope"), 401, "sign in"},
		{"an unknown user is refused", "/api/reports", basic("eve", "boss-password"), 401, "sign in"},
		{"a supervisor lists reports", "/api/reports", basic("boss", "boss-password"), 200, "outcomes"},
		{"a supervisor downloads one", "/api/reports/outcomes?from=" + today + "&to=" + today + "&format=csv", basic("boss", "boss-password"), 200, "retail,2,1,1"},
		{"an agent may not download reports", "/api/reports/outcomes?range=today", basic("ann", "ann-password"), 403, "agent"},
		{"an agent may not read metrics", "/metrics", basic("ann", "ann-password"), 403, "agent"},
		{"a supervisor reads metrics", "/metrics", basic("boss", "boss-password"), 200, "idv_calls_active"},
		{"an agent sees their own call", "/api/interactions/01MINE", basic("ann", "ann-password"), 200, `"customer_name":"佐藤 花子"`},
		{"an agent does not see another agent's call", "/api/interactions/01THEIRS", basic("ann", "ann-password"), 404, "no such"},
		{"a supervisor sees any call", "/api/interactions/01THEIRS", basic("boss", "boss-password"), 200, `"status_text":"Identified, not verified"`},
		{"the proxy's header signs in a known user", "/api/interactions/01MINE", proxy("ann"), 200, "100234"},
		{"the proxy's header with an unknown user is refused", "/api/interactions/01MINE", proxy("mallory"), 401, "sign in"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, body := get(tc.path, tc.auth)
			if code != tc.code || !strings.Contains(body, tc.body) {
				t.Errorf("GET %s = %d %q, want %d with %q", tc.path, code, body, tc.code, tc.body)
			}
		})
	}
	_, body := get("/api/interactions/01MINE", basic("boss", "boss-password"))
	var got map[string]any
	if err := json.Unmarshal([]byte(body), &got); err != nil || got["status"] != "VERIFIED" || got["agent"] != "PJSIP/agent1" {
		t.Errorf("interaction JSON %s (%v)", body, err)
	}
}
