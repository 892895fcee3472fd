package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/idv-project/idv/flow"
	"github.com/idv-project/idv/store/storetest"
)

// TestLatestVerifiedMatchesTheWholeNumber: records keep calling numbers masked to their
// last four digits, yet the context lookup by number finds the call of that number only
// — not of another number ending alike, not of a withheld caller — by the whole number's
// keyed hash, which the same database gives every instance.
func TestLatestVerifiedMatchesTheWholeNumber(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			st := storetest.Open(t, driver)
			st.MaskANI = func(ani string) string { return flow.Mask(ani, 4) }
			ctx := context.Background()
			now := time.Now()
			for _, r := range []struct{ id, ani, e164, customer string }{
				{"01CTXJAPAN0000000000000001", "+81312345678", "+81312345678", "100234"},
				{"01CTXUSA000000000000000002", "+19999995678", "+19999995678", "777001"},
				{"01CTXWITHHELD0000000000003", "anonymous", "", "100235"},
			} {
				in := &flow.Interaction{ID: r.id, Line: "default", Script: "idv", Started: now, Ended: now, ANI: r.ani, ANIE164: r.e164,
					CustomerID: r.customer, Status: flow.StatusVerified, Reason: flow.ReasonOK, Method: flow.MethodANI}
				if err := st.Record(ctx, in); err != nil {
					t.Fatal(err)
				}
			}
			for _, tc := range []struct{ ani, want string }{
				{"+81312345678", "01CTXJAPAN0000000000000001"},
				{"+19999995678", "01CTXUSA000000000000000002"},
				{"+15550005678", ""}, // ends alike, another number
				{"", ""},
			} {
				got, err := st.LatestVerified(ctx, "", tc.ani, now.Add(-time.Hour))
				if err != nil || got != tc.want {
					t.Errorf("LatestVerified(ani %q) = %q, %v; want %q", tc.ani, got, err, tc.want)
				}
			}
		})
	}
}
