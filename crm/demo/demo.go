// Package demo is the reference CRM of docs/crm-api.md with a seeded set of customers, so that
// idv runs and can be tried without a company back end. It serves:
//
//	GET  /customers?phone=+81312345678  → {"customers":[{"id":…,"name":…,"verify_required":…}]}
//	GET  /customers/{id}                → {"id":…,"name":…,"verify_required":…} or 404
//	GET  /customers?account=12345678    → the same list, by account number
//	POST /customers/{id}/verify {"pin"} → {"verified":true|false}, or 423 when locked
//	                                      (or {"dob":"YYYYMMDD"}, {"postcode"}, {"last4"})
//	POST /customers/{id}/otp {"mobile","code"} → 202: the one-time code "sent"
//	GET  /outbox                        → {"messages":[{"to","customer","code","text","at"}]}
//
// The outbox holds the text messages the demo "sent", so that a one-time code call can
// be completed without a phone: a real CRM or SMS gateway sends them instead.
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
	ID             string `json:"id"`
	Name           string `json:"name"`
	VerifyRequired bool   `json:"verify_required"`
	Language       string `json:"language,omitempty"`
	// Mobile is the registered mobile, where one-time codes go.
	Mobile   string   `json:"mobile,omitempty"`
	Phones   []string `json:"-"`
	Accounts []string `json:"-"`
	PIN      string   `json:"-"`
	DOB      string   `json:"-"` // YYYYMMDD
	Postcode string   `json:"-"`
	Last4    string   `json:"-"` // of the card on file
	Locked   bool     `json:"-"`
}

// Seed is the demo data set: Japanese and Latin names, customers with and without
// verification, one with two phone numbers, one number shared by two customers, and a
// locked customer.
var Seed = []Customer{
	{ID: "100234", Name: "佐藤 花子", VerifyRequired: true, Phones: []string{"+81312345678"}, PIN: "1234", Language: "ja",
		Accounts: []string{"55501234"}, DOB: "19850412", Postcode: "1500001", Last4: "4242", Mobile: "+819011112278"},
	{ID: "100235", Name: "田中 一郎", VerifyRequired: false, Phones: []string{"+81312345679", "+819012345678"}, PIN: "2222",
		Accounts: []string{"55501235"}, DOB: "19700101", Postcode: "1000001", Last4: "1111", Mobile: "+819012345678"},
	{ID: "100236", Name: "鈴木 次郎", VerifyRequired: true, Phones: []string{"+81355550000"}, PIN: "3333", DOB: "19900228"},
	{ID: "100237", Name: "鈴木 三郎", VerifyRequired: true, Phones: []string{"+81355550000"}, PIN: "4444", DOB: "19920315"},
	{ID: "100238", Name: "John Smith", VerifyRequired: true, Phones: []string{"+442079460000"}, PIN: "4321", Language: "en",
		Accounts: []string{"77700238"}, DOB: "19800704", Postcode: "12345", Last4: "0238", Mobile: "+447700900123"},
	{ID: "100239", Name: "Zoë Müller-Lüdenscheidt", VerifyRequired: false, Phones: []string{"+4930123456"}, PIN: "5555", Language: "de"},
	{ID: "100240", Name: "高橋 ロック", VerifyRequired: true, Phones: []string{"+81311112222"}, PIN: "0000", Locked: true},
	{ID: "42", Name: "山本 短", VerifyRequired: false, PIN: "9999"},
}

// Message is a text message the demo "sent": a one-time code.
type Message struct {
	To       string    `json:"to"`
	Customer string    `json:"customer"`
	Code     string    `json:"code"`
	Text     string    `json:"text"`
	At       time.Time `json:"at"`
}

// outboxSize is how many messages the outbox keeps, newest last.
const outboxSize = 100

// CRM is the demo back end. The zero value is empty; New seeds it.
type CRM struct {
	mu        sync.RWMutex
	customers map[string]*Customer
	byPhone   map[string][]*Customer
	byAccount map[string][]*Customer
	outbox    []Message
}

// New returns a CRM holding customers.
func New(customers []Customer) *CRM {
	c := &CRM{customers: map[string]*Customer{}, byPhone: map[string][]*Customer{}, byAccount: map[string][]*Customer{}}
	for i := range customers {
		cu := customers[i]
		c.customers[cu.ID] = &cu
		for _, p := range cu.Phones {
			c.byPhone[p] = append(c.byPhone[p], &cu)
		}
		for _, a := range cu.Accounts {
			c.byAccount[a] = append(c.byAccount[a], &cu)
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
	mux.HandleFunc("POST /customers/{id}/otp", c.sendOTP)
	mux.HandleFunc("GET /outbox", c.listOutbox)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (c *CRM) findByPhone(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	phone, account := q.Get("phone"), q.Get("account")
	if (phone == "") == (account == "") {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "exactly one of phone and account is required"})
		return
	}
	index, key := c.byPhone, phone
	if account != "" {
		index, key = c.byAccount, account
	}
	c.mu.RLock()
	found := make([]Customer, 0, 2)
	for _, cu := range index[key] {
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
	var body map[string]string
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&body); err != nil || len(body) != 1 {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "body must be one factor, e.g. {\"pin\":\"digits\"} or {\"dob\":\"YYYYMMDD\"}"})
		return
	}
	var factor, typed string
	for factor, typed = range body {
	}
	c.mu.RLock()
	cu, ok := c.customers[r.PathValue("id")]
	var want string
	var locked, known bool
	if ok {
		locked = cu.Locked
		want, known = map[string]string{"pin": cu.PIN, "dob": cu.DOB, "postcode": cu.Postcode, "last4": cu.Last4}[factor]
	}
	c.mu.RUnlock()
	switch {
	case !ok:
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such customer"})
	case !known:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "the factor is one of pin, dob, postcode, last4"})
	case locked:
		writeJSON(w, http.StatusLocked, map[string]string{"error": "customer locked"})
	default:
		match := want != "" && subtle.ConstantTimeCompare([]byte(want), []byte(typed)) == 1
		writeJSON(w, http.StatusOK, map[string]bool{"verified": match})
	}
}

// sendOTP "sends" a one-time code: it goes to the outbox.
func (c *CRM) sendOTP(w http.ResponseWriter, r *http.Request) {
	var body struct{ Mobile, Code string }
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&body); err != nil || body.Mobile == "" || body.Code == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "body must be {\"mobile\":…,\"code\":…}"})
		return
	}
	id := r.PathValue("id")
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.customers[id]; !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such customer"})
		return
	}
	c.outbox = append(c.outbox, Message{To: body.Mobile, Customer: id, Code: body.Code,
		Text: "Your verification code is " + body.Code + ". It expires in 10 minutes.", At: time.Now().UTC()})
	if len(c.outbox) > outboxSize {
		c.outbox = c.outbox[len(c.outbox)-outboxSize:]
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "sent"})
}

// listOutbox lists the messages sent, oldest first.
func (c *CRM) listOutbox(w http.ResponseWriter, _ *http.Request) {
	c.mu.RLock()
	out := append([]Message{}, c.outbox...)
	c.mu.RUnlock()
	writeJSON(w, http.StatusOK, map[string]any{"messages": out})
}

// Server is the demo CRM with its seeded customers as an HTTP server, for idv democrm
// and idv serve's democrm table.
func Server() *http.Server {
	return &http.Server{Handler: New(Seed).Handler(), ReadHeaderTimeout: 10 * time.Second}
}
