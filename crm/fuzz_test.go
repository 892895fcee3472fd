package crm

import (
	"testing"
)

// FuzzCustomers: any answer body maps to customers or a bad_json error, never a panic, and
// every customer has an id.
func FuzzCustomers(f *testing.F) {
	f.Add(`{"customers":[{"id":"100234","name":"佐藤 花子","verify_required":true}]}`, "customers")
	f.Add(`{"customers":[{"id":12,"name":null}]}`, "customers")
	f.Add(`[{"id":"1"}]`, "")
	f.Add(`{"data":{"items":[{"id":"x"}]}}`, "data.items")
	f.Add(`{"customers":`, "customers")
	f.Fuzz(func(t *testing.T, body, listPath string) {
		c := &Client{}
		ep := Endpoint{ListPath: listPath, IDPath: "id", NamePath: "name", VerifyRequiredPath: "verify_required"}
		list, err := c.customers(ep, "by_phone", []byte(body))
		if err != nil {
			if e, ok := err.(*Error); !ok || e.Kind() != "bad_json" {
				t.Fatalf("error %v is not a bad_json crm.Error", err)
			}
			return
		}
		for _, cu := range list {
			if cu.ID == "" {
				t.Fatalf("customer without id from %q", body)
			}
		}
	})
}
