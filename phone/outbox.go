package phone

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// outbox reads the text messages the demo CRM "sent" (GET /outbox), so that a caller
// without a phone can see a one-time code and type it.
type outbox struct {
	url  string // the demo CRM's base URL; "" for none
	seen int    // messages already shown
	last string // the newest code
}

type message struct {
	To, Customer, Code, Text string
}

// messages reads the outbox; nil when there is no demo CRM to ask.
func (o *outbox) messages(ctx context.Context) ([]message, error) {
	if o.url == "" {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(o.url, "/")+"/outbox", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s/outbox: %s", o.url, resp.Status)
	}
	var doc struct{ Messages []message }
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&doc); err != nil {
		return nil, err
	}
	return doc.Messages, nil
}

// start notes the messages already there, so that only this call's are shown.
func (o *outbox) start(ctx context.Context) {
	if ms, err := o.messages(ctx); err == nil {
		o.seen = len(ms)
	}
}

// show prints the messages sent since the last look, and keeps the newest code.
func (o *outbox) show(ctx context.Context, out io.Writer) error {
	ms, err := o.messages(ctx)
	if err != nil {
		return err
	}
	if len(ms) < o.seen { // the outbox keeps the newest only
		o.seen = 0
	}
	for _, m := range ms[o.seen:] {
		fmt.Fprintf(out, "  ✉ text message to %s (the demo CRM's outbox): %q\n", m.To, m.Text)
		o.last = m.Code
	}
	o.seen = len(ms)
	return nil
}
