package crm_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idv-project/idv/crm"
	"github.com/idv-project/idv/crm/demo"
	"github.com/idv-project/idv/flow"
)

func demoClient(t testing.TB) *crm.Client {
	srv := httptest.NewServer(demo.New(demo.Seed).Handler())
	t.Cleanup(srv.Close)
	c := &crm.Client{HTTP: srv.Client()}
	c.ByPhone, c.ByID, c.Check = crm.ReferenceEndpoints(srv.URL)
	return c
}

func TestReferenceAPIAgainstDemoCRM(t *testing.T) {
	c := demoClient(t)
	ctx := context.Background()
	got, err := c.FindByPhone(ctx, "+81312345678")
	if err != nil || len(got) != 1 || got[0] != (flow.Customer{ID: "100234", Name: "佐藤 花子", VerifyRequired: true, Language: "ja", Mobile: "+819011112278"}) {
		t.Errorf("by phone = %+v, %v", got, err)
	}
	if got, err := c.FindByPhone(ctx, "+81355550000"); err != nil || len(got) != 2 {
		t.Errorf("shared number = %+v, %v; want two customers", got, err)
	}
	if got, err := c.FindByPhone(ctx, "+81399999999"); err != nil || len(got) != 0 {
		t.Errorf("unknown number = %+v, %v", got, err)
	}
	if cu, err := c.FindBy(ctx, flow.KindCustomerID, "100235"); err != nil || cu == nil || cu.Name != "田中 一郎" || cu.VerifyRequired {
		t.Errorf("by id = %+v, %v", cu, err)
	}
	if cu, err := c.FindBy(ctx, flow.KindCustomerID, "999"); err != nil || cu != nil {
		t.Errorf("unknown id = %+v, %v; want nil, nil", cu, err)
	}
	for pin, want := range map[string]flow.Verdict{"1234": flow.Verified, "9999": flow.Rejected, "": flow.Rejected} {
		if v, err := c.Verify(ctx, flow.FactorPIN, "100234", flow.NewSecret(pin)); err != nil || v != want {
			t.Errorf("verify %q = %v, %v; want %v", pin, v, err, want)
		}
	}
	if v, err := c.Verify(ctx, flow.FactorPIN, "100240", flow.NewSecret("0000")); err != nil || v != flow.Locked {
		t.Errorf("locked customer = %v, %v", v, err)
	}
}

// TestConfiguredEndpoint: a CRM of another shape, reached by configuration alone.
func TestConfiguredEndpoint(t *testing.T) {
	var seen *http.Request
	var seenBody string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r
		b, _ := io.ReadAll(r.Body)
		seenBody = string(b)
		switch {
		case strings.HasPrefix(r.URL.Path, "/api/lookup"):
			w.Write([]byte(`{"result":{"matches":[{"acct":12345,"profile":{"display":"Ana \"Q\""},"flags":{"mfa":true}}]}}`))
		case r.URL.Path == "/api/auth":
			w.Write([]byte(`{"outcome":{"ok":true}}`))
		}
	}))
	defer srv.Close()
	c := &crm.Client{HTTP: srv.Client(), Auth: crm.Auth{Bearer: "tok"},
		ByPhone: crm.Endpoint{Method: "POST", URL: srv.URL + "/api/lookup/{phone}?src=ivr&p={phone}", Body: `{"msisdn":"{phone}"}`,
			Headers: map[string]string{"X-Api-Key": "k"}, ListPath: "result.matches", IDPath: "acct", NamePath: "profile.display",
			VerifyRequiredPath: "flags.mfa"},
		Check: crm.Endpoint{Method: "POST", URL: srv.URL + "/api/auth", Body: `{"account":"{id}","pin":"{pin}"}`, VerifiedPath: "outcome.ok"},
	}
	got, err := c.FindByPhone(context.Background(), "+44 20 7946")
	if err != nil || len(got) != 1 || got[0] != (flow.Customer{ID: "12345", Name: `Ana "Q"`, VerifyRequired: true}) {
		t.Fatalf("= %+v, %v", got, err)
	}
	if seen.Header.Get("Authorization") != "Bearer tok" || seen.Header.Get("X-Api-Key") != "k" {
		t.Errorf("headers = %v", seen.Header)
	}
	if seen.URL.Query().Get("p") != "+44 20 7946" || seen.URL.EscapedPath() != "/api/lookup/+44%2020%207946" {
		t.Errorf("URL = %s: phone must be path-escaped in the path and query-escaped in the query", seen.URL)
	}
	if seenBody != `{"msisdn":"+44 20 7946"}` {
		t.Errorf("body = %s", seenBody)
	}
	// A value that looks like a placeholder is not expanded again, and quotes are escaped.
	v, err := c.Verify(context.Background(), flow.FactorPIN, `x"{pin}`, flow.NewSecret("1234"))
	if err != nil || v != flow.Verified {
		t.Fatalf("verify = %v, %v", v, err)
	}
	var body map[string]string
	if err := json.Unmarshal([]byte(seenBody), &body); err != nil || body["account"] != `x"{pin}` || body["pin"] != "1234" {
		t.Errorf("verify body = %s (%v)", seenBody, err)
	}
}

