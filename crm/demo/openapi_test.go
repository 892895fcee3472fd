package demo_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	valerrors "github.com/pb33f/libopenapi-validator/errors"

	"github.com/idv-project/idv/crm"
	"github.com/idv-project/idv/crm/demo"
	"github.com/idv-project/idv/flow"
)

// specFile is the OpenAPI 3.1 document of the reference CRM API; integrators build
// their adapters from it, so the demo CRM must answer exactly as it says.
const specFile = "../../docs/crm-api.yaml"

// contract loads the document, checks that it is valid OpenAPI 3.1, and returns a
// validator for requests and answers, with the operations it declares.
func contract(t testing.TB) (validator.Validator, []string) {
	t.Helper()
	spec, err := os.ReadFile(specFile)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := libopenapi.NewDocument(spec)
	if err != nil {
		t.Fatalf("%s: %v", specFile, err)
	}
	model, err := doc.BuildV3Model()
	if err != nil {
		t.Fatalf("%s: %v", specFile, err)
	}
	if v := model.Model.Version; !strings.HasPrefix(v, "3.1.") {
		t.Fatalf("%s is OpenAPI %s, want 3.1", specFile, v)
	}
	var ops []string
	for _, item := range model.Model.Paths.PathItems.FromOldest() {
		for _, op := range item.GetOperations().FromOldest() {
			ops = append(ops, op.OperationId)
		}
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatalf("%s: %v", specFile, errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		t.Fatalf("%s is not a valid OpenAPI 3.1 document:\n%s", specFile, describe(verrs))
	}
	return v, ops
}

func describe(errs []*valerrors.ValidationError) string {
	var b strings.Builder
	for _, e := range errs {
		fmt.Fprintf(&b, "  %s: %s", e.Message, e.Reason)
		for _, f := range e.SchemaValidationErrors {
			fmt.Fprintf(&b, "; %s %s", f.FieldPath, f.Reason)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// exchange is one request and the demo's answer, with their bodies kept so that both
// can be read more than once.
type exchange struct {
	req      *http.Request
	reqBody  []byte
	resp     *http.Response
	respBody []byte
}

// problems says where an exchange breaks the contract: the status is one the operation
// declares, the content type is declared for it, and the body is valid against its
// schema. withRequest also checks the request (parameters, body) — for the requests
// idv sends, not for the malformed ones sent to provoke an error.
func (x exchange) problems(v validator.Validator, withRequest bool) string {
	req := x.req.Clone(context.Background())
	req.Body = io.NopCloser(bytes.NewReader(x.reqBody))
	resp := *x.resp
	resp.Body = io.NopCloser(bytes.NewReader(x.respBody))
	var ok bool
	var errs []*valerrors.ValidationError
	if withRequest {
		ok, errs = v.ValidateHttpRequestResponse(req, &resp)
	} else {
		ok, errs = v.ValidateHttpResponse(req, &resp)
	}
	if ok {
		return ""
	}
	return describe(errs)
}

// send makes one request to h over real HTTP.
func send(t *testing.T, h http.Handler, method, target, body string) exchange {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	req, err := http.NewRequest(method, srv.URL+target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return exchange{req: req, reqBody: []byte(body), resp: resp, respBody: data}
}

// TestDemoAnswersAsTheContractSays sends the demo CRM every kind of request it answers —
// success and each error it gives — and checks each answer against docs/crm-api.yaml.
// 401, 403, 429 and 5xx are in the contract for other CRMs; the demo never gives them.
// The cases share one demo CRM, in order: the outbox is empty, then holds the code sent.
func TestDemoAnswersAsTheContractSays(t *testing.T) {
	v, ops := contract(t)
	h := demo.New(demo.Seed).Handler()
	cases := []struct {
		name         string
		op           string
		method, path string
		body         string
		status       int
		idvSends     bool // a request idv makes, itself checked against the contract
	}{
		{"a known number gives its customer", "findCustomers", "GET", "/customers?phone=%2B81312345678", "", 200, true},
		{"a number shared by two customers gives both", "findCustomers", "GET", "/customers?phone=%2B81355550000", "", 200, true},
		{"an unknown number gives an empty list", "findCustomers", "GET", "/customers?phone=%2B81399999999", "", 200, true},
		{"a known account gives its customer", "findCustomers", "GET", "/customers?account=55501234", "", 200, true},
		{"an unknown account gives an empty list", "findCustomers", "GET", "/customers?account=99999999", "", 200, true},
		{"a lookup without a number is a bad request", "findCustomers", "GET", "/customers", "", 400, false},
		{"a lookup by number and account at once is a bad request", "findCustomers", "GET", "/customers?phone=%2B81312345678&account=55501234", "", 400, false},
		{"a lookup by another kind is a bad request", "findCustomers", "GET", "/customers?tracking=12345", "", 400, false},
		{"a known identifier gives the customer", "findCustomerByID", "GET", "/customers/100234", "", 200, true},
		{"a customer without a language gives none", "findCustomerByID", "GET", "/customers/100235", "", 200, true},
		{"a customer without a mobile gives none", "findCustomerByID", "GET", "/customers/100239", "", 200, true},
		{"an unknown identifier is 404", "findCustomerByID", "GET", "/customers/999", "", 404, true},
		{"the right secret verifies", "verifySecret", "POST", "/customers/100234/verify", `{"pin":"1234"}`, 200, true},
		{"a wrong secret does not", "verifySecret", "POST", "/customers/100234/verify", `{"pin":"9999"}`, 200, true},
		{"the right date of birth verifies", "verifySecret", "POST", "/customers/100234/verify", `{"dob":"19850412"}`, 200, true},
		{"a wrong date of birth does not", "verifySecret", "POST", "/customers/100234/verify", `{"dob":"19850413"}`, 200, true},
		{"the right postcode verifies", "verifySecret", "POST", "/customers/100234/verify", `{"postcode":"1500001"}`, 200, true},
		{"a postcode the customer lacks does not", "verifySecret", "POST", "/customers/100239/verify", `{"postcode":"1500001"}`, 200, true},
		{"the right card digits verify", "verifySecret", "POST", "/customers/100238/verify", `{"last4":"0238"}`, 200, true},
		{"wrong card digits do not", "verifySecret", "POST", "/customers/100238/verify", `{"last4":"4242"}`, 200, true},
		{"a locked customer is 423", "verifySecret", "POST", "/customers/100240/verify", `{"pin":"0000"}`, 423, true},
		{"a locked customer is 423 for any factor", "verifySecret", "POST", "/customers/100240/verify", `{"dob":"19700101"}`, 423, true},
		{"verifying an unknown customer is 404", "verifySecret", "POST", "/customers/999/verify", `{"pin":"1234"}`, 404, true},
		{"a factor of an unknown customer is 404", "verifySecret", "POST", "/customers/999/verify", `{"last4":"1111"}`, 404, true},
		{"a body that is not JSON is a bad request", "verifySecret", "POST", "/customers/100234/verify", `pin=1234`, 400, false},
		{"an unknown factor is a bad request", "verifySecret", "POST", "/customers/100234/verify", `{"colour":"1234"}`, 400, false},
		{"two factors at once are a bad request", "verifySecret", "POST", "/customers/100234/verify", `{"pin":"1234","dob":"19850412"}`, 400, false},
		{"no factor is a bad request", "verifySecret", "POST", "/customers/100234/verify", `{}`, 400, false},
		{"the outbox starts empty", "listOutbox", "GET", "/outbox", "", 200, true},
		{"a one-time code is sent", "sendCode", "POST", "/customers/100234/otp", `{"mobile":"+819011112278","code":"480213"}`, 202, true},
		{"the outbox holds the code sent", "listOutbox", "GET", "/outbox", "", 200, true},
		{"a code for an unknown customer is 404", "sendCode", "POST", "/customers/999/otp", `{"mobile":"+819011112278","code":"480213"}`, 404, true},
		{"a code without a mobile is a bad request", "sendCode", "POST", "/customers/100234/otp", `{"code":"480213"}`, 400, false},
		{"a mobile without a code is a bad request", "sendCode", "POST", "/customers/100234/otp", `{"mobile":"+819011112278"}`, 400, false},
		{"the health check answers", "health", "GET", "/healthz", "", 200, true},
	}
	exercised := map[string]bool{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			exercised[tc.op] = true
			x := send(t, h, tc.method, tc.path, tc.body)
			if x.resp.StatusCode != tc.status {
				t.Fatalf("%s %s = %d %s, want %d", tc.method, tc.path, x.resp.StatusCode, x.respBody, tc.status)
			}
			if p := x.problems(v, tc.idvSends); p != "" {
				t.Errorf("%s %s = %d %s\nbreaks %s:\n%s", tc.method, tc.path, x.resp.StatusCode, x.respBody, specFile, p)
			}
		})
	}
	for _, op := range ops {
		if !exercised[op] {
			t.Errorf("operation %s of %s is not exercised here", op, specFile)
		}
	}
}

// TestClientRequestsFollowTheContract drives crm.Client's reference endpoints against the
// demo and checks every request it sends and every answer it gets.
func TestClientRequestsFollowTheContract(t *testing.T) {
	v, _ := contract(t)
	srv := httptest.NewServer(demo.New(demo.Seed).Handler())
	defer srv.Close()
	tr := &checking{t: t, v: v, base: srv.Client().Transport}
	c := &crm.Client{HTTP: &http.Client{Transport: tr}, Auth: crm.Auth{Bearer: "token"}}
	c.ByPhone, c.ByID, c.Check = crm.ReferenceEndpoints(srv.URL)
	c.Identifiers = map[string]crm.Endpoint{"account": crm.ReferenceIdentifier(srv.URL, "account")}
	c.Factors = map[string]crm.Endpoint{}
	for _, f := range []string{"dob", "postcode", "last4"} {
		c.Factors[f] = crm.ReferenceFactor(srv.URL, f)
	}
	c.SendOTP = crm.ReferenceOTP(srv.URL)
	ctx := context.Background()
	if got, err := c.FindByPhone(ctx, "+81312345678"); err != nil || len(got) != 1 {
		t.Errorf("FindByPhone = %v, %v", got, err)
	}
	if got, err := c.FindBy(ctx, flow.KindCustomerID, "100239"); err != nil || got == nil || got.Language != "de" {
		t.Errorf("FindByID = %v, %v", got, err)
	}
	if got, err := c.FindBy(ctx, flow.KindCustomerID, "999"); err != nil || got != nil {
		t.Errorf("FindByID(unknown) = %v, %v", got, err)
	}
	hanako, err := c.FindBy(ctx, "account", "55501234")
	if err != nil || hanako == nil || hanako.ID != "100234" || hanako.Mobile != "+819011112278" {
		t.Errorf("FindBy(account) = %+v, %v", hanako, err)
	}
	if got, err := c.FindBy(ctx, "account", "99999999"); err != nil || got != nil {
		t.Errorf("FindBy(account, unknown) = %v, %v", got, err)
	}
	for _, v := range []struct {
		factor, id, digits string
		want               flow.Verdict
	}{
		{flow.FactorPIN, "100238", "4321", flow.Verified},
		{flow.FactorPIN, "100240", "0000", flow.Locked},
		{"dob", "100234", "19850412", flow.Verified},
		{"dob", "100234", "19850413", flow.Rejected},
		{"dob", "100240", "19700101", flow.Locked},
		{"dob", "999", "19850412", flow.Rejected},
		{"postcode", "100238", "12345", flow.Verified},
		{"last4", "100235", "1111", flow.Verified},
	} {
		if got, err := c.Verify(ctx, v.factor, v.id, flow.NewSecret(v.digits)); err != nil || got != v.want {
			t.Errorf("Verify(%s, %s) = %v, %v; want %v", v.factor, v.id, got, err, v.want)
		}
	}
	if hanako != nil {
		if err := c.SendCode(ctx, *hanako, flow.NewSecret("480213")); err != nil {
			t.Errorf("SendCode = %v", err)
		}
	}
	var ce *crm.Error
	if err := c.SendCode(ctx, flow.Customer{ID: "999", Mobile: "+819011112278"}, flow.NewSecret("480213")); !errors.As(err, &ce) || ce.Kind() != "http_404" {
		t.Errorf("SendCode(unknown customer) = %v, want an http_404 failure", err)
	}
	// The outbox is the demo's alone, but as the contract describes it.
	resp, err := c.HTTP.Get(srv.URL + "/outbox")
	if err != nil {
		t.Fatal(err)
	}
	var outbox struct{ Messages []demo.Message }
	err = json.NewDecoder(resp.Body).Decode(&outbox)
	resp.Body.Close()
	if err != nil || len(outbox.Messages) != 1 || outbox.Messages[0] != (demo.Message{To: "+819011112278", Customer: "100234",
		Code: "480213", Text: outbox.Messages[0].Text, At: outbox.Messages[0].At}) {
		t.Errorf("outbox = %+v, %v; want the one code sent to 100234", outbox.Messages, err)
	}
	if want := 3 + 2 + 8 + 2 + 1; tr.n != want {
		t.Errorf("%d exchanges checked, want %d", tr.n, want)
	}
}

// TestDemoOutboxKeepsTheLastCodes: the outbox keeps the last 100 messages, newest last,
// as the contract says.
func TestDemoOutboxKeepsTheLastCodes(t *testing.T) {
	v, _ := contract(t)
	h := demo.New(demo.Seed).Handler()
	for i := range 101 {
		body := fmt.Sprintf(`{"mobile":"+819011112278","code":"%06d"}`, i)
		if x := send(t, h, "POST", "/customers/100234/otp", body); x.resp.StatusCode != http.StatusAccepted {
			t.Fatalf("POST /customers/100234/otp %s = %d %s", body, x.resp.StatusCode, x.respBody)
		}
	}
	x := send(t, h, "GET", "/outbox", "")
	if p := x.problems(v, true); p != "" {
		t.Errorf("GET /outbox = %d %s\nbreaks %s:\n%s", x.resp.StatusCode, x.respBody, specFile, p)
	}
	var outbox struct{ Messages []demo.Message }
	if err := json.Unmarshal(x.respBody, &outbox); err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, m := range outbox.Messages {
		codes = append(codes, m.Code)
	}
	if n := len(codes); n != 100 || codes[0] != "000001" || codes[n-1] != "000100" {
		t.Errorf("outbox holds codes %v, want 000001 to 000100", codes)
	}
}

// checking is a transport that checks each exchange against the contract.
type checking struct {
	t    *testing.T
	v    validator.Validator
	base http.RoundTripper
	n    int
}

func (c *checking) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	resp, err := c.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(data))
	c.n++
	x := exchange{req: req, reqBody: body, resp: resp, respBody: data}
	if p := x.problems(c.v, true); p != "" {
		c.t.Errorf("%s %s → %d %s\nbreaks %s:\n%s", req.Method, req.URL.RequestURI(), resp.StatusCode, data, specFile, p)
	}
	return resp, nil
}

// TestContractCatchesADriftingDemo: answers that drift from the contract the way a
// careless change to the demo would are reported, so the checks above can fail.
func TestContractCatchesADriftingDemo(t *testing.T) {
	v, _ := contract(t)
	cases := []struct {
		name         string
		method, path string
		body         string
		want         string // in the problem reported
		drift        func(h http.Header, status int, body string) (int, string)
	}{
		{"a renamed field", "GET", "/customers/100234", "", "missing property 'verify_required'",
			func(h http.Header, s int, b string) (int, string) {
				return s, strings.Replace(b, `"verify_required"`, `"verifyRequired"`, 1)
			}},
		{"a field of another type", "POST", "/customers/100234/verify", `{"pin":"1234"}`, "$.verified got string, want boolean",
			func(h http.Header, s int, b string) (int, string) {
				return s, strings.Replace(b, `true`, `"true"`, 1)
			}},
		{"the list under another name", "GET", "/customers?phone=%2B81312345678", "", "missing property 'customers'",
			func(h http.Header, s int, b string) (int, string) {
				return s, strings.Replace(b, `"customers"`, `"results"`, 1)
			}},
		{"a customer with an empty id", "GET", "/customers?phone=%2B81312345678", "", "$.customers[0].id minLength",
			func(h http.Header, s int, b string) (int, string) {
				return s, strings.Replace(b, `"id":"100234"`, `"id":""`, 1)
			}},
		{"an error as plain text", "GET", "/customers/999", "", "content type 'text/plain'",
			func(h http.Header, s int, b string) (int, string) {
				h.Set("Content-Type", "text/plain; charset=utf-8")
				return s, "no such customer\n"
			}},
		{"a status the operation does not declare", "GET", "/customers/999", "", "response code '410'",
			func(h http.Header, s int, b string) (int, string) { return http.StatusGone, b }},
		{"a locked answer of another shape", "POST", "/customers/100240/verify", `{"pin":"0000"}`, "missing property 'error'",
			func(h http.Header, s int, b string) (int, string) { return s, `{"locked":true}` }},
		{"a factor's verdict of another type", "POST", "/customers/100234/verify", `{"dob":"19850412"}`, "$.verified got number, want boolean",
			func(h http.Header, s int, b string) (int, string) { return s, `{"verified":1}` }},
		{"a mobile not in E.164", "GET", "/customers?account=55501234", "", "$.customers[0].mobile '090-1111-2278' does not match pattern",
			func(h http.Header, s int, b string) (int, string) {
				return s, strings.Replace(b, `"+819011112278"`, `"090-1111-2278"`, 1)
			}},
		{"a code sent with 200, not 202", "POST", "/customers/100234/otp", `{"mobile":"+819011112278","code":"480213"}`, "response code '200'",
			func(h http.Header, s int, b string) (int, string) { return http.StatusOK, b }},
		{"the outbox under another name", "GET", "/outbox", "", "missing property 'messages'",
			func(h http.Header, s int, b string) (int, string) {
				return s, strings.Replace(b, `"messages"`, `"sent"`, 1)
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := drifting(demo.New(demo.Seed).Handler(), tc.drift)
			x := send(t, h, tc.method, tc.path, tc.body)
			if p := x.problems(v, false); !strings.Contains(p, tc.want) {
				t.Errorf("%s %s = %d %s\nbreaks %s with %q, want a problem naming %q", tc.method, tc.path,
					x.resp.StatusCode, x.respBody, specFile, p, tc.want)
			}
		})
	}
}

// drifting runs h and lets drift rewrite its answer.
func drifting(h http.Handler, drift func(h http.Header, status int, body string) (int, string)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		status, body := drift(rec.Header(), rec.Code, rec.Body.String())
		for k, vs := range rec.Header() {
			w.Header()[k] = slices.Clone(vs)
		}
		w.Header().Del("Content-Length")
		w.WriteHeader(status)
		io.WriteString(w, body)
	})
}

