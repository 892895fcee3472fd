// Package web is idv's HTTP server: the reports API (download of any report of the
// library in CSV, XLSX or PDF) and health checks. The dashboard and agent desktop build
// on it.
package web

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/idv-project/idv/flow"
	"github.com/idv-project/idv/live"
	"github.com/idv-project/idv/report"
	"github.com/idv-project/idv/store"
)

// Interactions reads interaction records (store.Store implements it).
type Interactions interface {
	Interaction(ctx context.Context, id string) (*flow.Interaction, error)
}

// Server serves idv's HTTP API.
type Server struct {
	Access       Access
	Reports      report.Source
	Interactions Interactions
	Location     *time.Location
	Render       report.Options
	// Known gives what the configuration in force names that report filters may name
	// (lines, the queues of their routes, agents, wrap-up codes); any other value, unless
	// recorded, is refused with 400. nil knows only what is recorded.
	Known func() report.Known
	Log   zerolog.Logger
	// Metrics serves /metrics (Prometheus); nil leaves it out.
	Metrics http.Handler
	// Ready reports whether idv can take calls (database reachable, FastAGI serving).
	Ready func(ctx context.Context) error
	// Live is the real-time state; nil leaves the live views out.
	Live *live.Hub
	// Lister lists interactions for the interactions view.
	Lister Lister
	// UI is what the pages need from the configuration.
	UI UI
	// Audit records who saw or changed personal data, and lists it to supervisors at
	// /api/audit; nil records nothing.
	Audit Auditor
	// MaxConnections caps the connections open at once (Listener), and
	// MaxConnectionsPerClient those of one client address (Access.TrustedProxies
	// excepted: a proxy carries many users); IdleTimeout closes a keep-alive connection
	// idle that long (HTTP; DefaultIdleTimeout when 0).
	MaxConnections          int
	MaxConnectionsPerClient int
	IdleTimeout             time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// ShareKey signs the share links of GET /api/interactions?ani= (HMAC-SHA256); empty
	// makes a random key at start. ShareTTL is how long a link holds (DefaultShareTTL
	// when 0).
	ShareKey []byte
	ShareTTL time.Duration
	// ShareRegion reads national numbers given to the context lookup (?ani=), as the
	// default line reads calling numbers; "" is JP.
	ShareRegion string

	shareOnce   sync.Once
	shareSecret []byte
}

// Handler routes the API. /healthz and /readyz are open; everything else needs sign-in.
// Call it once: the sign-in limits it sets up hold for the handler it returns.
func (s *Server) Handler() http.Handler {
	s.Access.signIn = newSignIn(s.Access.Limits, s.Access.Check, s.now, s.Log)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.HandleFunc("GET /api/reports", s.Access.require(s.listReports, Supervisor))
	mux.HandleFunc("GET /api/reports/{name}", s.Access.require(s.getReport, Supervisor))
	mux.HandleFunc("GET /api/interactions/{id}", s.Access.require(s.getInteraction, Supervisor, Agent))
	s.shareRoutes(mux)
	if s.Metrics != nil {
		mux.Handle("GET /metrics", s.Access.require(s.Metrics.ServeHTTP, Supervisor))
	}
	if s.Audit != nil {
		mux.HandleFunc("GET /api/audit", s.Access.require(s.listAudit, Supervisor))
	}
	s.liveRoutes(mux)
	return s.guard(mux)
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.Ready != nil {
		if err := s.Ready(r.Context()); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
	}
	w.Write([]byte("ready\n"))
}

