package connectortest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// HubSpot, following its documented shapes:
//   - private app: Bearer token; who-am-I GET /account-info/2026-03/details
//     answers {portalId, accountType, uiDomain, ...}
//     (https://developers.hubspot.com/docs/api-reference/account-info-v3/details/get-account-info-v3-details);
//   - OAuth (2026-03 endpoints, every parameter in the form body): /oauth/authorize,
//     POST /oauth/2026-03/token, POST /oauth/2026-03/token/revoke and
//     POST /oauth/2026-03/token/introspect (form client_id, client_secret,
//     token, token_type_hint; answers {active, user, hub_id, ...})
//     (https://developers.hubspot.com/docs/apps/developer-platform/build-apps/authentication/oauth/working-with-oauth);
//   - list: GET /crm/v3/objects/{object}?limit=&properties=&archived=&after=
//     answering {results:[{id, properties, createdAt, updatedAt, archived}],
//     paging:{next:{after, link}}}
//     (https://developers.hubspot.com/docs/api-reference/latest/crm/objects/companies/get-companies);
//   - search: POST /crm/v3/objects/{object}/search with filterGroups
//     (GTE on the modified property, epoch ms), sorts (property names, as
//     HubSpot's spec types them), limit <= 200, after
//     (https://developers.hubspot.com/docs/api-reference/2026-03/crm/search-the-crm);
//   - errors {status:"error", message, correlationId, category}; a 429 has
//     policyName and X-HubSpot-RateLimit-* headers
//     (https://developers.hubspot.com/docs/api/usage-details).
//
// Companies keep their modification time in hs_lastmodifieddate, contacts
// in lastmodifieddate (the property the search must filter and sort on:
// https://developers.hubspot.com/docs/api-reference/2026-03/crm/search-the-crm);
// a search on the other object's property is refused with 400. The
// contacts (the Also source) are a fixed set of hubContacts, two pages of
// the source's 100; the faults are armed on the companies only.
func init() {
	also := []SourceRun{{Source: "contacts", Records: hubContacts}}
	register(
		Case{Connector: "hubspot", Auth: "private_app", Source: "companies", Also: also, Account: "62515", Start: startHubSpot("private_app")},
		Case{Connector: "hubspot", Auth: "oauth2", Source: "companies", Also: also, Account: "admin@acme.example", Revocable: true, Start: startHubSpot("oauth2")},
	)
}

// hubContacts is how many contacts the fake serves.
const hubContacts = 130

