package report_test

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/idv-project/idv/config"
	"github.com/idv-project/idv/flow"
	"github.com/idv-project/idv/report"
	"github.com/idv-project/idv/store"
	"github.com/idv-project/idv/store/storetest"
)

// counting is a Delivery that counts what it was given.
type counting struct {
	mu    sync.Mutex
	calls map[string]int // report period → deliveries
}

func (c *counting) String() string { return "counting" }
func (c *counting) Deliver(_ context.Context, s *report.Schedule, rep *report.Report, files []report.File) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls[rep.Filter.Describe()]++
	return nil
}

func daily(t *testing.T, name string, d ...report.Delivery) *report.Schedule {
	when, err := config.CronParser.Parse("0 7 * * *")
	if err != nil {
		t.Fatal(err)
	}
	def, _ := report.Find("outcomes")
	return &report.Schedule{Name: name, When: when, Report: def, Range: "yesterday", Formats: []report.Format{report.CSV, report.PDF}, Delivery: d}
}

func seeded(t *testing.T, driver string) *store.Store {
	st := storetest.Open(t, driver)
	for i, day := range []int{3, 4, 5, 6, 7} {
		st.Record(context.Background(), &flow.Interaction{ID: "01S" + string(rune('A'+i)), Line: "retail", Script: "idv",
			Started: time.Date(2026, 11, day, 10, 0, 0, 0, tokyo), Status: flow.StatusVerified, Reason: flow.ReasonOK, Method: flow.MethodANI})
	}
	return st
}

func TestSchedulesCatchUpAndDeliverOnce(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			ctx := context.Background()
			st := seeded(t, driver)
			dir := t.TempDir()
			t0 := time.Date(2026, 11, 3, 0, 0, 0, 0, tokyo)
			sched := func(owner string, started time.Time, d ...report.Delivery) *report.Scheduler {
				return &report.Scheduler{Schedules: []*report.Schedule{daily(t, "daily", d...)}, Source: st, Runs: st,
					Owner: owner, Location: tokyo, Log: zerolog.Nop(), Started: started, MaxCatchUp: 10}
			}
			a := sched("a", t0, report.Directory{Path: dir})
			if err := a.Tick(ctx, time.Date(2026, 11, 5, 12, 0, 0, 0, tokyo)); err != nil {
				t.Fatal(err)
			}
			files, _ := filepath.Glob(filepath.Join(dir, "*"))
			if len(files) != 12 { // 11-03, 11-04, 11-05 at 07:00: a CSV per section (3) and the PDF each
				t.Fatalf("%d files after the first tick: %v", len(files), files)
			}
			if _, err := os.Stat(filepath.Join(dir, "daily_outcomes_2026-11-04_2026-11-04.pdf")); err != nil {
				t.Errorf("the run due 11-05 07:00 reports on 11-04: %v", err)
			}
			a.Tick(ctx, time.Date(2026, 11, 5, 12, 30, 0, 0, tokyo)) // nothing new is due
			if files, _ := filepath.Glob(filepath.Join(dir, "*")); len(files) != 12 {
				t.Errorf("%d files after a tick with nothing due", len(files))
			}

			// idv was down from the 5th to the 8th: the new process catches the runs up.
			b := sched("b", time.Date(2026, 11, 8, 8, 0, 0, 0, tokyo), report.Directory{Path: dir})
			b.Tick(ctx, time.Date(2026, 11, 8, 8, 0, 0, 0, tokyo))
			if files, _ := filepath.Glob(filepath.Join(dir, "*")); len(files) != 24 {
				t.Errorf("%d files after catching up 11-06..11-08, want 24", len(files))
			}
			runs, _ := st.Runs(ctx, "daily")
			if len(runs) != 6 || runs[0].Status != "delivered" || runs[5].Owner != "b" {
				t.Errorf("run log: %+v", runs)
			}

			// Two instances on one database, ticking at once: each run is delivered once.
			c := &counting{calls: map[string]int{}}
			start := time.Date(2026, 11, 9, 0, 0, 0, 0, tokyo)
			var wg sync.WaitGroup
			for _, owner := range []string{"x", "y", "z"} {
				s := sched(owner, start, c)
				s.Schedules[0].Name = "shared"
				wg.Add(1)
				go func() {
					defer wg.Done()
					s.Tick(ctx, start.Add(72*time.Hour))
				}()
			}
			wg.Wait()
			if len(c.calls) != 3 {
				t.Errorf("delivered periods %v, want 3", c.calls)
			}
			for period, n := range c.calls {
				if n != 1 {
					t.Errorf("%s delivered %d times", period, n)
				}
			}
			if t.Failed() {
				runs, _ := st.Runs(ctx, "shared")
				t.Logf("shared runs: %+v", runs)
				runs, _ = st.Runs(ctx, "daily")
				t.Logf("daily runs: %+v", runs)
			}
		})
	}
}

func TestFailedDeliveryIsLoggedAndRetried(t *testing.T) {
	ctx := context.Background()
	st := seeded(t, store.SQLite)
	var fail atomic.Bool
	fail.Store(true)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fail.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
		}
	}))
	defer hook.Close()
	s := &report.Scheduler{Schedules: []*report.Schedule{daily(t, "hook", report.Webhook{URL: hook.URL})}, Source: st,
		Runs: st, Owner: "a", Location: tokyo, Log: zerolog.Nop(), Started: time.Date(2026, 11, 4, 0, 0, 0, 0, tokyo)}
	now := time.Date(2026, 11, 4, 8, 0, 0, 0, tokyo)
	if err := s.Tick(ctx, now); err != nil {
		t.Fatal(err)
	}
	runs, _ := st.Runs(ctx, "hook")
	if len(runs) != 1 || runs[0].Status != "failed" || !strings.Contains(runs[0].Detail, "503") {
		t.Fatalf("run log: %+v", runs)
	}
	fail.Store(false)
	if ok, _ := st.ClaimRun(ctx, "hook", runs[0].Due, "b", time.Minute, now); !ok {
		t.Error("a failed run cannot be taken again")
	}
}

