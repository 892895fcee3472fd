package web

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/idv-project/idv/flow"
	"github.com/idv-project/idv/store"
)

// DefaultShareTTL is how long a share link holds when Server.ShareTTL is 0.
const DefaultShareTTL = 15 * time.Minute

// ShareWithin is how far back GET /api/interactions?ani= or customer= looks, unless
// within= says otherwise.
const ShareWithin = 24 * time.Hour

// shareKey is the key share links are signed with: Server.ShareKey, or one made at
// random when the server starts (links then die with the process).
func (s *Server) shareKey() []byte {
	s.shareOnce.Do(func() {
		if len(s.ShareKey) > 0 {
			s.shareSecret = s.ShareKey
			return
		}
		s.shareSecret = make([]byte, 32)
		rand.Read(s.shareSecret)
	})
	return s.shareSecret
}

func (s *Server) shareTTL() time.Duration {
	if s.ShareTTL > 0 {
		return s.ShareTTL
	}
	return DefaultShareTTL
}

// shareSig is the HMAC-SHA256 of the interaction id and the expiry.
func (s *Server) shareSig(id string, exp int64) string {
	m := hmac.New(sha256.New, s.shareKey())
	m.Write([]byte("idv-share\x00" + id + "\x00" + strconv.FormatInt(exp, 10)))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// ShareLink is the path of a signed link to interaction id's read-only view, valid for
// the share TTL from now, and when it expires.
func (s *Server) ShareLink(id string) (string, time.Time) {
	exp := s.now().Add(s.shareTTL()).Truncate(time.Second)
	return "/share/" + url.PathEscape(id) + "?exp=" + strconv.FormatInt(exp.Unix(), 10) + "&sig=" + s.shareSig(id, exp.Unix()), exp
}

// shareValid checks a share link's signature and expiry.
func (s *Server) shareValid(id, exp, sig string) bool {
	e, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || !s.now().Before(time.Unix(e, 0)) {
		return false
	}
	return hmac.Equal([]byte(sig), []byte(s.shareSig(id, e)))
}

func (s *Server) shareRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /share/{id}", s.shareView)
}

// contextLookup is GET /api/interactions?customer=ID or ?ani=NUMBER (within=24h by
// default): the caller's newest verified interaction, for a CRM or chat channel, with a
// signed share link to its read-only view. 404 when there is none, 409 when the visible
// digits of a masked number match several customers.
func (s *Server) contextLookup(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	customer, ani := strings.TrimSpace(q.Get("customer")), strings.TrimSpace(q.Get("ani"))
	if (customer == "") == (ani == "") {
		httpError(w, http.StatusBadRequest, errors.New("give either customer= or ani="))
		return
	}
	within := ShareWithin
	if v := q.Get("within"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 || d > 31*24*time.Hour {
			httpError(w, http.StatusBadRequest, errors.New("within: a duration up to 744h, e.g. 30m or 24h"))
			return
		}
		within = d
	}
	if ani != "" {
		// The whole number, in E.164 (a national number read in ShareRegion): a withheld
		// or invalid one names nobody.
		if ani = flow.NormalizeANI(ani, cmp.Or(s.ShareRegion, "JP")); ani == "" || flow.ANIWithheld(q.Get("ani"), 0) {
			httpError(w, http.StatusBadRequest, errors.New("ani: give the calling number in E.164 (+81312345678) or national form; a withheld number names nobody"))
			return
		}
	}
	id, err := s.Lister.LatestVerified(r.Context(), customer, ani, s.now().Add(-within))
	switch {
	case errors.Is(err, store.ErrAmbiguous):
		httpError(w, http.StatusConflict, errors.New("this number's verified calls name several customers; ask with customer="))
		return
	case err != nil:
		s.Log.Error().Err(err).Msg("context lookup")
		httpError(w, http.StatusInternalServerError, errors.New("the lookup failed; see idv's log"))
		return
	case id == "":
		httpError(w, http.StatusNotFound, errors.New("no verified interaction of this caller in the period"))
		return
	}
	in, err := s.Interactions.Interaction(r.Context(), id)
	if err != nil {
		httpError(w, http.StatusNotFound, errors.New("no such interaction"))
		return
	}
	out := s.contextOf(r.Context(), in, false)
	out.Note = "" // a note is the agents' own, not another channel's
	link, exp := s.ShareLink(in.ID)
	out.Share, out.ShareExpires = link, &exp
	detail := "customer=" + customer
	if ani != "" {
		detail = "ani=" + flow.Mask(ani, 4)
	}
	if !s.audited(w, r, store.AuditView, in.ID, "context lookup "+detail) {
		return
	}
	writeJSON(w, out)
}

