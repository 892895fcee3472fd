package web

import (
	"errors"
	"net/http"
	"time"

	"github.com/idv-project/idv/store"
)

// deskJSON is what the agent's desk reads besides the live stream: the call awaiting a
// wrap-up (from the store, so that it survives reloads and restarts) and the agent's
// calls today with their wrap-ups.
type deskJSON struct {
	Agent   string           `json:"agent"`
	Pending *interactionJSON `json:"pending"`
	History []store.Summary  `json:"history"`
	// Total counts the agent's calls today (History holds the newest HistoryLen).
	Total int `json:"total"`
}

// HistoryLen is how many of today's calls the desk lists.
const HistoryLen = 50

// desk is GET /api/desk: an agent's own; a supervisor's ?agent= names whose.
func (s *Server) desk(w http.ResponseWriter, r *http.Request) {
	u := userOf(r)
	agent := u.Agent
	if u.Role == Supervisor {
		agent = r.URL.Query().Get("agent")
	}
	if agent == "" {
		httpError(w, http.StatusBadRequest, errors.New("agent: name the agent whose desk to show"))
		return
	}
	from := s.dayStart()
	out := deskJSON{Agent: agent, History: []store.Summary{}}
	page, err := s.Lister.Search(r.Context(), store.Query{From: from, To: from.AddDate(0, 0, 1), Agents: []string{agent}, Limit: HistoryLen})
	if err != nil {
		s.Log.Error().Err(err).Str("agent", agent).Msg("agent's desk")
		httpError(w, http.StatusInternalServerError, errors.New("the desk could not be read; see idv's log"))
		return
	}
	out.History, out.Total = page.Rows, page.Total
	id, err := s.Lister.PendingWrapUp(r.Context(), agent, from)
	if err != nil {
		s.Log.Error().Err(err).Str("agent", agent).Msg("agent's desk")
		httpError(w, http.StatusInternalServerError, errors.New("the desk could not be read; see idv's log"))
		return
	}
	if id != "" {
		if in, err := s.Interactions.Interaction(r.Context(), id); err == nil {
			c := s.contextOf(r.Context(), in, false)
			out.Pending = &c
		}
	}
	if !s.audited(w, r, store.AuditList, agent, "desk") {
		return
	}
	writeJSON(w, out)
}

// dayStart is the start of today in the server's time zone (report.timezone).
func (s *Server) dayStart() time.Time {
	loc := s.Location
	if loc == nil {
		loc = time.Local
	}
	n := s.now().In(loc)
	return time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, loc)
}