func startHubSpot(auth string) func(testing.TB) (*Fake, error) {
	return func(tb testing.TB) (*Fake, error) {
		f := &Fake{Data: NewDataset(250, func(i int) string { return strconv.Itoa(5000 + i) })}
		const token = "pat-na1-" + Canary + "-7f3a"
		if auth == "oauth2" {
			f.OAuth = &OAuth{ClientID: "5d1c9e0a-hub", ClientSecret: "hub-secret-" + Canary, ClientAuth: "params", Prefix: "CN",
				Extra: func(*http.Request) map[string]any {
					return map[string]any{"hub_id": 62515, "scopes": []string{"oauth", "crm.objects.companies.read"}}
				}}
		}
		h := &hubspot{f: f, token: token, objects: map[string]hubObject{
			"companies": {data: f.Data, modified: "hs_lastmodifieddate", render: hubCompany},
			"contacts": {data: NewDataset(hubContacts, func(i int) string { return strconv.Itoa(751 + i) }),
				modified: "lastmodifieddate", render: hubContact},
		}}
		mux := http.NewServeMux()
		mux.HandleFunc("GET /account-info/2026-03/details", func(w http.ResponseWriter, r *http.Request) {
			if !h.authorized(r) {
				hubError(w, http.StatusUnauthorized, "INVALID_AUTHENTICATION", "Authentication credentials not found.")
				return
			}
			writeJSON(w, map[string]any{"portalId": 62515, "accountType": "STANDARD", "timeZone": "Europe/Berlin", "uiDomain": "app-eu1.hubspot.com"})
		})
		mux.HandleFunc("GET /crm/v3/objects/{object}", h.list)
		mux.HandleFunc("POST /crm/v3/objects/{object}/search", h.search)
		if o := f.OAuth; o != nil {
			mux.HandleFunc("GET /oauth/authorize", o.Authorize)
			mux.HandleFunc("POST /oauth/2026-03/token", o.Token)
			mux.HandleFunc("POST /oauth/2026-03/token/revoke", func(w http.ResponseWriter, r *http.Request) {
				_ = r.ParseForm()
				if r.PostForm.Get("client_id") != o.ClientID || r.PostForm.Get("client_secret") != o.ClientSecret || r.PostForm.Get("token") == "" {
					hubError(w, http.StatusBadRequest, "VALIDATION_ERROR", "client_id, client_secret and token are required")
					return
				}
				o.Revoke(r.PostForm.Get("token"))
				w.WriteHeader(http.StatusNoContent)
			})
			mux.HandleFunc("POST /oauth/2026-03/token/introspect", func(w http.ResponseWriter, r *http.Request) {
				_ = r.ParseForm()
				if r.PostForm.Get("client_id") != o.ClientID || r.PostForm.Get("client_secret") != o.ClientSecret {
					hubError(w, http.StatusBadRequest, "VALIDATION_ERROR", "invalid client")
					return
				}
				if !o.Valid(r.PostForm.Get("token")) {
					writeJSON(w, map[string]any{"active": false})
					return
				}
				writeJSON(w, map[string]any{"active": true, "user": "admin@acme.example", "hub_id": 62515, "app_id": 1234567,
					"client_id": o.ClientID, "token_type": "access_token", "scopes": []string{"oauth", "crm.objects.companies.read"}})
			})
		}
		srv := Serve(tb, CheckSpec(tb, HubSpotCRMSpec, mux))
		f.URL = srv.URL
		f.Set = []string{"auth=" + auth, "base_url=" + srv.URL}
		if auth == "oauth2" {
			f.Set = append(f.Set, "client_id="+f.OAuth.ClientID, "auth_url="+srv.URL+"/oauth/authorize",
				"token_url="+srv.URL+"/oauth/2026-03/token", "revoke_url="+srv.URL+"/oauth/2026-03/token/revoke",
				"userinfo_url="+srv.URL+"/oauth/2026-03/token/introspect")
			f.Secret, f.SecretField = f.OAuth.ClientSecret, "client_secret"
		} else {
			f.Secret, f.BadSecret = token, "pat-na1-"+Canary+"-0000"
		}
		return f, nil
	}
}

type hubspot struct {
	f       *Fake
	token   string
	objects map[string]hubObject // by the {object} path segment
}

// A hubObject is one CRM object type the fake serves.
type hubObject struct {
	data     *Dataset
	modified string // the last-modified property the search filters on
	render   func(rec Record) map[string]any
}

func (h *hubspot) authorized(r *http.Request) bool {
	if h.f.OAuth != nil {
		return h.f.OAuth.Bearer(r, "Bearer")
	}
	return r.Header.Get("Authorization") == "Bearer "+h.token
}

func hubError(w http.ResponseWriter, status int, category, msg string) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"status": "error", "message": msg, "correlationId": "0c5e1f7a-4d2b-4c1e-9a55-7e9b1c2d3e4f", "category": category})
}

// fault answers a throttled or failing data request; it reports whether it did.
func (h *hubspot) fault(w http.ResponseWriter, d *Dataset) bool {
	switch d.Fault() {
	case Throttle:
		w.Header().Set("X-HubSpot-RateLimit-Interval-Milliseconds", "1000")
		w.Header().Set("X-HubSpot-RateLimit-Remaining", "0")
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
		w.WriteHeader(http.StatusTooManyRequests)
		_ = json.NewEncoder(w).Encode(map[string]string{"status": "error", "message": "You have reached your secondly limit.",
			"errorType": "RATE_LIMIT", "correlationId": "9d2b7f1e", "policyName": "SECONDLY", "groupName": "publicapi:private-app:secondly:62515"})
		return true
	case Fail:
		hubError(w, http.StatusBadGateway, "INTERNAL_ERROR", "An internal error occurred.")
		return true
	}
	return false
}

func hubCompany(rec Record) map[string]any {
	at := rec.Modified.UTC().Format("2006-01-02T15:04:05.000Z")
	return map[string]any{"id": rec.ID, "properties": map[string]any{"name": "Company " + rec.ID, "hs_object_id": rec.ID,
		"createdate": Base.Add(-time.Hour).Format("2006-01-02T15:04:05.000Z"), "hs_lastmodifieddate": at},
		"createdAt": Base.Add(-time.Hour).Format("2006-01-02T15:04:05.000Z"), "updatedAt": at, "archived": false}
}

