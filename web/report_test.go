package web_test

import (
	"encoding/json"
	"mime"
	"strings"
	"testing"
	"time"

	"github.com/idv-project/idv/report"
	"github.com/idv-project/idv/web"
)

// TestReportRequests: what GET /api/reports/{name} answers a supervisor who asks for a
// line or queue that does not exist (400 naming it, not an empty report), conflicting
// parameters (400 naming both), a language, a CSV section; and that a relative range is
// read in report.timezone: at 08:30 in Tokyo (23:30 UTC the day before), "today" is
// Tokyo's day.
func TestReportRequests(t *testing.T) {
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	s := newSite(t, func(srv *web.Server) {
		srv.Location = tokyo
		srv.Now = func() time.Time { return time.Date(2026, 11, 25, 23, 30, 0, 0, time.UTC) }
		srv.Known = func() report.Known {
			return report.Known{Lines: []string{"retail", "business"}, Queues: []string{"support"}}
		}
	})
	boss := as("boss", "boss-password")
	for _, tc := range []struct {
		name, query string
		code        int
		body, file  string
	}{
		{"an unknown line", "range=today&line=retial&format=csv", 400, `line "retial" is not known (known: business, retail)`, ""},
		{"an unknown queue", "range=today&queue=sales", 400, `queue "sales" is not known (known: support)`, ""},
		{"a configured line without calls", "range=today&line=business&format=csv", 200, "Line,Calls,", "outcomes-by-line_2026-11-26_2026-11-26.csv"},
		{"range and from", "range=today&from=2026-11-01&format=csv", 400, `range "today" and from "2026-11-01" conflict`, ""},
		{"today in report.timezone", "range=today&format=csv", 200, "Line,Calls,Verified,", "outcomes-by-line_2026-11-26_2026-11-26.csv"},
		{"in Japanese", "range=today&format=csv&lang=ja", 200, "回線,通話数,本人確認済み,", "outcomes-by-line_2026-11-26_2026-11-26.csv"},
		{"an unknown language", "range=today&lang=fr", 400, `lang "fr": want en or ja`, ""},
		{"a section", "range=today&format=csv&section=by-hour", 200, "Hour,Calls,", "outcomes-by-hour_2026-11-26_2026-11-26.csv"},
		{"an unknown section", "range=today&format=csv&section=by-week", 400, "report outcomes has by-line, by-day, by-hour", ""},
		{"a section of a PDF", "range=today&format=pdf&section=by-day", 400, "only a CSV is cut into sections", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := s.req("GET", "/api/reports/outcomes?"+tc.query, "", boss)
			if resp.StatusCode != tc.code || !strings.Contains(body, tc.body) {
				t.Fatalf("%d %q, want %d with %q", resp.StatusCode, body, tc.code, tc.body)
			}
			if tc.file != "" {
				if _, p, _ := mime.ParseMediaType(resp.Header.Get("Content-Disposition")); p["filename"] != tc.file {
					t.Errorf("file %q, want %q", p["filename"], tc.file)
				}
			}
		})
	}
}

// TestReportListInTheUILanguage: GET /api/reports?lang=ja titles the reports and their
// sections in Japanese, with the sections' names a CSV is asked by.
func TestReportListInTheUILanguage(t *testing.T) {
	s := newSite(t, nil)
	resp, body := s.req("GET", "/api/reports?lang=ja", "", as("boss", "boss-password"))
	var list []struct {
		Name, Title string
		Sections    []report.Section
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil || resp.StatusCode != 200 {
		t.Fatalf("%d %s: %v", resp.StatusCode, body, err)
	}
	if list[0].Name != "outcomes" || list[0].Title != "本人確認の結果" || len(list[0].Sections) != 3 ||
		list[0].Sections[1] != (report.Section{Name: "by-day", Title: "日別"}) {
		t.Errorf("first report %+v", list[0])
	}
}