// TestWebhookAndMailDeliveries: a run posts its files to the webhook (a CSV per section,
// the PDF) and mails them, in the language of report.language.
func TestWebhookAndMailDeliveries(t *testing.T) {
	ctx := context.Background()
	st := seeded(t, store.SQLite)
	var got []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseMultipartForm(10 << 20)
		for _, fh := range r.MultipartForm.File["file"] {
			got = append(got, fh.Filename)
		}
		got = append(got, "schedule="+r.FormValue("schedule"))
	}))
	defer hook.Close()
	smtpAddr, roots, mails := smtpServer(t, "idv", "s3cret")
	m := report.Mail{Addr: smtpAddr, User: "idv", Password: "s3cret", From: "idv@example.com", To: []string{"boss@example.com"},
		StartTLS: "required", TLS: &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"}}
	s := &report.Scheduler{Schedules: []*report.Schedule{daily(t, "both", report.Webhook{URL: hook.URL}, m)}, Source: st,
		Runs: st, Owner: "a", Location: tokyo, Lang: report.Japanese, Log: zerolog.Nop(), Started: time.Date(2026, 11, 4, 0, 0, 0, 0, tokyo)}
	if err := s.Tick(ctx, time.Date(2026, 11, 4, 8, 0, 0, 0, tokyo)); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, " ") != "outcomes-by-line_2026-11-03_2026-11-03.csv outcomes-by-day_2026-11-03_2026-11-03.csv "+
		"outcomes-by-hour_2026-11-03_2026-11-03.csv outcomes_2026-11-03_2026-11-03.pdf schedule=both" {
		t.Errorf("webhook got %q", got)
	}
	msg := <-mails
	parsed, err := mail.ReadMessage(strings.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	dec := new(mime.WordDecoder)
	subject, _ := dec.DecodeHeader(parsed.Header.Get("Subject"))
	// report.language = "ja": the report is in Japanese, its period in Tokyo's days.
	if !strings.Contains(subject, "本人確認の結果") || !strings.Contains(subject, "2026-11-03") || !strings.Contains(subject, "Asia/Tokyo") {
		t.Errorf("subject %q, want the Japanese title and the period in Asia/Tokyo", subject)
	}
	_, params, _ := mime.ParseMediaType(parsed.Header.Get("Content-Type"))
	mr := multipart.NewReader(parsed.Body, params["boundary"])
	var pdf bool
	for {
		p, err := mr.NextPart()
		if err != nil {
			break
		}
		if p.FileName() == "outcomes_2026-11-03_2026-11-03.pdf" {
			data, _ := io.ReadAll(base64.NewDecoder(base64.StdEncoding, p))
			pdf = strings.HasPrefix(string(data), "%PDF")
		}
	}
	if !pdf {
		t.Error("the mail has no readable PDF attachment")
	}
	// Without STARTTLS, "required" refuses to send.
	plainAddr, _, _ := smtpServerOpts(t, "", "", false)
	m2 := report.Mail{Addr: plainAddr, From: "idv@example.com", To: []string{"x@example.com"}, StartTLS: "required"}
	if err := m2.Deliver(ctx, s.Schedules[0], &report.Report{Name: "x"}, nil); err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Errorf("plain server: %v", err)
	}
}

// smtpServer is a small SMTP server with STARTTLS and AUTH PLAIN; it hands each message
// received to the channel.
func smtpServer(t *testing.T, user, pass string) (string, *x509.CertPool, chan string) {
	return smtpServerOpts(t, user, pass, true)
}

func smtpServerOpts(t *testing.T, user, pass string, withTLS bool) (string, *x509.CertPool, chan string) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	cert, _ := x509.ParseCertificate(der)
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	tlsCfg := &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	mails := make(chan string, 4)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func(conn net.Conn) {
				defer conn.Close()
				r := bufio.NewReader(conn)
				say := func(s string) { io.WriteString(conn, s+"\r\n") }
				say("220 test ESMTP")
				secure := false
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					cmd := strings.ToUpper(strings.TrimSpace(line))
					switch {
					case strings.HasPrefix(cmd, "EHLO"):
						if withTLS && !secure {
							say("250-test\r\n250 STARTTLS")
						} else {
							say("250-test\r\n250 AUTH PLAIN")
						}
					case cmd == "STARTTLS":
						say("220 go ahead")
						tc := tls.Server(conn, tlsCfg)
						if tc.Handshake() != nil {
							return
						}
						conn, r, secure = tc, bufio.NewReader(tc), true
						say = func(s string) { io.WriteString(conn, s+"\r\n") }
					case strings.HasPrefix(cmd, "AUTH PLAIN"):
						want := base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + pass))
						if strings.TrimSpace(line[len("AUTH PLAIN "):]) != want || !secure {
							say("535 bad credentials")
							continue
						}
						say("235 ok")
					case strings.HasPrefix(cmd, "MAIL"), strings.HasPrefix(cmd, "RCPT"):
						say("250 ok")
					case cmd == "DATA":
						say("354 go")
						var b strings.Builder
						for {
							l, err := r.ReadString('\n')
							if err != nil || l == ".\r\n" {
								break
							}
							b.WriteString(strings.TrimPrefix(l, "."))
						}
						mails <- b.String()
						say("250 queued")
					case cmd == "QUIT":
						say("221 bye")
						return
					default:
						say("502 unknown")
					}
				}
			}(conn)
		}
	}()
	return ln.Addr().String(), roots, mails
}