// TestContractCatchesADriftingClient: requests that drift from the contract the way a
// careless change to the client's reference endpoints would — a second factor in one
// body, a date not as YYYYMMDD, a one-time code without its code — are reported, so that
// TestClientRequestsFollowTheContract can fail.
func TestContractCatchesADriftingClient(t *testing.T) {
	v, _ := contract(t)
	cases := []struct {
		name         string
		method, path string
		body         string
		want         string // in the problem reported
	}{
		{"two factors in one body", "POST", "/customers/100234/verify", `{"pin":"1234","dob":"19850412"}`, "additional properties"},
		{"a date with dashes", "POST", "/customers/100234/verify", `{"dob":"1985-04-12"}`, "$.dob '1985-04-12' does not match pattern"},
		{"a factor as a number", "POST", "/customers/100234/verify", `{"last4":4242}`, "$.last4 got number, want string"},
		{"a code without its code", "POST", "/customers/100234/otp", `{"mobile":"+819011112278"}`, "missing property 'code'"},
		{"a mobile not in E.164", "POST", "/customers/100234/otp", `{"mobile":"09011112278","code":"480213"}`, "$.mobile '09011112278' does not match pattern"},
		{"an account with letters", "GET", "/customers?account=AB1234", "", "'AB1234' does not match pattern"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, "http://127.0.0.1:8089"+tc.path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if tc.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			req.Header.Set("Accept", "application/json")
			ok, errs := v.ValidateHttpRequest(req)
			if p := describe(errs); ok || !strings.Contains(p, tc.want) {
				t.Errorf("%s %s %s breaks %s with %q, want a problem naming %q", tc.method, tc.path, tc.body, specFile, p, tc.want)
			}
		})
	}
}
