package store_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idv-project/idv/store/storetest"
)

// BenchmarkRecord writes a call's two records (12 events, then 2 more) on each back end:
// one call at a time, then 32 at once, where group commit shares transactions.
func BenchmarkRecord(b *testing.B) {
	for _, driver := range storetest.Drivers(b) {
		s := storetest.Open(b, driver)
		ctx := context.Background()
		var n atomic.Int64
		one := func(b *testing.B) {
			in := call(fmt.Sprintf("01B%s%08d", driver, n.Add(1)), time.Now(), 12)
			if err := s.Record(ctx, in); err != nil {
				b.Fatal(err)
			}
			in.Events = append(in.Events, call("", time.Now(), 2).Events...)
			if err := s.Record(ctx, in); err != nil {
				b.Fatal(err)
			}
		}
		b.Run(driver+"/sequential", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				one(b)
			}
		})
		b.Run(driver+"/parallel-32", func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(16) // 2 cores × 16
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					one(b)
				}
			})
		})
	}
}
