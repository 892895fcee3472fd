package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/idv-project/idv/agi/agitest"
	"github.com/idv-project/idv/crm/demo"
)

// TestPINNeverLeaks types a unique PIN in every kind of scenario and then searches the
// logs (at debug level), the database files and everything sent to Asterisk for it.
func TestPINNeverLeaks(t *testing.T) {
	const pin = "86420975"
	customers := append([]demo.Customer{{ID: "777001", Name: "Canary", VerifyRequired: true, Phones: []string{"+81300000001"}, PIN: pin}}, demo.Seed...)
	crm := httptest.NewServer(demo.New(customers).Handler())
	t.Cleanup(crm.Close)
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/verify") {
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		}
		demo.New(customers).Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(broken.Close)

	scenarios := []struct {
		crm    string
		caller agitest.Caller
	}{
		{crm.URL, agitest.Caller{ANI: "+81300000001", Keys: pin + "#"}},                                 // verified
		{crm.URL, agitest.Caller{ANI: "+81312345678", Keys: pin + "#" + pin + "#" + pin + "#"}},         // rejected three times
		{crm.URL, agitest.Caller{ANI: "+81312345678", Keys: pin}},                                       // ends on max length
		{crm.URL, agitest.Caller{ANI: "+81312345678", Keys: pin[:5] + "!"}},                             // hang-up while typing
		{crm.URL, agitest.Caller{ANI: "+81300000001", Keys: pin + "#", HangupOnPrompt: "idv/verified"}}, // hang-up after
		{crm.URL, agitest.Caller{Script: "verify", Keys: pin + "#", Vars: map[string]string{"IDV_CUSTOMER_ID": "777001"}}},
		{crm.URL, agitest.Caller{ANI: "anonymous", Keys: pin + "#"}},                                        // typed as identifier
		{broken.URL, agitest.Caller{ANI: "+81300000001", Keys: pin + "#"}},                                  // CRM fails verifying it
		{crm.URL, agitest.Caller{Script: "idv?line=retail", ANI: "+81312345679", Keys: "1#" + pin + "#2#"}}, // mixed with wrong ones
	}
	for i, sc := range scenarios {
		h := newHarness(t, sc.crm)
		res, _ := h.call(sc.caller)
		if !strings.Contains(res.Typed, pin[:5]) {
			t.Fatalf("scenario %d: Asterisk delivered %q, not the PIN; the test proves nothing", i, res.Typed)
		}
		for _, c := range res.Commands {
			if strings.Contains(c.Line, pin) {
				t.Errorf("scenario %d: sent to Asterisk: %q", i, c.Line)
			}
		}
		for k, v := range res.Vars {
			if strings.Contains(v, pin) {
				t.Errorf("scenario %d: channel variable %s=%q", i, k, v)
			}
		}
		dir := filepath.Dir(h.db)
		h.stop() // flush and close the database
		if strings.Contains(h.logs.String(), pin) {
			t.Errorf("scenario %d: the PIN is in the log", i)
		}
		files, _ := filepath.Glob(filepath.Join(dir, "*"))
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(data, []byte(pin)) {
				t.Errorf("scenario %d: the PIN is in %s", i, filepath.Base(f))
			}
		}
	}
}
