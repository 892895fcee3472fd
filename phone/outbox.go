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
	url  string  // the demo CRM's base URL; "" for none
	seen message // the newest message already shown (the outbox keeps its newest 100)
	last string  // the newest code
}

type message struct {
	To, Customer, Code, Text, At string
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
	if ms, err := o.messages(ctx); err == nil && len(ms) > 0 {
		o.seen = ms[len(ms)-1]
	}
}

// show prints the messages sent since the last look, and keeps the newest code.
func (o *outbox) show(ctx context.Context, out io.Writer) error {
	ms, err := o.messages(ctx)
	if err != nil {
		return err
	}
	from := 0 // all of them when the last one shown has left the outbox
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i] == o.seen {
			from = i + 1
			break
		}
	}
	for _, m := range ms[from:] {
		fmt.Fprintf(out, "  ✉ text message to %s (the demo CRM's outbox): %q\n", m.To, m.Text)
		o.last, o.seen = m.Code, m
	}
	return nil
}
