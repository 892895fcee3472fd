package ari_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
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

// Recorded sequences, as Asterisk's ARI sends them (rest-api/api-docs/events.json models).
func answered(id string) []string {
	c, p := channel("1795.1", "PJSIP/sipp-00000001"), channel("1795.2", "PJSIP/agent1-00000002")
	return []string{
		`{"type":"ChannelVarset","timestamp":"` + at(0.2) + `","variable":"__IDV_INTERACTION","value":"` + id + `","channel":` + c + `,"application":"idv","asterisk_id":"a1"}`,
		`{"type":"ChannelDialplan","timestamp":"` + at(9) + `","dialplan_app":"Queue","dialplan_app_data":"support","channel":` + c + `,"application":"idv"}`,
		`{"type":"Dial","timestamp":"` + at(9.2) + `","dialstatus":"","dialstring":"agent1","caller":` + c + `,"peer":` + p + `,"application":"idv"}`,
		`{"type":"ChannelVarset","timestamp":"` + at(9.2) + `","variable":"IDV_INTERACTION","value":"` + id + `","channel":` + p + `,"application":"idv"}`,
		`{"type":"Dial","timestamp":"` + at(21.5) + `","dialstatus":"ANSWER","dialstring":"agent1","caller":` + c + `,"peer":` + p + `,"application":"idv"}`,
		`{"type":"ChannelDestroyed","timestamp":"` + at(201.5) + `","cause":16,"cause_txt":"Normal Clearing","channel":` + c + `,"application":"idv"}`,
		`{"type":"ChannelDestroyed","timestamp":"` + at(201.6) + `","cause":16,"cause_txt":"Normal Clearing","channel":` + p + `,"application":"idv"}`,
	}
}

func abandoned(id string) []string {
	c, p := channel("1795.3", "PJSIP/sipp-00000003"), channel("1795.4", "PJSIP/agent2-00000004")
	return []string{
		`{"type":"ChannelVarset","timestamp":"` + at(0.2) + `","variable":"__IDV_INTERACTION","value":"` + id + `","channel":` + c + `,"application":"idv"}`,
		`{"type":"ChannelDialplan","timestamp":"` + at(5) + `","dialplan_app":"Queue","dialplan_app_data":"retail,t,,,300","channel":` + c + `,"application":"idv"}`,
		`{"type":"Dial","timestamp":"` + at(5.1) + `","dialstatus":"","caller":` + c + `,"peer":` + p + `,"application":"idv"}`,
		`{"type":"Dial","timestamp":"` + at(35) + `","dialstatus":"CANCEL","caller":` + c + `,"peer":` + p + `,"application":"idv"}`,
		`{"type":"ChannelDestroyed","timestamp":"` + at(35) + `","cause":16,"cause_txt":"Normal Clearing","channel":` + c + `,"application":"idv"}`,
	}
}

func transferred(id string) []string {
	c, p := channel("1795.5", "PJSIP/sipp-00000005"), channel("1795.6", "PJSIP/agent3-00000006")
	return []string{
		`{"type":"ChannelVarset","timestamp":"` + at(0.2) + `","variable":"__IDV_INTERACTION","value":"` + id + `","channel":` + c + `,"application":"idv"}`,
		`{"type":"ChannelDialplan","timestamp":"` + at(10) + `","dialplan_app":"Queue","dialplan_app_data":"support","channel":` + c + `,"application":"idv"}`,
		`{"type":"Dial","timestamp":"` + at(15) + `","dialstatus":"ANSWER","caller":` + c + `,"peer":` + p + `,"application":"idv"}`,
		`{"type":"BridgeBlindTransfer","timestamp":"` + at(75) + `","result":"Success","context":"agents","exten":"102","is_external":false,"channel":` + p + `,"transferee":` + c + `,"bridge":{"id":"b1","technology":"simple_bridge","bridge_type":"mixing","bridge_class":"basic","creator":"","name":"","channels":[],"creationtime":"` + at(15) + `","video_mode":"none"},"application":"idv"}`,
		`{"type":"ChannelDestroyed","timestamp":"` + at(135) + `","cause":16,"cause_txt":"Normal Clearing","channel":` + c + `,"application":"idv"}`,
	}
}