// interactionJSON is the ID&V context of a call, for CRMs and other channels.
type interactionJSON struct {
	ID           string     `json:"id"`
	Line         string     `json:"line"`
	Started      time.Time  `json:"started"`
	Ended        *time.Time `json:"ended,omitempty"`
	Status       string     `json:"status"`
	StatusText   string     `json:"status_text"`
	Reason       string     `json:"reason"`
	Method       string     `json:"method"`
	CustomerID   string     `json:"customer_id"`
	CustomerName string     `json:"customer_name"`
	Attempts     string     `json:"attempts"`
	Route        string     `json:"route"`
	QueueStatus  string     `json:"queue_status"`
	QueueResult  string     `json:"queue_result,omitempty"` // answered, abandoned, transferred, timeout…
	WaitMS       *int64     `json:"wait_ms,omitempty"`      // from ARI; absent until known
	TalkMS       *int64     `json:"talk_ms,omitempty"`
	Agent        string     `json:"agent,omitempty"`
	WrapUp       string     `json:"wrapup,omitempty"`
	Language     string     `json:"language"`
	// ANI is the calling number as stored: masked per privacy.ani_visible_digits.
	ANI string `json:"ani"`
	// IDType is how the caller was identified; FactorsAsked and FactorsPassed the
	// verification factors asked and passed; Risk why the risk rule added factors.
	IDType         string   `json:"id_type"`
	FactorsAsked   []string `json:"factors_asked"`
	FactorsPassed  []string `json:"factors_passed"`
	Risk           []string `json:"risk"`
	VerifyAttempts int      `json:"verify_attempts"`
	// InProgress is a call in the queue or with an agent (no end yet).
	InProgress bool `json:"in_progress"`
	// Note is the agent's wrap-up note; Share a signed link to this context for a CRM
	// (GET /api/interactions?ani= or customer=), valid until ShareExpires.
	Note         string     `json:"note,omitempty"`
	Share        string     `json:"share,omitempty"`
	ShareExpires *time.Time `json:"share_expires,omitempty"`
	Timeline     []step     `json:"timeline,omitempty"`
}

// step is one event of the timeline (supervisors only).
type step struct {
	At        time.Time `json:"at"`
	Kind      string    `json:"kind"`
	Name      string    `json:"name,omitempty"`
	Result    string    `json:"result,omitempty"`
	LatencyMS int64     `json:"latency_ms,omitempty"`
}

func (s *Server) getInteraction(w http.ResponseWriter, r *http.Request) {
	in, err := s.Interactions.Interaction(r.Context(), r.PathValue("id"))
	if err != nil {
		httpError(w, http.StatusNotFound, errors.New("no such interaction"))
		return
	}
	if u := userOf(r); u.Role == Agent && (u.Agent == "" || in.Agent != u.Agent) {
		// An agent sees only the calls connected to them; others look absent.
		httpError(w, http.StatusNotFound, errors.New("no such interaction"))
		return
	}
	out := s.contextOf(r.Context(), in, userOf(r).Role == Supervisor)
	if !s.audited(w, r, store.AuditView, in.ID, "") {
		return
	}
	writeJSON(w, out)
}

