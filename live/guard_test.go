package live_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/idv-project/idv/flow"
)

// TestTilesCountLockouts: a call a security limit stopped — a lockout or identification
// throttling — counts in the locked-out tile when it ends, today and in the last 15
// minutes, and the pages read it as locked_out.
func TestTilesCountLockouts(t *testing.T) {
	h, c := newHub(nil)
	for _, id := range []string{"01A", "01B", "01C"} {
		h.CallStarted(id, "retail", "idv")
	}
	h.Step(&flow.Interaction{ID: "01A"}, flow.Event{Kind: flow.EventGuard, Phase: flow.PhaseVerify, Name: "verify", Result: flow.ResultLockout, Detail: "caller"})
	h.Step(&flow.Interaction{ID: "01B"}, flow.Event{Kind: flow.EventGuard, Phase: flow.PhaseIdentify, Name: "identify", Result: flow.ResultRateLimited, Detail: "withheld"})
	if s := h.Snapshot(); s.Today.LockedOut != 0 {
		t.Errorf("calls in progress count as locked out: %+v", s.Today)
	}
	h.CallEnded("01A", &flow.Interaction{ID: "01A", Status: flow.StatusIdentified, Reason: flow.ReasonLocked})
	h.CallEnded("01B", &flow.Interaction{ID: "01B", Status: flow.StatusUnidentified, Reason: flow.ReasonLocked})
	// Locked by the CRM (423), not by idv's limits: not counted.
	h.CallEnded("01C", &flow.Interaction{ID: "01C", Status: flow.StatusIdentified, Reason: flow.ReasonLocked})
	s := h.Snapshot()
	if s.Today.LockedOut != 2 || s.Last15.LockedOut != 2 {
		t.Errorf("locked out today %d, last 15 minutes %d, want 2", s.Today.LockedOut, s.Last15.LockedOut)
	}
	b, _ := json.Marshal(s.Today)
	if !strings.Contains(string(b), `"locked_out":2`) {
		t.Errorf("tiles as the pages read them: %s", b)
	}
	c.Add(16 * time.Minute)
	if s := h.Snapshot(); s.Last15.LockedOut != 0 || s.Today.LockedOut != 2 {
		t.Errorf("after 16 minutes: last 15 minutes %d, today %d", s.Last15.LockedOut, s.Today.LockedOut)
	}
}
