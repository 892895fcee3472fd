package main

import (
	"context"
	"testing"

	"github.com/idv-project/idv/agi/agitest"
	"github.com/idv-project/idv/flow"
)

// TestQueueOutcomeWithoutARI: with no ARI to follow the queued calls (the default), a
// call's queue outcome comes from idv's own times — entered as Queue() is sent, answered
// as the /agent script runs on the agent's channel, ended as Queue() returns — so that the
// reports and the wallboard have a wait, a talk time and how each call left the queue
// (they had none: "—" everywhere).
func TestQueueOutcomeWithoutARI(t *testing.T) {
	h := newHarness(t, "")
	ctx := context.Background()
	// Answered: the agent's /agent script runs while the caller is in the queue.
	answered := agitest.Caller{ANI: "+81312345678", Keys: "1234#"}
	answered.InQueue = func(_ string, vars map[string]string) {
		if _, err := (agitest.Caller{Script: "agent", Channel: "PJSIP/agent1-0000001a", Vars: vars}).Call(ctx, h.addr); err != nil {
			t.Error(err)
		}
	}
	_, in := h.call(answered)
	if in.QueueResult() != flow.QueueAnswered || in.Agent != "PJSIP/agent1" || in.Wait == nil || in.Talk == nil || *in.Talk < 0 {
		t.Errorf("answered: result %q, agent %q, wait %v, talk %v", in.QueueResult(), in.Agent, in.Wait, in.Talk)
	}
	// Left the queue unanswered: QUEUESTATUS=TIMEOUT, the time in the queue its wait.
	_, in = h.call(agitest.Caller{ANI: "+81312345678", Keys: "1234#", QueueStatus: "TIMEOUT"})
	if in.QueueResult() != flow.QueueLeft("TIMEOUT") || in.Agent != "" || in.Wait == nil || in.Talk != nil {
		t.Errorf("TIMEOUT: result %q, agent %q, wait %v, talk %v", in.QueueResult(), in.Agent, in.Wait, in.Talk)
	}
	// Neither a status nor an agent seen: the caller hung up waiting, or talked to an
	// agent whose channel runs no /agent script; idv cannot tell, and claims nothing.
	_, in = h.call(agitest.Caller{ANI: "+81312345678", Keys: "1234#"})
	if in.QueueResult() != "" || in.Wait != nil || in.Talk != nil {
		t.Errorf("no status, no agent: result %q, wait %v, talk %v; want the ending not known", in.QueueResult(), in.Wait, in.Talk)
	}
}
