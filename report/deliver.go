package report

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/smtp"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Directory writes the files into a directory, each under a temporary name first and
// then renamed, so a reader never sees half a report.
type Directory struct{ Path string }

func (d Directory) String() string { return "directory " + d.Path }

// Deliver implements Delivery.
func (d Directory) Deliver(_ context.Context, s *Schedule, _ *Report, files []File) error {
	if err := os.MkdirAll(d.Path, 0o750); err != nil {
		return err
	}
	for _, f := range files {
		final := filepath.Join(d.Path, s.Name+"_"+f.Name)
		tmp := final + ".part"
		if err := os.WriteFile(tmp, f.Data, 0o640); err != nil {
			return err
		}
		if err := os.Rename(tmp, final); err != nil {
			return err
		}
	}
	return nil
}

// Mail sends the files as attachments of one message, over SMTP with STARTTLS.
type Mail struct {
	Addr     string // host:port
	User     string
	Password string
	From     string
	To       []string
	// StartTLS: "required", "opportunistic" or "none".
	StartTLS string
	// TLS is the client TLS configuration (server name, roots); nil uses the system's.
	TLS *tls.Config
}

func (m Mail) String() string { return "e-mail to " + strings.Join(m.To, ", ") }

// Deliver implements Delivery.
func (m Mail) Deliver(ctx context.Context, s *Schedule, rep *Report, files []File) error {
	host, _, err := net.SplitHostPort(m.Addr)
	if err != nil {
		return err
	}
	var dialer net.Dialer
	conn, err := dialer.DialContext(ctx, "tcp", m.Addr)
	if err != nil {
		return err
	}
	conn.SetDeadline(time.Now().Add(2 * time.Minute))
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return err
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok && m.StartTLS != "none" {
		cfg := m.TLS
		if cfg == nil {
			cfg = &tls.Config{ServerName: host}
		}
		if err := c.StartTLS(cfg); err != nil {
			return fmt.Errorf("starttls: %w", err)
		}
	} else if m.StartTLS == "required" || m.StartTLS == "" {
		return errors.New("the server offers no STARTTLS (report.smtp.starttls = \"required\")")
	}
	if m.User != "" {
		if err := c.Auth(smtp.PlainAuth("", m.User, m.Password, host)); err != nil {
			return fmt.Errorf("auth: %w", err)
		}
	}
	if err := c.Mail(m.From); err != nil {
		return err
	}
	for _, to := range m.To {
		if err := c.Rcpt(to); err != nil {
			return fmt.Errorf("rcpt %s: %w", to, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(message(m.From, m.To, s, rep, files)); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// message is a MIME message with a text part and one attachment per file.
func message(from string, to []string, s *Schedule, rep *Report, files []File) []byte {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	subject := fmt.Sprintf("%s — %s", rep.Title, rep.Describe())
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=%q\r\n\r\n",
		from, strings.Join(to, ", "), mime.QEncoding.Encode("utf-8", subject), time.Now().Format(time.RFC1123Z), mw.Boundary())
	tw, _ := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"text/plain; charset=utf-8"}})
	fmt.Fprintf(tw, "%s\r\n%s\r\n\r\n%s\r\n", rep.Title, rep.Describe(), rep.Lang.trf("Scheduled by idv (schedule %q).", s.Name))
	for _, f := range files {
		pw, _ := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {f.ContentType},
			"Content-Transfer-Encoding": {"base64"},
			"Content-Disposition":       {mime.FormatMediaType("attachment", map[string]string{"filename": f.Name})},
		})
		enc := base64.StdEncoding.EncodeToString(f.Data)
		for len(enc) > 76 {
			pw.Write([]byte(enc[:76] + "\r\n"))
			enc = enc[76:]
		}
		pw.Write([]byte(enc + "\r\n"))
	}
	mw.Close()
	return b.Bytes()
}

// Webhook POSTs the files as multipart/form-data ("file" parts, with schedule, report,
// from and to fields); any 2xx answer is a delivery.
type Webhook struct {
	URL    string
	Client *http.Client
}

func (w Webhook) String() string { return "webhook " + w.URL }

// Deliver implements Delivery.
func (w Webhook) Deliver(ctx context.Context, s *Schedule, rep *Report, files []File) error {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	loc := rep.Filter.loc()
	for k, v := range map[string]string{"schedule": s.Name, "report": rep.Name,
		"from": rep.Filter.From.In(loc).Format(time.RFC3339), "to": rep.Filter.To.In(loc).Format(time.RFC3339)} {
		mw.WriteField(k, v)
	}
	for _, f := range files {
		h := textproto.MIMEHeader{"Content-Type": {f.ContentType},
			"Content-Disposition": {mime.FormatMediaType("form-data", map[string]string{"name": "file", "filename": f.Name})}}
		pw, _ := mw.CreatePart(h)
		pw.Write(f.Data)
	}
	mw.Close()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, &b)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	c := w.Client
	if c == nil {
		c = &http.Client{Timeout: time.Minute}
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("answered %s", resp.Status)
	}
	return nil
}
