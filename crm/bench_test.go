package crm_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

// BenchmarkFindByPhone is one lookup through the configurable client against the demo
// CRM over loopback HTTP; "baseline-get" is a bare GET of the same URL with the same
// connection pool, measured in the same run.
func BenchmarkFindByPhone(b *testing.B) {
	c := demoClient(b)
	ctx := context.Background()
	b.Run("client", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			got, err := c.FindByPhone(ctx, "+81312345678")
			if err != nil || len(got) != 1 {
				b.Fatalf("%v %v", got, err)
			}
		}
	})
	url := strings.Replace(c.ByPhone.URL, "{phone}", "%2B81312345678", 1)
	b.Run("baseline-get", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			resp, err := c.HTTP.Get(url)
			if err != nil || resp.StatusCode != http.StatusOK {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}
