package web_test

import (
	"encoding/csv"
	"strings"
	"testing"
)

// The interactions export opens in Excel as the supervisor reads it: in Japanese the CSV
// starts with a byte-order mark (without it Excel reads Shift_JIS and garbles 佐藤 花子),
// in English it is plain RFC 4180.
func TestInteractionsCSVOpensInExcel(t *testing.T) {
	s := newSite(t, nil)
	for _, lang := range []string{"en", "ja"} {
		resp, body := s.req("GET", "/api/interactions/export?format=csv&range=today&lang="+lang, "", as("boss", "boss-password"))
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", lang, resp.StatusCode, body)
		}
		rest, bom := strings.CutPrefix(body, "\ufeff")
		if bom != (lang == "ja") {
			t.Errorf("%s: byte-order mark %v", lang, bom)
		}
		recs, err := csv.NewReader(strings.NewReader(rest)).ReadAll()
		if err != nil || len(recs) != 3 || !strings.Contains(rest, "佐藤 花子") {
			t.Errorf("%s: %v, %d records:\n%s", lang, err, len(recs), body)
		}
	}
}