func hubContact(rec Record) map[string]any {
	at := rec.Modified.UTC().Format("2006-01-02T15:04:05.000Z")
	created := Base.Add(-2 * time.Hour).Format("2006-01-02T15:04:05.000Z")
	return map[string]any{"id": rec.ID, "properties": map[string]any{"firstname": "Contact", "lastname": rec.ID,
		"email": "contact" + rec.ID + "@acme.example", "hs_object_id": rec.ID, "createdate": created, "lastmodifieddate": at},
		"createdAt": created, "updatedAt": at, "archived": false}
}

func (h *hubspot) page(r *http.Request, o hubObject, recs []Record, offset, limit int) map[string]any {
	end := min(offset+limit, len(recs))
	results := []map[string]any{}
	for _, rec := range recs[offset:end] {
		results = append(results, o.render(rec))
	}
	out := map[string]any{"results": results}
	if end < len(recs) {
		next := strconv.Itoa(end)
		out["paging"] = map[string]any{"next": map[string]any{"after": next, "link": "http://" + r.Host + r.URL.Path + "?after=" + next}}
	}
	return out
}

func (h *hubspot) list(w http.ResponseWriter, r *http.Request) {
	if !h.authorized(r) {
		hubError(w, http.StatusUnauthorized, "INVALID_AUTHENTICATION", "Authentication credentials not found.")
		return
	}
	o, ok := h.objects[r.PathValue("object")]
	if !ok {
		hubError(w, http.StatusBadRequest, "VALIDATION_ERROR", "Unable to infer object type from: "+r.PathValue("object"))
		return
	}
	if h.fault(w, o.data) {
		return
	}
	q := r.URL.Query()
	limit, err := strconv.Atoi(q.Get("limit"))
	if err != nil || limit < 1 || limit > 100 {
		limit = 10 // the documented default; at most 100
	}
	offset, _ := strconv.Atoi(q.Get("after"))
	writeJSON(w, h.page(r, o, o.data.All(), offset, limit))
}

func (h *hubspot) search(w http.ResponseWriter, r *http.Request) {
	if !h.authorized(r) {
		hubError(w, http.StatusUnauthorized, "INVALID_AUTHENTICATION", "Authentication credentials not found.")
		return
	}
	o, ok := h.objects[r.PathValue("object")]
	if !ok {
		hubError(w, http.StatusBadRequest, "VALIDATION_ERROR", "Unable to infer object type from: "+r.PathValue("object"))
		return
	}
	if h.fault(w, o.data) {
		return
	}
	var body struct {
		FilterGroups []struct {
			Filters []struct {
				PropertyName, Operator, Value string
			}
		}
		Sorts []string // HubSpot's spec types sorts as strings (property names)
		Limit int
		After string
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		hubError(w, http.StatusBadRequest, "VALIDATION_ERROR", "Invalid input JSON")
		return
	}
	if len(body.Sorts) != 1 || body.Sorts[0] != o.modified {
		hubError(w, http.StatusBadRequest, "VALIDATION_ERROR", "sorts must be [\""+o.modified+"\"]")
		return
	}
	var since time.Time
	inclusive := false
	for _, g := range body.FilterGroups {
		for _, f := range g.Filters {
			ms, err := strconv.ParseInt(f.Value, 10, 64)
			if f.PropertyName != o.modified || err != nil || (f.Operator != "GTE" && f.Operator != "GT") {
				hubError(w, http.StatusBadRequest, "VALIDATION_ERROR", "unsupported filter "+f.PropertyName+" "+f.Operator)
				return
			}
			since, inclusive = time.UnixMilli(ms).UTC(), f.Operator == "GTE"
		}
	}
	o.data.SawSince(since)
	limit := body.Limit
	if limit < 1 || limit > 200 {
		limit = 10
	}
	offset, _ := strconv.Atoi(strings.TrimSpace(body.After))
	if offset+limit > 10_000 {
		hubError(w, http.StatusBadRequest, "VALIDATION_ERROR", "There was a problem with the request.")
		return
	}
	recs := o.data.Since(since, inclusive)
	out := h.page(r, o, recs, offset, limit)
	out["total"] = len(recs)
	writeJSON(w, out)
}
