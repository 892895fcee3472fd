package web_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/idv-project/idv/store"
	"github.com/idv-project/idv/web"
)

// TestAccessToPersonalDataIsAudited: a view, a list, a report download, a wrap-up and a
// live view each leave an entry with the user, the address and the target; a refused
// view leaves none; supervisors read the audit, agents may not.
func TestAccessToPersonalDataIsAudited(t *testing.T) {
	s := newSite(t, func(srv *web.Server) {
		srv.Audit = srv.Interactions.(*store.Store)
		srv.Access.TrustedProxies = localProxy
	})
	ann, boss := as("ann", "ann-password"), as("boss", "boss-password")
	day := time.Now().UTC()
	since := day.AddDate(0, 0, -1).Format("2006-01-02")
	period := "from=" + since + "&to=" + day.AddDate(0, 0, 1).Format("2006-01-02")
	for _, r := range []struct {
		method, path, body string
		edit               []func(*http.Request)
	}{
		{"GET", "/api/interactions/01MINE", "", []func(*http.Request){ann, from("192.0.2.7")}},
		{"GET", "/api/interactions/01THEIRS", "", []func(*http.Request){ann, from("192.0.2.7")}}, // 404: not ann's
		{"GET", "/api/interactions?line=retail&" + period, "", []func(*http.Request){boss}},
		{"GET", "/api/reports/detail?format=csv&" + period, "", []func(*http.Request){boss}},
		{"POST", "/api/interactions/01MINE/wrapup", `{"code":"resolved"}`, []func(*http.Request){ann, from("192.0.2.7"), header("Content-Type", "application/json")}},
	} {
		s.req(r.method, r.path, r.body, r.edit...)
	}
	// A supervisor opens an agent's screen: the stream's first push comes after the entry.
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", s.ts.URL+"/api/live?agent=PJSIP/agent1", nil)
	boss(req)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		bufio.NewReader(resp.Body).ReadString('\n')
		resp.Body.Close()
	}
	cancel()
	resp, body := s.req("GET", "/api/audit?"+period, "", boss)
	var got []store.AuditEntry
	if err := json.Unmarshal([]byte(body), &got); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /api/audit: %s %s", resp.Status, body)
	}
	type row struct{ user, role, address, action, target, detail string }
	var rows []row
	for _, e := range got {
		rows = append(rows, row{e.User, e.Role, e.Address, string(e.Action), e.Target, e.Detail})
	}
	want := []row{
		{"ann", "agent", "192.0.2.7", "view", "01MINE", ""},
		{"boss", "supervisor", "127.0.0.1", "list", "", "line: retail"},
		{"boss", "supervisor", "127.0.0.1", "report", "detail", "csv " + since},
		{"ann", "agent", "192.0.2.7", "wrapup", "01MINE", "resolved"},
		{"boss", "supervisor", "127.0.0.1", "live", "PJSIP/agent1", ""},
	}
	if len(rows) != len(want) {
		t.Errorf("audit:\n%v\nwant:\n%v", rows, want)
	}
	for _, w := range want {
		found := false
		for _, g := range rows {
			found = found || g.user == w.user && g.role == w.role && g.address == w.address && g.action == w.action &&
				g.target == w.target && strings.Contains(g.detail, w.detail)
		}
		if !found {
			t.Errorf("no audit entry %+v in\n%v", w, rows)
		}
	}
	for i := 1; i < len(got); i++ {
		if got[i].At.After(got[i-1].At) {
			t.Errorf("entries not newest first: %v", got)
		}
	}
	resp, body = s.req("GET", "/api/audit?user=ann&"+period, "", boss)
	if resp.StatusCode != 200 || strings.Count(body, `"user":"ann"`) != 2 || strings.Contains(body, `"user":"boss"`) {
		t.Errorf("ann's audit: %s %s", resp.Status, body)
	}
	if resp, _ := s.req("GET", "/api/audit?"+period, "", ann); resp.StatusCode != http.StatusForbidden {
		t.Errorf("an agent reading the audit: %s, want 403", resp.Status)
	}
}

// failingAudit cannot write.
type failingAudit struct{ web.Auditor }

func (failingAudit) Audit(context.Context, store.AuditEntry) error { return errors.New("disk full") }

// TestUnauditedAccessIsRefused: when the audit cannot be written, the data is not shown
// and the change not made.
func TestUnauditedAccessIsRefused(t *testing.T) {
	s := newSite(t, func(srv *web.Server) { srv.Audit = failingAudit{} })
	resp, body := s.req("GET", "/api/interactions/01MINE", "", as("boss", "boss-password"))
	if resp.StatusCode != 500 || strings.Contains(body, "100234") {
		t.Errorf("view without audit: %s %q", resp.Status, body)
	}
	resp, _ = s.req("POST", "/api/interactions/01MINE/wrapup", `{"code":"resolved"}`, as("ann", "ann-password"), header("Content-Type", "application/json"))
	in, _ := s.st.Interaction(context.Background(), "01MINE")
	if resp.StatusCode != 500 || in.WrapUp != "" {
		t.Errorf("wrap-up without audit: %s, stored %q", resp.Status, in.WrapUp)
	}
}