// contextOf is the ID&V context of an interaction, its wrap-up note included, and with
// the timeline when full (supervisors, and a share link).
func (s *Server) contextOf(ctx context.Context, in *flow.Interaction, full bool) interactionJSON {
	out := interactionJSON{ID: in.ID, Line: in.Line, Started: in.Started, Status: string(in.Status), StatusText: in.Status.DisplayText(),
		Reason: string(in.Reason), Method: string(in.Method), CustomerID: in.CustomerID, CustomerName: in.CustomerName,
		Attempts: in.Attempts(), Route: in.Route, QueueStatus: in.QueueStatus, QueueResult: string(in.QueueResult()),
		Agent: in.Agent, WrapUp: in.WrapUp, Language: in.Language, ANI: in.ANI, IDType: in.IDType,
		FactorsAsked: in.FactorsAsked, FactorsPassed: in.FactorsPassed, Risk: in.Risk, VerifyAttempts: in.VerifyAttempts,
		InProgress: in.Ended.IsZero()}
	if in.Wait != nil {
		out.WaitMS = new(in.Wait.Milliseconds())
	}
	if in.Talk != nil {
		out.TalkMS = new(in.Talk.Milliseconds())
	}
	if full {
		for _, ev := range in.Events {
			out.Timeline = append(out.Timeline, step{At: ev.At, Kind: string(ev.Kind), Name: ev.Name, Result: string(ev.Result), LatencyMS: ev.Latency.Milliseconds()})
		}
	}
	if !in.Ended.IsZero() {
		out.Ended = &in.Ended
	}
	if s.Lister != nil {
		if note, err := s.Lister.Note(ctx, in.ID); err == nil {
			out.Note = note
		}
	}
	return out
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// reportItem is one report of GET /api/reports, in the language asked.
type reportItem struct {
	Name, Title, Description string
	Formats                  []report.Format
	// Sections are the report's tables; a CSV holds one (section=NAME, the first by default).
	Sections []report.Section
}

// listReports is GET /api/reports?lang=ja: the library, titled in the language.
func (s *Server) listReports(w http.ResponseWriter, r *http.Request) {
	lang, err := report.ParseLang(r.URL.Query().Get("lang"))
	if err != nil {
		httpError(w, http.StatusBadRequest, err)
		return
	}
	var out []reportItem
	for _, d := range report.Library {
		d = d.Translated(lang)
		out = append(out, reportItem{d.Name, d.Title, d.Description, []report.Format{report.PDF, report.XLSX, report.CSV}, d.Sections})
	}
	writeJSON(w, out)
}

// httpError answers with a plain-text reason.
func httpError(w http.ResponseWriter, code int, err error) {
	http.Error(w, err.Error(), code)
}

// getReport is GET /api/reports/{name}?format=&lang=&section=&… (the filter, see
// report.ParseFilter). lang is en (default) or ja; section picks the table of a CSV.
// A filter value that nothing knows, and conflicting parameters, are a 400 naming them.
func (s *Server) getReport(w http.ResponseWriter, r *http.Request) {
	def, err := report.Find(r.PathValue("name"))
	if err != nil {
		httpError(w, http.StatusNotFound, err)
		return
	}
	q := r.URL.Query()
	format, err := report.ParseFormat(cmp.Or(q.Get("format"), "pdf"))
	if err != nil {
		httpError(w, http.StatusBadRequest, err)
		return
	}
	lang, err := report.ParseLang(q.Get("lang"))
	if err != nil {
		httpError(w, http.StatusBadRequest, err)
		return
	}
	section := q.Get("section")
	if section != "" && format != report.CSV {
		httpError(w, http.StatusBadRequest, fmt.Errorf("section %q: only a CSV is cut into sections; the %s holds them all", section, format))
		return
	}
	if section != "" && !slices.ContainsFunc(def.Sections, func(sec report.Section) bool { return sec.Name == section }) {
		names := make([]string, len(def.Sections))
		for i, sec := range def.Sections {
			names[i] = sec.Name
		}
		httpError(w, http.StatusBadRequest, fmt.Errorf("section %q: report %s has %s", section, def.Name, strings.Join(names, ", ")))
		return
	}
	f, err := report.ParseFilter(q, s.now(), s.Location)
	if err != nil {
		httpError(w, http.StatusBadRequest, err)
		return
	}
	var unknown *report.UnknownError
	var known report.Known
	if s.Known != nil {
		known = s.Known()
	}
	if err := f.Check(r.Context(), s.Reports, known); errors.As(err, &unknown) {
		httpError(w, http.StatusBadRequest, err)
		return
	} else if err != nil {
		s.Log.Error().Err(err).Str("report", def.Name).Msg("report filter check failed")
		httpError(w, http.StatusInternalServerError, errors.New("the report could not be built; see idv's log"))
		return
	}
	start := time.Now()
	rep, err := def.Run(r.Context(), s.Reports, f, s.now(), lang)
	if err == nil && format == report.CSV {
		rep, err = rep.Only(section)
	}
	if err != nil {
		s.Log.Error().Err(err).Str("report", def.Name).Msg("report failed")
		httpError(w, http.StatusInternalServerError, errors.New("the report could not be built; see idv's log"))
		return
	}
	var buf bytes.Buffer
	if err := report.Render(&buf, rep, format, s.Render); err != nil {
		s.Log.Error().Err(err).Str("report", def.Name).Str("format", string(format)).Msg("report rendering failed")
		httpError(w, http.StatusInternalServerError, fmt.Errorf("the %s could not be rendered: %v", format, err))
		return
	}
	if !s.audited(w, r, store.AuditReport, def.Name, string(format)+" "+f.Describe()) {
		return
	}
	w.Header().Set("Content-Type", format.ContentType())
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": rep.FileName(format)}))
	w.Write(buf.Bytes())
	s.Log.Info().Str("report", def.Name).Str("format", string(format)).Str("filter", f.Describe()).
		Dur("took", time.Since(start)).Int("bytes", buf.Len()).Msg("report downloaded")
}