// shareView is GET /share/{id}?exp=&sig=: one interaction's ID&V context, read-only,
// without sign-in, while the link holds. Each view is kept in the audit trail.
func (s *Server) shareView(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	id, q := r.PathValue("id"), r.URL.Query()
	lang := "en"
	if q.Get("lang") == "ja" || q.Get("lang") == "" && strings.HasPrefix(r.Header.Get("Accept-Language"), "ja") {
		lang = "ja"
	}
	tr := shareTexts[lang]
	if !s.shareValid(id, q.Get("exp"), q.Get("sig")) {
		w.WriteHeader(http.StatusForbidden)
		shareTemplate.Execute(w, sharePage{Lang: lang, T: tr, Error: tr["invalid"]})
		return
	}
	in, err := s.Interactions.Interaction(r.Context(), id)
	if err != nil {
		w.WriteHeader(http.StatusNotFound)
		shareTemplate.Execute(w, sharePage{Lang: lang, T: tr, Error: tr["missing"]})
		return
	}
	if s.Audit != nil {
		e := store.AuditEntry{At: s.now(), User: "share-link", Role: "share", Address: s.Access.clientAddr(r).String(),
			Action: store.AuditView, Target: id, Detail: "share link, expires " + time.Unix(mustInt(q.Get("exp")), 0).UTC().Format(time.RFC3339)}
		if err := s.Audit.Audit(r.Context(), e); err != nil {
			s.Log.Error().Err(err).Str("target", id).Msg("audit record failed; share view refused")
			httpError(w, http.StatusInternalServerError, errors.New("the access could not be recorded; see idv's log"))
			return
		}
	}
	c := s.contextOf(context.WithoutCancel(r.Context()), in, false)
	loc := s.Location
	if loc == nil {
		loc = time.Local
	}
	p := sharePage{Lang: lang, T: tr, C: c, Started: c.Started.In(loc).Format("2006-01-02 15:04:05"),
		Status: tr[c.Status], Reason: tr["reason_"+c.Reason], Method: tr["method_"+c.Method],
		Factors: strings.Join(c.FactorsPassed, ", "), Expires: time.Unix(mustInt(q.Get("exp")), 0).In(loc).Format("15:04")}
	shareTemplate.Execute(w, p)
}

func mustInt(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

type sharePage struct {
	Lang                                              string
	T                                                 map[string]string
	Error                                             string
	C                                                 interactionJSON
	Started, Status, Reason, Method, Factors, Expires string
}

var shareTexts = map[string]map[string]string{
	"en": {"title": "Caller's ID&V context", "invalid": "This link is not valid or has expired. Ask idv for a new one.",
		"missing": "This interaction is no longer kept.", "customer": "Customer", "name": "Name", "line": "Line",
		"method": "Method", "reason": "Reason", "factors": "Factors passed", "started": "Started", "number": "Calling number",
		"expires": "This read-only view expires at", "VERIFIED": "Identified and verified", "IDENTIFIED": "Identified, not verified",
		"UNIDENTIFIED": "Not identified", "method_ANI": "Calling number", "method_DTMF": "Typed on the keypad", "method_NONE": "None",
		"reason_OK": "Verified", "reason_NOT_REQUIRED": "Verification not required", "reason_VERIFY_FAILED": "Verification failed",
		"reason_LOCKED": "Locked", "reason_OPTED_OUT": "Opted out", "reason_NOT_FOUND": "Not found", "reason_NO_INPUT": "No input",
		"reason_BACKEND_UNAVAILABLE": "CRM unavailable", "reason_HANGUP": "Hung up"},
	"ja": {"title": "発信者の本人確認情報", "invalid": "このリンクは無効か、有効期限が切れています。新しいリンクを取得してください。",
		"missing": "この通話の記録はもう保存されていません。", "customer": "顧客ID", "name": "氏名", "line": "回線",
		"method": "特定方法", "reason": "理由", "factors": "確認済みの要素", "started": "開始", "number": "発信者番号",
		"expires": "この閲覧専用ページの有効期限", "VERIFIED": "特定済み・本人確認済み", "IDENTIFIED": "特定済み・本人確認未完了",
		"UNIDENTIFIED": "未特定", "method_ANI": "発信者番号", "method_DTMF": "ダイヤル入力", "method_NONE": "なし",
		"reason_OK": "本人確認済み", "reason_NOT_REQUIRED": "本人確認不要", "reason_VERIFY_FAILED": "本人確認失敗",
		"reason_LOCKED": "ロック中", "reason_OPTED_OUT": "スキップ", "reason_NOT_FOUND": "該当なし", "reason_NO_INPUT": "入力なし",
		"reason_BACKEND_UNAVAILABLE": "CRM接続不可", "reason_HANGUP": "切断"},
}

var shareTemplate = template.Must(template.New("share").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>idv · {{index .T "title"}}</title>
<style>body{font-family:system-ui,"Noto Sans JP","IPAGothic",sans-serif;background:#f5f7fb;color:#1f2430;margin:0;padding:1.2rem}
.card{background:#fff;border-radius:10px;padding:1.2rem 1.4rem;max-width:560px;box-shadow:0 2px 6px rgba(0,0,0,.12)}
h1{font-size:1.1rem;color:#305496;margin:0 0 .8rem}.badge{display:inline-block;color:#fff;font-weight:700;border-radius:999px;padding:.4rem 1rem}
.VERIFIED{background:#2e7d32}.IDENTIFIED{background:#b26a00}.UNIDENTIFIED{background:#b3261e}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.35rem 1rem}dt{color:#5f6368}dd{margin:0;font-weight:600}
.name{font-size:1.4rem}.error{color:#b3261e}.muted{color:#5f6368;font-size:.85rem}</style></head>
<body><div class="card" id="share"><h1>{{index .T "title"}}</h1>
{{if .Error}}<p class="error" id="share-error">{{.Error}}</p>{{else}}
<span class="badge {{.C.Status}}" data-status="{{.C.Status}}">{{.Status}}</span>
<dl><dt>{{index .T "name"}}</dt><dd class="name">{{.C.CustomerName}}</dd>
<dt>{{index .T "customer"}}</dt><dd>{{.C.CustomerID}}</dd>
<dt>{{index .T "line"}}</dt><dd>{{.C.Line}}</dd>
<dt>{{index .T "method"}}</dt><dd>{{.Method}}</dd>
<dt>{{index .T "factors"}}</dt><dd>{{.Factors}}</dd>
<dt>{{index .T "reason"}}</dt><dd>{{.Reason}}</dd>
<dt>{{index .T "number"}}</dt><dd>{{.C.ANI}}</dd>
<dt>{{index .T "started"}}</dt><dd>{{.Started}}</dd></dl>
<p class="muted">{{index .T "expires"}} {{.Expires}}.</p>{{end}}</div></body></html>
`))
