package loadtest

import (
	"testing"

	"github.com/idv-project/idv/agi/agitest"
)

// TestFloorCRMRequests: the floor makes the requests of the operations idv's record
// names, with the entries the caller typed, in order.
func TestFloorCRMRequests(t *testing.T) {
	sc := Scenario{Name: "dtmf-verified", ANI: "anonymous", Keys: "100238#4321#"}
	got := crmRequests(sc, []string{"by_id", "verify"}, "100238")
	want := []CRMRequest{{Op: "by_id", Method: "GET", Path: "/customers/100238"},
		{Op: "verify", Method: "POST", Path: "/customers/100238/verify", Body: `{"pin":"4321"}`}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("requests %+v, want %+v", got, want)
	}
	got = crmRequests(Scenario{ANI: "0312345678", Keys: "1234#"}, []string{"by_phone", "verify"}, "100234")
	if got[0].Path != "/customers?phone=%2B81312345678" || got[1].Body != `{"pin":"1234"}` {
		t.Errorf("requests %+v", got)
	}
}

// TestWaitsOnBackend: the commands after the first prompt, after an entry ended with
// '#', and the route count as waiting on the back end; the others do not.
func TestWaitsOnBackend(t *testing.T) {
	for _, tc := range []struct {
		line    string
		prev    *agitest.Command
		prompts int
		want    bool
	}{
		{"ANSWER", nil, 0, false},
		{"SET VARIABLE \"X\" \"1\"", &agitest.Command{Line: "ANSWER", Reply: "200 result=0"}, 0, false},
		{"STREAM FILE \"idv/enter-id\" \"#\"", &agitest.Command{Line: "STREAM FILE \"idv/welcome\" \"\"", Reply: "200 result=0 endpos=1"}, 1, true},
		{"WAIT FOR DIGIT 3000", &agitest.Command{Line: "WAIT FOR DIGIT 3000", Reply: "200 result=49"}, 2, false},
		{"STREAM FILE \"idv/verified\" \"\"", &agitest.Command{Line: "WAIT FOR DIGIT 3000", Reply: "200 result=35"}, 2, true},
		{"WAIT FOR DIGIT 3000", &agitest.Command{Line: "WAIT FOR DIGIT 3000", Reply: "200 result=351"}, 2, false},
		{"SET CONTEXT \"selfservice\"", &agitest.Command{Line: "SET VARIABLE \"__IDV_ATTEMPTS\" \"0/1\"", Reply: "200 result=1"}, 3, true},
		{"EXEC Queue \"support\"", &agitest.Command{Line: "STREAM FILE \"idv/transfer\" \"\"", Reply: "200 result=0"}, 3, true},
	} {
		if got := waitsOnBackend(tc.line, tc.prev, tc.prompts); got != tc.want {
			t.Errorf("%q after %+v: %v, want %v", tc.line, tc.prev, got, tc.want)
		}
	}
}
