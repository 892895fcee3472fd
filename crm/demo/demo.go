// Package demo is the reference CRM of docs/crm-api.md with a seeded set of customers, so that
// idv runs and can be tried without a company back end. It serves:
//
//	GET  /customers?phone=+81312345678  → {"customers":[{"id":…,"name":…,"verify_required":…}]}
//	GET  /customers/{id}                → {"id":…,"name":…,"verify_required":…} or 404
//	POST /customers/{id}/verify {"pin"} → {"verified":true|false}, or 423 when locked
package demo

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"sync"
	"time"
)

// Customer is one seeded customer. PIN is the demo secret.
type Customer struct {
	ID             string   `json:"id"`
	Name           string   `json:"name"`
	VerifyRequired bool     `json:"verify_required"`
	Language       string   `json:"language,omitempty"`
	Phones         []string `json:"-"`
	PIN            string   `json:"-"`
	Locked         bool     `json:"-"`
}

// Seed is the demo data set: Japanese and Latin names, customers with and without
// verification, one with two phone numbers, one number shared by two customers, and a
// locked customer.
var Seed = []Customer{
	{ID: "100234", Name: "佐藤 花子", VerifyRequired: true, Phones: []string{"+81312345678"}, PIN: "1234", Language: "ja"},
	{ID: "100235", Name: "田中 一郎", VerifyRequired: false, Phones: []string{"+81312345679", "+819012345678"}, PIN: "2222"},
	{ID: "100236", Name: "鈴木 次郎", VerifyRequired: true, Phones: []string{"+81355550000"}, PIN: "3333"},
	{ID: "100237", Name: "鈴木 三郎", VerifyRequired: true, Phones: []string{"+81355550000"}, PIN: "4444"},
	{ID: "100238", Name: "John Smith", VerifyRequired: true, Phones: []string{"+442079460000"}, PIN: "4321", Language: "en"},
	{ID: "100239", Name: "Zoë Müller-Lüdenscheidt", VerifyRequired: false, Phones: []string{"+4930123456"}, PIN: "5555", Language: "de"},
	{ID: "100240", Name: "高橋 ロック", VerifyRequired: true, Phones: []string{"+81311112222"}, PIN: "0000", Locked: true},
	{ID: "42", Name: "山本 短", VerifyRequired: false, PIN: "9999"},
}

// CRM is the demo back end. The zero value is empty; New seeds it.
type CRM struct {
	mu        sync.RWMutex
	customers map[string]*Customer
	byPhone   map[string][]*Customer
}

// New returns a CRM holding customers.
func New(customers []Customer) *CRM {
	c := &CRM{customers: map[string]*Customer{}, byPhone: map[string][]*Customer{}}
	for i := range customers {
		cu := customers[i]
		c.customers[cu.ID] = &cu
		for _, p := range cu.Phones {
			c.byPhone[p] = append(c.byPhone[p], &cu)
		}
	}
	return c
}

// Handler serves the reference API.
func (c *CRM) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /customers", c.findByPhone)
	mux.HandleFunc("GET /customers/{id}", c.findByID)
	mux.HandleFunc("POST /customers/{id}/verify", c.verify)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (c *CRM) findByPhone(w http.ResponseWriter, r *http.Request) {
	phone := r.URL.Query().Get("phone")
	if phone == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "phone is required"})
		return
	}
	c.mu.RLock()
	found := make([]Customer, 0, 2)
	for _, cu := range c.byPhone[phone] {
		found = append(found, *cu)
	}
	c.mu.RUnlock()
	writeJSON(w, http.StatusOK, map[string]any{"customers": found})
}

func (c *CRM) findByID(w http.ResponseWriter, r *http.Request) {
	c.mu.RLock()
	cu, ok := c.customers[r.PathValue("id")]
	var out Customer
	if ok {
		out = *cu
	}
	c.mu.RUnlock()
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such customer"})
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (c *CRM) verify(w http.ResponseWriter, r *http.Request) {
	var body struct {
		PIN string `json:"pin"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&body); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "body must be {\"pin\":\"digits\"}"})
		return
	}
	c.mu.RLock()
	cu, ok := c.customers[r.PathValue("id")]
	var pin string
	var locked bool
	if ok {
		pin, locked = cu.PIN, cu.Locked
	}
	c.mu.RUnlock()
	switch {
	case !ok:
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such customer"})
	case locked:
		writeJSON(w, http.StatusLocked, map[string]string{"error": "customer locked"})
	default:
		match := subtle.ConstantTimeCompare([]byte(pin), []byte(body.PIN)) == 1
		writeJSON(w, http.StatusOK, map[string]bool{"verified": match})
	}
}

// Server is the demo CRM with its seeded customers as an HTTP server, for idv democrm
// and idv serve's democrm table.
func Server() *http.Server {
	return &http.Server{Handler: New(Seed).Handler(), ReadHeaderTimeout: 10 * time.Second}
}