// standIn is an ARI server: /ari/asterisk/info and the /ari/events websocket, which
// sends the recorded events once the observer listens (its second info request: the
// client's own at connect, then the observer's after subscribing).
func standIn(t *testing.T, events []string) string {
	mux := http.NewServeMux()
	listening := make(chan struct{})
	var infos atomic.Int32
	mux.HandleFunc("/ari/asterisk/info", func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "idv" || p != "secret" {
			http.Error(w, "auth", http.StatusUnauthorized)
			return
		}
		w.Write([]byte(`{"system":{"entity_id":"a1","version":"22.10.1"},"config":{"name":"test"},"status":{}}`))
		if infos.Add(1) == 2 {
			close(listening)
		}
	})
	mux.Handle("/ari/events", websocket.Handler(func(ws *websocket.Conn) {
		<-listening
		for _, e := range events {
			if err := websocket.Message.Send(ws, e); err != nil {
				return
			}
		}
		var discard string
		websocket.Message.Receive(ws, &discard) // hold the connection until the client leaves
	}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// notify is a Sink that stores and tells the test.
type notify struct {
	*store.Store
	done chan string
}

func (n notify) QueueOutcome(ctx context.Context, id string, o ari.Outcome) error {
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
			ids := []string{"01ANSWERED", "01ABANDONED", "01TRANSFERRED"}
			for _, id := range ids {
				st.Record(ctx, &flow.Interaction{ID: id, Line: "retail", Script: "idv", Started: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC),
					Status: flow.StatusVerified, Reason: flow.ReasonOK, Method: flow.MethodANI, Route: "queue:support",
					Events: []flow.Event{{Kind: flow.EventStart, Name: "idv"}}})
			}
			var events []string
			events = append(events, answered(ids[0])...)
			events = append(events, abandoned(ids[1])...)
			events = append(events, transferred(ids[2])...)
			host := standIn(t, events)
			sink := notify{st, make(chan string, 3)}
			var mu sync.Mutex
			var states []string
			obs := &ari.Observer{Sink: sink, Log: zerolog.Nop(), AgentState: func(agent, state string) {
				mu.Lock()
				states = append(states, agent+" "+state)
				mu.Unlock()
			}}
			go ari.Watch(ctx, ari.Options{URL: "http://" + host + "/ari", WebsocketURL: "ws://" + host + "/ari/events",
				User: "idv", Password: "secret", Application: "idv"}, obs, zerolog.Nop())
			for range ids {
				select {
				case <-sink.done:
				case <-time.After(30 * time.Second):
					t.Fatal("the observer recorded no outcome")
				}
			}
			want := map[string]struct {
				agent      string
				wait, talk int64 // ms; talk -1 = none
				result     string
			}{
				"01ANSWERED":    {"PJSIP/agent1", 12500, 180000, "answered"},
				"01ABANDONED":   {"", 30000, -1, "abandoned"},
				"01TRANSFERRED": {"PJSIP/agent3", 5000, 120000, "transferred"},
			}
			for id, w := range want {
				var agent string
				var wait int64
				var talk *int64
				st.DB().QueryRow(store.Bind(st.Driver(), `SELECT agent, wait_ms, talk_ms FROM interactions WHERE id = ?`), id).Scan(&agent, &wait, &talk)
				gotTalk := int64(-1)
				if talk != nil {
					gotTalk = *talk
				}
				if agent != w.agent || wait != w.wait || gotTalk != w.talk {
					t.Errorf("%s: agent %q wait %d talk %d, want %q %d %d", id, agent, wait, gotTalk, w.agent, w.wait, w.talk)
				}
				in, err := st.Interaction(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				last := in.Events[len(in.Events)-1]
				if string(last.Kind) != "agent" || last.Result != w.result || !strings.Contains(last.Detail, "cause 16") {
					t.Errorf("%s: last event %+v, want result %s", id, last, w.result)
				}
			}
			mu.Lock()
			if got := strings.Join(states, ", "); got != "PJSIP/agent1 ringing, PJSIP/agent2 ringing, PJSIP/agent2 idle" {
				t.Errorf("agent states %q", got)
			}
			mu.Unlock()
			// The flow's own later writes keep working beside the observer's events.
			in, _ := st.Interaction(ctx, "01ANSWERED")
			in.Events = append(in.Events, flow.Event{Kind: flow.EventQueue, Name: "support", Result: "CONTINUE"})
			if err := st.Record(ctx, in); err != nil {
				t.Errorf("flow record after the observer's events: %v", err)
			}
		})
	}
}
