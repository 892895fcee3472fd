package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idv-project/idv/flow"
	"github.com/idv-project/idv/store"
	"github.com/idv-project/idv/store/storetest"
)

// TestGuardHoldsAcrossInstances: two idv instances on one database share lockouts and
// limits. Attempts still being checked count like failures; a right secret clears the
// caller's failures and nobody else's; an attempt without a verdict is released; old
// failures leave the window; one caller's lockout is not another's, until the
// customer's ceiling.
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
			ga := &store.Guard{Store: a, LockoutFailures: 3, CustomerFailures: 5, LockoutWindow: time.Hour,
				PerANI: 2, Withheld: 3, IdentifyWindow: time.Minute, Now: clock}
			gb := &store.Guard{Store: b, LockoutFailures: 3, CustomerFailures: 5, LockoutWindow: time.Hour,
				PerANI: 2, Withheld: 3, IdentifyWindow: time.Minute, Now: clock}
			reserve := func(g *store.Guard, customer, caller string) (flow.Attempt, flow.Limit) {
				t.Helper()
				at, limit, err := g.ReserveVerify(ctx, customer, caller)
				if err != nil {
					t.Fatal(err)
				}
				return at, limit
			}
			settle := func(at flow.Attempt, o flow.AttemptOutcome) flow.Limit {
				t.Helper()
				limit, err := at.Settle(ctx, o)
				if err != nil {
					t.Fatal(err)
				}
				return limit
			}
			limit := func(g *store.Guard, customer, caller string) flow.Limit {
				t.Helper()
				l, err := g.VerifyLimit(ctx, customer, caller)
				if err != nil {
					t.Fatal(err)
				}
				return l
			}
			const alice, mallory = "+81312345678", "+81398765432"

			// Three attempts in flight over two instances take the caller's three.
			var held []flow.Attempt
			for _, g := range []*store.Guard{ga, gb, ga} {
				at, l := reserve(g, "100234", mallory)
				if l != flow.LimitNone {
					t.Fatalf("attempt %d refused: %s", len(held)+1, l)
				}
				held = append(held, at)
			}
			if _, l := reserve(gb, "100234", mallory); l != flow.LimitCaller {
				t.Errorf("a 4th attempt while 3 are checked: %q, want caller", l)
			}
			if l := settle(held[0], flow.AttemptVoid); l != flow.LimitNone {
				t.Errorf("releasing an attempt says %q", l)
			}
			if l := settle(held[1], flow.AttemptRejected); l != flow.LimitNone {
				t.Errorf("1 failure, 1 pending out of 3: %q", l)
			}
			at, l := reserve(gb, "100234", mallory) // the released one's place
			if l != flow.LimitNone {
				t.Fatalf("the released attempt's place: %q", l)
			}
			settle(at, flow.AttemptRejected)
			if l := settle(held[2], flow.AttemptRejected); l != flow.LimitCaller {
				t.Errorf("the 3rd failure says %q, want caller", l)
			}
			if l := limit(gb, "100234", mallory); l != flow.LimitCaller {
				t.Errorf("instance B sees %q, want caller", l)
			}
			if l := limit(gb, "100234", alice); l != flow.LimitNone {
				t.Errorf("another caller of the customer: %q, want none", l)
			}
			// Withheld callers share one count, and two more failures of theirs reach
			// the customer's ceiling of 5: then nobody may try.
			for range 2 {
				at, _ := reserve(ga, "100234", "")
				settle(at, flow.AttemptRejected)
			}
			if l := limit(ga, "100234", alice); l != flow.LimitCustomer {
				t.Errorf("5 failures from all callers: %q, want customer", l)
			}
			if _, l := reserve(gb, "100234", alice); l != flow.LimitCustomer {
				t.Errorf("reserving past the ceiling: %q, want customer", l)
			}
			now = now.Add(2 * time.Hour)
			if l := limit(gb, "100234", mallory); l != flow.LimitNone {
				t.Errorf("failures older than the window still lock: %q", l)
			}

			// A right secret clears the caller's failures, not the other callers'.
			for _, caller := range []string{alice, alice, mallory, mallory} {
				at, _ := reserve(ga, "100235", caller)
				settle(at, flow.AttemptRejected)
			}
			at, _ = reserve(gb, "100235", alice)
			settle(at, flow.AttemptVerified)
			for range 3 {
				at, _ := reserve(ga, "100235", alice)
				settle(at, flow.AttemptRejected)
			}
			if l := limit(ga, "100235", alice); l != flow.LimitCaller {
				t.Errorf("3 failures after a right secret: %q, want caller", l)
			}
			if l := limit(ga, "100235", ""); l != flow.LimitCustomer {
				t.Errorf("mallory's 2 and alice's 3 since: %q, want customer", l)
			}
			for _, g := range []*store.Guard{ga, gb} {
				if l := limit(g, "100236", ""); l != flow.LimitNone {
					t.Errorf("a customer nobody tried: %q", l)
				}
			}

			// Identification: per number, and withheld callers together.
			var got []flow.Limit
			for _, g := range []*store.Guard{ga, gb, ga} {
				l, _ := g.CountIdentify(ctx, "+81300000000")
				got = append(got, l)
			}
			for _, g := range []*store.Guard{ga, gb, ga, gb} {
				l, _ := g.CountIdentify(ctx, "")
				got = append(got, l)
			}
			if want := []flow.Limit{"", "", "caller", "", "", "", "withheld"}; !slices.Equal(got, want) {
				t.Errorf("identification throttling over two instances: %q, want %q", got, want)
			}
		})
	}
}

// TestIdentifyGlobalBound: the bound on everyone's identification attempts.
func TestIdentifyGlobalBound(t *testing.T) {
	g := &store.Guard{Store: storetest.Open(t, store.SQLite), PerANI: 5, Withheld: 5, Global: 3, IdentifyWindow: time.Minute}
	var got []flow.Limit
	for _, caller := range []string{"+81300000001", "", "+81300000002", "+81300000003"} {
		l, err := g.CountIdentify(context.Background(), caller)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, l)
	}
	if want := []flow.Limit{"", "", "", "global"}; !slices.Equal(got, want) {
		t.Errorf("global bound: %q, want %q", got, want)
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

// TestCeilingNeverBelowOneCallersLimit: a customer ceiling set below the caller's limit
// is raised to it, so that one caller still cannot lock the customer out for everyone.
func TestCeilingNeverBelowOneCallersLimit(t *testing.T) {
	ctx := context.Background()
	g := &store.Guard{Store: storetest.Open(t, store.SQLite), LockoutFailures: 5, CustomerFailures: 3, LockoutWindow: time.Hour}
	for range 4 {
		at, limit, err := g.ReserveVerify(ctx, "100234", "+81398765432")
		if err != nil || limit != flow.LimitNone {
			t.Fatalf("attempt refused: %q, %v", limit, err)
		}
		at.Settle(ctx, flow.AttemptRejected)
	}
	if l, _ := g.VerifyLimit(ctx, "100234", "+81312345678"); l != flow.LimitNone {
		t.Errorf("4 failures of one caller lock the customer out for another: %q", l)
	}
}
