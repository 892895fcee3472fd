package web

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/idv-project/idv/live"
	"github.com/idv-project/idv/store"
)

//go:embed ui
var uiFiles embed.FS

// UI is what the pages need from the configuration.
type UI struct {
	WrapUpCodes []string `json:"wrapup_codes"`
	// WrapUpLabels names the codes per language: language → code → label.
	WrapUpLabels map[string]map[string]string `json:"wrapup_labels"`
	// CRMLink is a URL template with {id}: the agent's link into the company's CRM.
	CRMLink string `json:"crm_link"`
	// Agents are the agents the configuration knows (users with an agent), for the
	// supervisor's choice of whose desk to look at; the live ones and those the records
	// name are added.
	Agents []string `json:"agents"`
	// MaxNoteLen is the longest wrap-up note, in characters.
	MaxNoteLen int `json:"max_note_len"`
	// Lines and Queues are what the configuration in force names (Server.Known), for
	// the interactions view's filters.
	Lines  []string `json:"lines"`
	Queues []string `json:"queues"`
}

// MaxNoteLen is the longest wrap-up note accepted, in characters.
const MaxNoteLen = 1000

// Lister lists and searches interactions, and keeps what the agent's desk writes
// (store.Store implements it).
type Lister interface {
	Search(ctx context.Context, q store.Query) (store.Page, error)
	// PendingWrapUp is the agent's newest call since since that awaits a wrap-up ("" for none).
	PendingWrapUp(ctx context.Context, agent string, since time.Time) (string, error)
	// SetWrapUpNote stores the wrap-up code and note; Note reads the note.
	SetWrapUpNote(ctx context.Context, id, code, note string) error
	Note(ctx context.Context, id string) (string, error)
	// LatestVerified finds a customer's, or a calling number's, newest verified call.
	LatestVerified(ctx context.Context, customer, ani string, since time.Time) (string, error)
}

func (s *Server) liveRoutes(mux *http.ServeMux) {
	sub, _ := fs.Sub(uiFiles, "ui")
	files := http.FileServerFS(sub)
	mux.Handle("GET /", s.Access.require(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
		files.ServeHTTP(w, r)
	}, Supervisor, Agent))
	mux.HandleFunc("GET /api/me", s.Access.require(s.me, Supervisor, Agent))
	mux.HandleFunc("GET /api/ui", s.Access.require(s.ui, Supervisor, Agent))
	mux.HandleFunc("GET /api/live", s.Access.require(s.liveStream, Supervisor, Agent))
	mux.HandleFunc("GET /api/interactions", s.Access.require(s.listInteractions, Supervisor, Integration))
	mux.HandleFunc("GET /api/interactions/export", s.Access.require(s.exportInteractions, Supervisor))
	mux.HandleFunc("GET /api/desk", s.Access.require(s.desk, Supervisor, Agent))
	mux.HandleFunc("POST /api/interactions/{id}/wrapup", change(s.Access.require(s.wrapUp, Supervisor, Agent)))
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	u := userOf(r)
	writeJSON(w, map[string]string{"name": u.Name, "role": u.Role, "agent": u.Agent})
}

func (s *Server) ui(w http.ResponseWriter, r *http.Request) {
	out := s.UI
	out.MaxNoteLen = MaxNoteLen
	if s.Known != nil {
		k := s.Known()
		out.Lines, out.Queues = slices.Compact(slices.Sorted(slices.Values(k.Lines))), slices.Compact(slices.Sorted(slices.Values(k.Queues)))
	}
	// The configuration's agents (or the users' that name one), the live ones, and those
	// the records name: without users that name agents, or ARI to report them, a
	// supervisor could otherwise pick no desk until an agent took a call. A list of this
	// answer's own: appending to s.UI's would write into it.
	agents := slices.Clone(s.UI.Agents)
	if agents == nil {
		for _, u := range s.Access.Users {
			if u.Agent != "" {
				agents = append(agents, u.Agent)
			}
		}
	}
	if s.Live != nil {
		for _, a := range s.Live.Snapshot().Agents {
			agents = append(agents, a.Agent)
		}
	}
	if s.Reports != nil {
		if recorded, err := s.Reports.RecordedValues(r.Context(), store.FieldAgent); err == nil {
			agents = append(agents, recorded...)
		}
	}
	out.Agents = slices.Compact(slices.Sorted(slices.Values(agents)))
	writeJSON(w, out)
}