func TestErrorsAreDistinctAndKeepTheSecretOut(t *testing.T) {
	cases := []struct {
		name    string
		handler http.HandlerFunc
		kind    string
	}{
		{"server error", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "pin 4321 wrong", 500) }, "http_500"},
		{"unauthorised", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(401) }, "http_401"},
		{"garbage", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<html>")) }, "bad_json"},
		{"two documents", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"verified":true}{}`)) }, "bad_json"},
		{"wrong type", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"verified":"yes"}`)) }, "bad_json"},
		{"too large", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(strings.Repeat(" ", 2<<20))) }, "too_large"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			c := &crm.Client{HTTP: srv.Client()}
			_, _, c.Check = crm.ReferenceEndpoints(srv.URL)
			_, err := c.Verify(context.Background(), flow.FactorPIN, "100234", flow.NewSecret("4321"))
			var ce *crm.Error
			if !errors.As(err, &ce) || ce.Kind() != tc.kind || ce.Op != "verify" {
				t.Fatalf("err = %v, want a crm.Error of kind %s", err, tc.kind)
			}
			if strings.Contains(err.Error(), "4321") || strings.Contains(err.Error(), srv.URL) {
				t.Errorf("error %q carries the secret or the URL", err)
			}
		})
	}
}

// TestVerifyRequiredMustBeABoolean: a CRM that says "verify_required": "true" (or 1)
// fails the lookup instead of letting the customer skip verification; an absent or null
// flag is false.
func TestVerifyRequiredMustBeABoolean(t *testing.T) {
	for body, want := range map[string]string{
		`{"id":"1","verify_required":"true"}`: "bad_json",
		`{"id":"1","verify_required":1}`:      "bad_json",
		`{"id":"1","verify_required":true}`:   "required",
		`{"id":"1","verify_required":null}`:   "not required",
		`{"id":"1"}`:                          "not required",
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(body)) }))
		c := &crm.Client{HTTP: srv.Client()}
		_, c.ByID, _ = crm.ReferenceEndpoints(srv.URL)
		cust, err := c.FindBy(context.Background(), flow.KindCustomerID, "1")
		srv.Close()
		got := "not required"
		var ce *crm.Error
		switch {
		case errors.As(err, &ce):
			got = ce.Kind()
		case err != nil:
			t.Fatalf("%s: %v", body, err)
		case cust.VerifyRequired:
			got = "required"
		}
		if got != want {
			t.Errorf("%s: %s, want %s", body, got, want)
		}
	}
}

