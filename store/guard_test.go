package store_test

import (
	"context"
	"testing"
	"time"

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
