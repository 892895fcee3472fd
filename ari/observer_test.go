package ari_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/net/websocket"

	"github.com/idv-project/idv/ari"
	"github.com/idv-project/idv/flow"
	"github.com/idv-project/idv/store"
	"github.com/idv-project/idv/store/storetest"
)

// at is a time in the recorded sequences: seconds after 10:00 on 2026-11-25 (UTC).
func at(sec float64) string {
	t := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC).Add(time.Duration(sec * float64(time.Second)))
	return t.Format("2006-01-02T15:04:05.000-0700")
}

func channel(id, name string) string {
	return fmt.Sprintf(`{"id":%q,"name":%q,"state":"Up","caller":{"name":"","number":"0312345678"},"connected":{"name":"","number":""},"accountcode":"","dialplan":{"context":"idv-inbound","exten":"1000","priority":3},"creationtime":%q,"language":"en"}`, id, name, at(0))
}

// Recorded sequences, as Asterisk's ARI sends them (rest-api/api-docs/events.json models)
// to an application subscribed to the caller's channel while Queue() runs inside the AGI:
// the caller's channel stays in AGI (no ChannelDialplan for Queue), the Dial events
// come on the caller's channel, then its end. idv itself says when it entered the queue.
func answered() []string {
	c, p := channel("1795.1", "PJSIP/sipp-00000001"), channel("1795.2", "PJSIP/agent1-00000002")
	return []string{
		`{"type":"Dial","timestamp":"` + at(9.2) + `","dialstatus":"","dialstring":"agent1","caller":` + c + `,"peer":` + p + `,"application":"idv"}`,
		`{"type":"Dial","timestamp":"` + at(21.5) + `","dialstatus":"ANSWER","dialstring":"agent1","caller":` + c + `,"peer":` + p + `,"application":"idv"}`,
		`{"type":"ChannelDestroyed","timestamp":"` + at(201.5) + `","cause":16,"cause_txt":"Normal Clearing","channel":` + c + `,"application":"idv"}`,
		`{"type":"ChannelDestroyed","timestamp":"` + at(201.6) + `","cause":16,"cause_txt":"Normal Clearing","channel":` + p + `,"application":"idv"}`,
	}
}

func abandoned() []string {
	c, p := channel("1795.3", "PJSIP/sipp-00000003"), channel("1795.4", "PJSIP/agent2-00000004")
	return []string{
		`{"type":"Dial","timestamp":"` + at(5.1) + `","dialstatus":"","caller":` + c + `,"peer":` + p + `,"application":"idv"}`,
		`{"type":"Dial","timestamp":"` + at(35) + `","dialstatus":"CANCEL","caller":` + c + `,"peer":` + p + `,"application":"idv"}`,
		`{"type":"ChannelDestroyed","timestamp":"` + at(35) + `","cause":16,"cause_txt":"Normal Clearing","channel":` + c + `,"application":"idv"}`,
	}
}

func transferred() []string {
	c, p := channel("1795.5", "PJSIP/sipp-00000005"), channel("1795.6", "PJSIP/agent3-00000006")
	return []string{
		`{"type":"Dial","timestamp":"` + at(15) + `","dialstatus":"ANSWER","caller":` + c + `,"peer":` + p + `,"application":"idv"}`,
		`{"type":"BridgeBlindTransfer","timestamp":"` + at(75) + `","result":"Success","context":"agents","exten":"102","is_external":false,"channel":` + p + `,"transferee":` + c + `,"bridge":{"id":"b1","technology":"simple_bridge","bridge_type":"mixing","bridge_class":"basic","creator":"","name":"","channels":[],"creationtime":"` + at(15) + `","video_mode":"none"},"application":"idv"}`,
		`{"type":"ChannelDestroyed","timestamp":"` + at(135) + `","cause":16,"cause_txt":"Normal Clearing","channel":` + c + `,"application":"idv"}`,
	}
}

// timedOut: nobody answers; Queue() returns TIMEOUT at 300 s (idv says so) and the
// caller hears goodbye in the dialplan before the channel ends.
func timedOut() []string {
	c := channel("1795.7", "PJSIP/sipp-00000007")
	return []string{
		`{"type":"ChannelDestroyed","timestamp":"` + at(303) + `","cause":16,"cause_txt":"Normal Clearing","channel":` + c + `,"application":"idv"}`,
	}
}