// TestCustomerTextIsMadeSafe: a CRM's name keeps its letters but loses what could break a
// line, a CSV or a screen (line breaks become spaces; NUL, BEL, a right-to-left override
// go) and is cut at crm.MaxNameLen; an id that is not printable text fails the lookup as
// the CRM's fault, rather than being stored and shown as it came.
func TestCustomerTextIsMadeSafe(t *testing.T) {
	long := strings.Repeat("名", 5000)
	for _, tc := range []struct{ id, name, want, err string }{
		{"100234", "佐藤 花子", "佐藤 花子", ""},
		{"100234", "O'Brien-Smith, Zoë", "O'Brien-Smith, Zoë", ""},
		{"100234", `Evil\r\nEXEC Dial\u0000\u0007\u202eNAME`, "Evil  EXEC DialNAME", ""}, // JSON escapes
		{"100234", long, strings.Repeat("名", crm.MaxNameLen), ""},
		{`9\n0`, "x", "", "bad_json"},
		{`\u202e100234`, "x", "", "bad_json"},
		{strings.Repeat("1", crm.MaxIDLen+1), "x", "", "bad_json"},
	} {
		body := fmt.Sprintf(`{"id":"%s","name":"%s"}`, tc.id, tc.name)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(body)) }))
		c := &crm.Client{HTTP: srv.Client()}
		_, c.ByID, _ = crm.ReferenceEndpoints(srv.URL)
		cust, err := c.FindBy(context.Background(), flow.KindCustomerID, "1")
		srv.Close()
		var ce *crm.Error
		switch {
		case tc.err != "":
			if !errors.As(err, &ce) || ce.Kind() != tc.err {
				t.Errorf("id %q: %v, want %s", tc.id, err, tc.err)
			}
		case err != nil:
			t.Errorf("%.40q: %v", tc.name, err)
		case cust.Name != tc.want:
			t.Errorf("name %.60q, want %.60q", cust.Name, tc.want)
		}
	}
}

// TestBreakerFailsFastOnADeadCRM: after the configured failures in a row, requests fail at
// once without reaching the CRM, then one probe is let through.
func TestBreakerFailsFastOnADeadCRM(t *testing.T) {
	var hits int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	c := (&crm.Client{HTTP: srv.Client()}).WithBreaker(3, time.Hour)
	c.ByPhone, c.ByID, c.Check = crm.ReferenceEndpoints(srv.URL)
	var kinds []string
	for range 5 {
		_, err := c.FindByPhone(context.Background(), "+81312345678")
		var ce *crm.Error
		errors.As(err, &ce)
		kinds = append(kinds, ce.Kind())
	}
	if strings.Join(kinds, " ") != "http_503 http_503 http_503 circuit_open circuit_open" || hits != 3 {
		t.Errorf("kinds %v, CRM reached %d times", kinds, hits)
	}
	// A 404 (no such customer) is an answer, not a failure: it does not trip the breaker.
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNotFound) }))
	defer ok.Close()
	c2 := (&crm.Client{HTTP: ok.Client()}).WithBreaker(2, time.Hour)
	c2.ByPhone, c2.ByID, c2.Check = crm.ReferenceEndpoints(ok.URL)
	for range 4 {
		if cu, err := c2.FindBy(context.Background(), flow.KindCustomerID, "1"); err != nil || cu != nil {
			t.Fatalf("404 = %v, %v", cu, err)
		}
	}
}

