package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/idv-project/idv/agi/agitest"
	"github.com/idv-project/idv/crm"
)

// TestCRMValuesAreSanitisedBeforeSetVariable: a hostile name from the CRM cannot break
// the AGI command line, inject a command, or reach the dialplan with quotes or control
// characters; the record keeps its quotes (SQL escapes them) but no control character.
func TestCRMValuesAreSanitisedBeforeSetVariable(t *testing.T) {
	evil := `Robert"); DROP\" \r\nEXEC Dial PJSIP/evil` + "\x07\x00" + strings.Repeat("x", 300)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"customers":[{"id":"9\"1 2","name":` + jsonString(evil) + `,"verify_required":false}]}`))
	}))
	defer srv.Close()
	h := newHarness(t, srv.URL)
	res, in := h.call(agitest.Caller{ANI: "+81312345678"})
	name := res.Var("IDV_CUSTOMER_NAME")
	if strings.ContainsAny(name, "\"\\\r\n\x00\x07") || len([]rune(name)) > 128 || !strings.HasPrefix(name, "Robert'); DROP'") {
		t.Errorf("IDV_CUSTOMER_NAME = %q", name)
	}
	if id := res.Var("IDV_CUSTOMER_ID"); id != "9'1 2" {
		t.Errorf("IDV_CUSTOMER_ID = %q", id)
	}
	for _, c := range res.Commands {
		if strings.HasPrefix(strings.ToUpper(c.Line), "EXEC DIAL") || strings.HasPrefix(c.Reply, "520") || strings.HasPrefix(c.Reply, "510") {
			t.Errorf("command %q got %q", c.Line, c.Reply)
		}
	}
	if len(res.Apps) != 1 || res.Apps[0] != "Queue(support,,,,300)" {
		t.Errorf("apps = %q", res.Apps)
	}
	if want := `Robert"); DROP\" \r\nEXEC Dial PJSIP/evilxxx`; !strings.HasPrefix(in.CustomerName, want) ||
		strings.ContainsAny(in.CustomerName, "\r\n\x00\x07") || len([]rune(in.CustomerName)) != crm.MaxNameLen {
		t.Errorf("the record keeps the CRM's name with its quotes, without control characters, cut at %d: got %q", crm.MaxNameLen, in.CustomerName)
	}
	if in.CustomerID != `9"1 2` {
		t.Errorf("the record keeps the CRM's id as it came, got %q", in.CustomerID)
	}
}

func jsonString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteString(`\` + string(r))
		case r < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte("0123456789abcdef"[r>>4])
			b.WriteByte("0123456789abcdef"[r&15])
		default:
			b.WriteRune(r)
		}
	}
	return b.String() + `"`
}