// agentView is what an agent's stream carries: their state and their pop, nothing else.
type agentView struct {
	At    time.Time   `json:"at"`
	Agent *live.Agent `json:"agent"`
	Call  *live.Call  `json:"call"`
}

// liveStream pushes the live state as server-sent events on change, at most every minGap
// (and every 5 s so the waits tick): the whole snapshot to supervisors, their own pop to agents.
func (s *Server) liveStream(w http.ResponseWriter, r *http.Request) {
	if s.Live == nil {
		httpError(w, http.StatusServiceUnavailable, errors.New("live views are off"))
		return
	}
	u := userOf(r)
	fl, ok := w.(http.Flusher)
	if !ok {
		httpError(w, http.StatusInternalServerError, errors.New("streaming unsupported"))
		return
	}
	agent := u.Agent
	if u.Role == Supervisor && r.URL.Query().Get("agent") != "" {
		agent = r.URL.Query().Get("agent") // a supervisor may look at an agent's screen
	}
	if !s.audited(w, r, store.AuditLive, agent, "") {
		return
	}
	// The stream lasts as long as the page is open: the server's write deadline, which
	// bounds every other answer, would cut it.
	if err := http.NewResponseController(w).SetWriteDeadline(time.Time{}); err != nil {
		s.Log.Warn().Err(err).Msg("live stream: write deadline not lifted")
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	changes, cancel := s.Live.Subscribe()
	defer cancel()
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for {
		var v any
		if u.Role == Agent || agent != "" {
			c, a := s.Live.Pop(agent)
			v = agentView{At: time.Now(), Agent: a, Call: c}
		} else {
			v = s.Live.Snapshot()
		}
		b, _ := json.Marshal(v)
		if _, err := fmt.Fprintf(w, "data: %s\n\n", b); err != nil {
			return
		}
		fl.Flush()
		// At most minGap between pushes: under thousands of calls a dashboard gets a few
		// snapshots a second, not one per step (changes coalesce meanwhile).
		gap := time.NewTimer(minGap)
		select {
		case <-r.Context().Done():
			gap.Stop()
			return
		case <-gap.C:
		}
		select {
		case <-r.Context().Done():
			return
		case <-changes:
		case <-tick.C:
		}
	}
}

// minGap is the shortest time between two pushes of the live views.
const minGap = 250 * time.Millisecond

func (s *Server) wrapUp(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Code string `json:"code"`
		Note string `json:"note"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16384)).Decode(&body); err != nil || !slices.Contains(s.UI.WrapUpCodes, body.Code) {
		httpError(w, http.StatusBadRequest, fmt.Errorf("code must be one of %s", strings.Join(s.UI.WrapUpCodes, ", ")))
		return
	}
	body.Note = strings.TrimSpace(body.Note)
	if n := utf8.RuneCountInString(body.Note); n > MaxNoteLen {
		httpError(w, http.StatusBadRequest, fmt.Errorf("the note has %d characters; at most %d", n, MaxNoteLen))
		return
	}
	id := r.PathValue("id")
	in, err := s.Interactions.Interaction(r.Context(), id)
	u := userOf(r)
	if err != nil || (u.Role == Agent && in.Agent != u.Agent) {
		httpError(w, http.StatusNotFound, errors.New("no such interaction"))
		return
	}
	if !s.audited(w, r, store.AuditWrapUp, id, body.Code) {
		return
	}
	if s.Lister != nil {
		if err := s.Lister.SetWrapUpNote(r.Context(), id, body.Code, body.Note); err != nil {
			s.Log.Error().Err(err).Str("interaction", id).Msg("storing the wrap-up")
			httpError(w, http.StatusInternalServerError, errors.New("the wrap-up could not be stored; see idv's log"))
			return
		}
	}
	if err := s.Live.WrapUp(r.Context(), id, in.Agent, body.Code); err != nil {
		httpError(w, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, map[string]string{"id": id, "wrapup": body.Code})
}
