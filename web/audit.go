package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/idv-project/idv/report"
	"github.com/idv-project/idv/store"
)

// Auditor keeps the record of who saw or changed personal data (store.Store implements
// it).
type Auditor interface {
	Audit(ctx context.Context, e store.AuditEntry) error
	AuditEntries(ctx context.Context, q store.AuditQuery) ([]store.AuditEntry, error)
}

// audited records that the request's user does action on target, before the data is
// sent or the change made. When the record cannot be written it answers 500 and returns
// false: personal data is not shown to nobody-knows-whom.
func (s *Server) audited(w http.ResponseWriter, r *http.Request, action store.AuditAction, target, detail string) bool {
	if s.Audit == nil {
		return true
	}
	u := userOf(r)
	e := store.AuditEntry{At: s.now(), User: u.Name, Role: u.Role, Address: s.Access.clientAddr(r).String(),
		Action: action, Target: target, Detail: detail}
	if err := s.Audit.Audit(r.Context(), e); err != nil {
		s.Log.Error().Err(err).Str("user", u.Name).Str("action", string(action)).Str("target", target).Msg("audit record failed; access refused")
		httpError(w, http.StatusInternalServerError, errors.New("the access could not be recorded; see idv's log"))
		return false
	}
	return true
}

// listAudit is GET /api/audit?from=&to=&user=&limit= (or range=): who saw or changed
// personal data, newest first, for supervisors.
func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f, err := report.ParseFilter(q, s.now(), s.Location)
	if err != nil {
		httpError(w, http.StatusBadRequest, err)
		return
	}
	limit, _ := strconv.Atoi(q.Get("limit"))
	list, err := s.Audit.AuditEntries(r.Context(), store.AuditQuery{From: f.From, To: f.To, User: q.Get("user"), Limit: limit})
	if err != nil {
		s.Log.Error().Err(err).Msg("listing the audit")
		httpError(w, http.StatusInternalServerError, errors.New("could not list the audit"))
		return
	}
	writeJSON(w, list)
}
