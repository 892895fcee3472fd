package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/idv-project/idv/flow"
	"github.com/idv-project/idv/store"
	"github.com/idv-project/idv/store/storetest"
)

// TestGuardHoldsAcrossInstances: two idv instances on one database share lockouts and
// limits; a passed verification clears the failures; old failures leave the window.
func TestGuardHoldsAcrossInstances(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			ctx := context.Background()
			driver, dsn := storetest.DSN(t, driver)
			a, err := store.Open(ctx, driver, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			b, err := store.Open(ctx, driver, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
			clock := func() time.Time { return now }
			ga := &store.Guard{Store: a, LockoutFailures: 3, LockoutWindow: time.Hour, PerANI: 2, IdentifyWindow: time.Minute, Now: clock}
			gb := &store.Guard{Store: b, LockoutFailures: 3, LockoutWindow: time.Hour, PerANI: 2, IdentifyWindow: time.Minute, Now: clock}
			ga.VerifyFailed(ctx, "100234")
			gb.VerifyFailed(ctx, "100234")
			if locked, _ := ga.VerifyFailed(ctx, "100234"); !locked {
				t.Error("3 failures over two instances did not lock")
			}
			if locked, _ := gb.VerifyLocked(ctx, "100234"); !locked {
				t.Error("instance B does not see the lockout")
			}
			now = now.Add(2 * time.Hour)
			if locked, _ := gb.VerifyLocked(ctx, "100234"); locked {
				t.Error("failures older than the window still lock")
			}
			ga.VerifyFailed(ctx, "100235")
			ga.VerifyFailed(ctx, "100235")
			gb.VerifyPassed(ctx, "100235")
			if locked, _ := ga.VerifyFailed(ctx, "100235"); locked {
				t.Error("a passed verification did not clear the failures")
			}
			var got []bool
			for _, g := range []*store.Guard{ga, gb, ga} {
				ok, _ := g.IdentifyAllowed(ctx, "+81300000000")
				got = append(got, ok)
			}
			if got[0] != true || got[1] != true || got[2] != false {
				t.Errorf("per-number throttling over two instances: %v", got)
			}
		})
	}
}

// TestListFilters: the interactions view's filters, queue routes with options included.
func TestListFilters(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t, store.SQLite)
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	for i, route := range []string{"queue:support", "queue:support,t,,,300", "queue:supporters", "goto:selfservice,s,1"} {
		st.Record(ctx, &flow.Interaction{ID: fmt.Sprint("01L", i), Line: []string{"retail", "default"}[i%2], Script: "idv",
			Started: t0.Add(time.Duration(i) * time.Minute), Status: flow.StatusIdentified, Route: route})
	}
	list := func(q store.Query) string {
		q.From, q.To = t0, t0.Add(time.Hour)
		got, err := st.List(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, s := range got {
			ids = append(ids, s.ID)
		}
		return strings.Join(ids, " ")
	}
	if got := list(store.Query{Queues: []string{"support"}}); got != "01L1 01L0" {
		t.Errorf("queue support: %s", got)
	}
	if got := list(store.Query{Lines: []string{"retail"}}); got != "01L2 01L0" {
		t.Errorf("line retail: %s", got)
	}
	if got := list(store.Query{}); got != "01L3 01L2 01L1 01L0" {
		t.Errorf("all, newest first: %s", got)
	}
}