// ariStandIn is an ARI server: /ari/asterisk/info, /ari/endpoints, the subscription
// endpoint (each eventSource is kept) and the /ari/events websocket, to which push sends
// events.
type ariStandIn struct {
	host   string
	ready  chan struct{} // closed when the observer has listed the endpoints: it is subscribed
	events chan string
	mu     sync.Mutex
	subs   []string
	query  string // the websocket's query
	origin string
}

func (a *ariStandIn) push(events ...string) {
	for _, e := range events {
		a.events <- e
	}
}

func (a *ariStandIn) subscriptions() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.subs...)
}

func standIn(t *testing.T) *ariStandIn {
	a := &ariStandIn{ready: make(chan struct{}), events: make(chan string)}
	mux := http.NewServeMux()
	auth := func(w http.ResponseWriter, r *http.Request) bool {
		if u, p, ok := r.BasicAuth(); !ok || u != "idv" || p != "secret" {
			http.Error(w, "auth", http.StatusUnauthorized)
			return false
		}
		return true
	}
	mux.HandleFunc("GET /ari/asterisk/info", func(w http.ResponseWriter, r *http.Request) {
		if auth(w, r) {
			w.Write([]byte(`{"system":{"entity_id":"a1","version":"22.10.1"},"config":{"name":"test"},"status":{}}`))
		}
	})
	var once sync.Once
	mux.HandleFunc("GET /ari/endpoints", func(w http.ResponseWriter, r *http.Request) {
		if auth(w, r) {
			w.Write([]byte(`[{"technology":"PJSIP","resource":"agent1","state":"online","channel_ids":[]},{"technology":"PJSIP","resource":"agent2","state":"offline","channel_ids":[]}]`))
			once.Do(func() { close(a.ready) })
		}
	})
	mux.HandleFunc("POST /ari/applications/idv/subscription", func(w http.ResponseWriter, r *http.Request) {
		if !auth(w, r) {
			return
		}
		var body struct {
			EventSource string `json:"eventSource"`
		}
		json.NewDecoder(r.Body).Decode(&body)
		a.mu.Lock()
		a.subs = append(a.subs, body.EventSource)
		a.mu.Unlock()
		w.Write([]byte(`{"name":"idv","channel_ids":[],"bridge_ids":[],"endpoint_ids":[],"device_names":[]}`))
	})
	mux.Handle("/ari/events", websocket.Handler(func(ws *websocket.Conn) {
		a.mu.Lock()
		a.query, a.origin = ws.Request().URL.RawQuery, ws.Request().Header.Get("Origin")
		a.mu.Unlock()
		for e := range a.events {
			if err := websocket.Message.Send(ws, e); err != nil {
				return
			}
		}
	}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	a.host = strings.TrimPrefix(srv.URL, "http://")
	return a
}

// notify is a Sink that stores and tells the test.
type notify struct {
	*store.Store
	done chan string
}

func (n notify) QueueOutcome(ctx context.Context, id string, o flow.QueueOutcome) error {
	err := n.Store.QueueOutcome(ctx, id, o)
	n.done <- id
	return err
}

func TestObserverRecordsQueueOutcomes(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			st := storetest.Open(t, driver)
			calls := []struct {
				id, channel string
				entered     float64
				events      []string
			}{
				{"01ANSWERED", "1795.1", 9, answered()},
				{"01ABANDONED", "1795.3", 5, abandoned()},
				{"01TRANSFERRED", "1795.5", 10, transferred()},
				{"01TIMEOUT", "1795.7", 0, timedOut()},
			}
			ins := map[string]*flow.Interaction{}
			for _, c := range calls {
				in := &flow.Interaction{ID: c.id, Line: "retail", Script: "idv", Started: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC),
					UniqueID: c.channel, Status: flow.StatusVerified, Reason: flow.ReasonOK, Method: flow.MethodANI, Route: "queue:support,t,,,300",
					Events: []flow.Event{{Kind: flow.EventStart, Name: "idv"}}}
				st.Record(ctx, in)
				ins[c.id] = in
			}
			ari1 := standIn(t)
			sink := notify{st, make(chan string, len(calls))}
			var mu sync.Mutex
			var states []string
			obs := &ari.Observer{Sink: sink, Log: zerolog.Nop(), AgentState: func(agent string, state flow.AgentState) {
				mu.Lock()
				states = append(states, agent+" "+string(state))
				mu.Unlock()
			}}
			go ari.Watch(ctx, ari.Options{URL: "http://" + ari1.host + "/ari", WebsocketURL: "ws://" + ari1.host + "/ari/events",
				User: "idv", Password: "secret", Application: "idv"}, obs, zerolog.Nop())
			select {
			case <-ari1.ready:
			case <-time.After(30 * time.Second):
				t.Fatal("the observer never listed the endpoints")
			}
			// idv queues the four calls: each route step subscribes to the caller's channel
			// before it returns, as the flow then runs Queue().
			for _, c := range calls {
				obs.Step(ins[c.id], flow.Event{Kind: flow.EventRoute, Name: "queue:support,t,,,300", At: parseAt(t, c.entered)})
			}
			for _, c := range calls {
				if c.id == "01TIMEOUT" {
					obs.Step(ins[c.id], flow.Event{Kind: flow.EventQueue, Name: "support,t,,,300", Result: "TIMEOUT", At: parseAt(t, 300)})
				}
				ari1.push(c.events...)
			}
			for range calls {
				select {
				case <-sink.done:
				case <-time.After(30 * time.Second):
					t.Fatal("the observer recorded no outcome")
				}
			}
			want := map[string]struct {
				agent      string
				wait, talk int64 // ms; talk -1 = none
				result     flow.QueueResult
			}{
				"01ANSWERED":    {"PJSIP/agent1", 12500, 180000, flow.QueueAnswered},
				"01ABANDONED":   {"", 30000, -1, flow.QueueAbandoned},
				"01TRANSFERRED": {"PJSIP/agent3", 5000, 120000, flow.QueueTransferred},
				"01TIMEOUT":     {"", 300000, -1, "timeout"},
			}
			for id, w := range want {
				in, err := st.Interaction(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				gotTalk := int64(-1)
				if in.Talk != nil {
					gotTalk = in.Talk.Milliseconds()
				}
				if in.Agent != w.agent || in.Wait == nil || in.Wait.Milliseconds() != w.wait || gotTalk != w.talk {
					t.Errorf("%s: agent %q wait %v talk %d, want %q %d %d", id, in.Agent, in.Wait, gotTalk, w.agent, w.wait, w.talk)
				}
				last := in.Events[len(in.Events)-1]
				if last.Kind != flow.EventAgent || in.QueueResult() != w.result || !strings.Contains(last.Detail, "cause 16") {
					t.Errorf("%s: last event %+v, queue result %q, want %q", id, last, in.QueueResult(), w.result)
				}
			}
			mu.Lock()
			if got := strings.Join(states, ", "); got != "PJSIP/agent1 ringing, PJSIP/agent2 ringing, PJSIP/agent2 idle" {
				t.Errorf("agent states %q", got)
			}
			mu.Unlock()
			// Only what idv follows: the agents' device states, each queued caller, each
			// agent who was rung; never every event of the PBX.
			subs := ari1.subscriptions()
			for _, want := range []string{"deviceState:PJSIP/agent1", "deviceState:PJSIP/agent2", "deviceState:PJSIP/agent3",
				"channel:1795.1", "channel:1795.3", "channel:1795.5", "channel:1795.7", "channel:1795.2", "channel:1795.4", "channel:1795.6"} {
				if !slices.Contains(subs, want) {
					t.Errorf("no subscription to %s in %v", want, subs)
				}
			}
			if len(subs) != 10 {
				t.Errorf("%d subscriptions, want 10 (each source once): %v", len(subs), subs)
			}
			ari1.mu.Lock()
			if strings.Contains(ari1.query, "subscribeAll") || ari1.origin != "http://"+ari1.host {
				t.Errorf("websocket query %q origin %q: want no subscribeAll, origin http://%s", ari1.query, ari1.origin, ari1.host)
			}
			ari1.mu.Unlock()
			// The flow's own later writes keep working beside the observer's events.
			in, _ := st.Interaction(ctx, "01ANSWERED")
			in.Events = append(in.Events, flow.Event{Kind: flow.EventQueue, Name: "support", Result: "CONTINUE"})
			if err := st.Record(ctx, in); err != nil {
				t.Errorf("flow record after the observer's events: %v", err)
			}
		})
	}
}

func parseAt(t *testing.T, sec float64) time.Time {
	v, err := time.Parse("2006-01-02T15:04:05.000-0700", at(sec))
	if err != nil {
		t.Fatal(err)
	}
	return v
}
