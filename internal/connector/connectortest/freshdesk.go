package connectortest

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Freshdesk, following its documented shapes
// (https://developers.freshdesk.com/api/):
//   - Basic auth with the API key as user name and "X" as password; a wrong
//     key answers 401 {"code":"invalid_credentials","message":...}
//     (#authentication);
//   - who-am-I GET /api/v2/agents/me answers the agent with contact.email
//     (#me);
//   - GET /api/v2/tickets?order_by=updated_at&order_type=asc&per_page=&page=
//     &updated_since= lists tickets, per_page at most 100 (default 30),
//     updated_since inclusive, a Link rel="next" header while pages follow
//     (#list_all_tickets, #pagination);
//   - 429 with Retry-After when throttled (#ratelimit); server errors are
//     5xx (#error).
func init() {
	register(Case{Connector: "freshdesk", Source: "tickets", Account: "agent@acme.example", Start: startFreshdesk})
}

func startFreshdesk(tb testing.TB) (*Fake, error) {
	const key = "fd-" + Canary + "-Zq81lk"
	f := &Fake{Data: NewDataset(250, func(i int) string { return strconv.Itoa(1 + i) }),
		Secret: key, BadSecret: "fd-" + Canary + "-wrong0"}
	fdError := func(w http.ResponseWriter, status int, body string) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
	authorized := func(r *http.Request) bool {
		raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Basic ")
		b, err := base64.StdEncoding.DecodeString(raw)
		return ok && err == nil && string(b) == key+":X"
	}
	const unauthorized = `{"code":"invalid_credentials","message":"You have to be logged in to perform this action."}`
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v2/agents/me", func(w http.ResponseWriter, r *http.Request) {
		if !authorized(r) {
			fdError(w, http.StatusUnauthorized, unauthorized)
			return
		}
		writeJSON(w, map[string]any{"id": 43000123456, "available": true, "occasional": false,
			"contact": map[string]any{"name": "Support Agent", "email": "agent@acme.example", "active": true}})
	})
	mux.HandleFunc("GET /api/v2/tickets", func(w http.ResponseWriter, r *http.Request) {
		if !authorized(r) {
			fdError(w, http.StatusUnauthorized, unauthorized)
			return
		}
		switch f.Data.Fault() {
		case Throttle:
			w.Header().Set("Retry-After", "1")
			w.Header().Set("X-RateLimit-Total", "200")
			w.Header().Set("X-RateLimit-Remaining", "0")
			fdError(w, http.StatusTooManyRequests, `{"message":"You have exceeded the limit of requests per minute"}`)
			return
		case Fail:
			fdError(w, http.StatusInternalServerError, `{"code":"internal_error","message":"We're sorry, but something went wrong."}`)
			return
		}
		q := r.URL.Query()
		per, err := strconv.Atoi(q.Get("per_page"))
		if err != nil || per < 1 || per > 100 {
			per = 30
		}
		page, err := strconv.Atoi(q.Get("page"))
		if err != nil || page < 1 {
			page = 1
		}
		var since time.Time
		if s := q.Get("updated_since"); s != "" {
			if since, err = time.Parse(time.RFC3339, s); err != nil {
				fdError(w, http.StatusBadRequest, `{"description":"Validation failed","errors":[{"field":"updated_since","message":"It should be in the 'valid date' format","code":"invalid_value"}]}`)
				return
			}
			if since.After(Base) {
				f.Data.SawSince(since)
			}
		}
		recs := f.Data.Since(since, true)
		from, to := min((page-1)*per, len(recs)), min(page*per, len(recs))
		if to < len(recs) {
			next := *r.URL
			nq := next.Query()
			nq.Set("page", strconv.Itoa(page+1))
			next.RawQuery = nq.Encode()
			w.Header().Set("Link", fmt.Sprintf(`<http://%s%s>; rel="next"`, r.Host, next.RequestURI()))
		}
		tickets := []map[string]any{}
		for _, rec := range recs[from:to] {
			tickets = append(tickets, map[string]any{"id": rec.Seq + 1, "subject": "Ticket " + rec.ID, "status": 2, "priority": 1,
				"created_at": Base.Add(-time.Hour).Format(time.RFC3339), "updated_at": rec.Modified.UTC().Format(time.RFC3339)})
		}
		writeJSON(w, tickets)
	})
	srv := Serve(tb, mux)
	f.URL = srv.URL
	f.Set = []string{"domain=acme", "base_url=" + srv.URL}
	return f, nil
}