// TestCancelledRequestsDoNotTripTheBreaker: a request cancelled on idv's side (the caller
// hung up) says nothing of the CRM's health; the next caller still reaches the CRM.
func TestCancelledRequestsDoNotTripTheBreaker(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"id":"1","name":"A"}`))
	}))
	defer srv.Close()
	c := (&crm.Client{HTTP: srv.Client()}).WithBreaker(1, time.Hour)
	_, c.ByID, _ = crm.ReferenceEndpoints(srv.URL)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var ce *crm.Error
	if _, err := c.FindBy(ctx, flow.KindCustomerID, "1"); !errors.As(err, &ce) || ce.Kind() != "canceled" {
		t.Fatalf("cancelled request: %v, want kind canceled", err)
	}
	if cust, err := c.FindBy(context.Background(), flow.KindCustomerID, "1"); err != nil || cust == nil {
		t.Errorf("after a cancelled request: %v, %v; want the CRM reached", cust, err)
	}
}

// TestRedirectsAreNotFollowed: a verify endpoint answering 307 elsewhere would have the
// secret and the headers sent again to another host. The client follows no redirect,
// whichever http.Client it was given: the other host receives nothing, the call fails
// with kind redirect, and the breaker counts it like any other failing status.
func TestRedirectsAreNotFollowed(t *testing.T) {
	var (
		mu       sync.Mutex
		received []string
	)
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		received = append(received, fmt.Sprintf("%s %s %v %s", r.Method, r.URL, r.Header, b))
		mu.Unlock()
		w.Write([]byte(`{"verified":true}`))
	}))
	defer elsewhere.Close()
	crmSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer crmSrv.Close()
	_, _, verify := crm.ReferenceEndpoints(crmSrv.URL)
	verify.Headers = map[string]string{"X-Api-Key": "k3y"}
	built, err := crm.New(crm.Settings{Check: verify, Auth: crm.Auth{Bearer: "t0ken"}, BreakerFailures: 2, BreakerOpen: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	clients := map[string]*crm.Client{
		"crm.New":                    built,
		"a zero Client":              {Check: verify},
		"a Client with a test HTTP":  {Check: verify, HTTP: crmSrv.Client()},
		"a Client with its own HTTP": {Check: verify, HTTP: &http.Client{}},
	}
	for name, c := range clients {
		_, err := c.Verify(context.Background(), flow.FactorPIN, "100234", flow.NewSecret("4321"))
		var ce *crm.Error
		if !errors.As(err, &ce) || ce.Kind() != "redirect" || ce.Status != http.StatusTemporaryRedirect {
			t.Errorf("%s: err = %v, want a crm.Error of kind redirect", name, err)
		}
	}
	mu.Lock()
	if len(received) > 0 {
		t.Errorf("the redirect's target received %d requests:\n%s", len(received), strings.Join(received, "\n"))
	}
	mu.Unlock()
	// crm.New's breaker (2 failures) counted the redirect above; one more opens it.
	built.Verify(context.Background(), flow.FactorPIN, "100234", flow.NewSecret("4321"))
	var ce *crm.Error
	if _, err := built.Verify(context.Background(), flow.FactorPIN, "100234", flow.NewSecret("4321")); !errors.As(err, &ce) || ce.Kind() != "circuit_open" {
		t.Errorf("after two redirects: %v, want circuit_open", err)
	}
}

// TestCRMCredentialsStayWithTheCRM: [crm.auth] goes to the CRM's own host only; a
// one-time code sent through an SMS gateway on another host carries the gateway's own
// header, never the CRM's token.
func TestCRMCredentialsStayWithTheCRM(t *testing.T) {
	seen := map[string]string{}
	handler := func(name string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			seen[name] = r.Header.Get("Authorization")
			w.WriteHeader(http.StatusAccepted)
			w.Write([]byte(`{"id":"1","verified":true}`))
		}
	}
	crmSrv, gateway := httptest.NewServer(handler("crm")), httptest.NewServer(handler("gateway"))
	defer crmSrv.Close()
	defer gateway.Close()
	byPhone, byID, verify := crm.ReferenceEndpoints(crmSrv.URL)
	otp := crm.ReferenceOTP(gateway.URL)
	otp.Headers = map[string]string{"Authorization": "Bearer gateway-key"}
	c := &crm.Client{Auth: crm.Auth{Bearer: "crm-secret"}, ByPhone: byPhone, ByID: byID, Check: verify, SendOTP: otp}
	if _, err := c.Verify(context.Background(), flow.FactorPIN, "1", flow.NewSecret("1234")); err != nil {
		t.Fatal(err)
	}
	if err := c.SendCode(context.Background(), flow.Customer{ID: "1", Mobile: "+819011112278"}, flow.NewSecret("123456")); err != nil {
		t.Fatal(err)
	}
	if seen["crm"] != "Bearer crm-secret" || seen["gateway"] != "Bearer gateway-key" {
		t.Errorf("Authorization: the CRM got %q, the gateway %q", seen["crm"], seen["gateway"])
	}
}
