package connectortest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Gainsight PX, following the shapes of its REST API
// (https://support.gainsight.com/PX/API_for_Developers/02Usage_of_Different_APIs/Work_with_the_Gainsight_PX_REST_API
// and the Swagger document at https://px-apidocs.gainsight.com/):
//   - the API key in the X-APTRINSIC-API-KEY header; regional hosts
//     api.aptrinsic.com, api-eu.aptrinsic.com and api-us2.aptrinsic.com, /v1;
//   - list calls take pageSize (default 25, at most 1000) and the scrollId
//     of the previous answer; clients scroll until a page is shorter than
//     pageSize, as the scrollId need not become null on the last page;
//   - GET /v1/users answers {users:[...], scrollId, totalHits} and
//     GET /v1/accounts {accounts:[...], scrollId, totalHits}, neither with
//     an updated-since filter; PX has no who-am-I, so connctl's key check
//     reads one account;
//   - GET /v1/events/custom?filter=date>=X;date<Y (semicolons join terms
//     with AND; date is epoch ms)&sort=date answers {customEvents:[...],
//     scrollId, totalHits}; a date range wider than 190 days is a 400
//     ("Exceeded date range190days");
//   - 401 for a bad key, 429 for the rate limit (about 200 requests a
//     second). The error body's shape is not documented; the fake answers
//     {"externalapierror":{"status","message"}} like connctl's unit-test fake
//     (unconfirmed), with Retry-After on a 429.
//
// The case runs the `events` source (type=custom): the users and accounts
// sources have no server-side updated-since filter (connctl compares
// lastModifiedDate client-side), so their incremental runs cannot show the
// vendor a filter. They run as Also: users over two pages of 1,000 (the
// second short), accounts exactly one full page, so the client learns the
// end from the empty page after it.
const pxNoLinks = "scroll paging by scrollId, no links"

func init() {
	register(Case{Connector: "gainsight-px", Source: "events", Params: []string{"type=custom", "from_date=2026-09-01"},
		Also:    []SourceRun{{Source: "users", Records: pxUsers}, {Source: "accounts", Records: pxAccounts}},
		Account: "api-eu.aptrinsic.com", Start: startGainsightPX,
		Suite: map[string]SuiteOptions{
			"events": {Skip: map[Check]string{ForeignLink: pxNoLinks}},
			"users":  {Skip: map[Check]string{ForeignLink: pxNoLinks}},
			"accounts": {Skip: map[Check]string{ForeignLink: pxNoLinks,
				Forward: "the fake's accounts fit one page (the next is the empty end page); users runs the same scroll code"}},
		}})
}

// The sizes of the users and accounts lists.
const (
	pxUsers    = 1200
	pxAccounts = 1000
)

var gainsightPXFilter = regexp.MustCompile(`^date>=(\d+);date<(\d+)$`)

func startGainsightPX(tb testing.TB) (*Fake, error) {
	f := &Fake{Data: NewDataset(2150, func(i int) string { return fmt.Sprintf("6f1c0a2e-%04d-4b7e-9d3a-pxevent", i) })}
	const key = "px-" + Canary + "-3e9f1b7c-0d4a-4c55-8a61-2f6d9e0b1a44"
	px := &gainsightPX{f: f, key: key}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/users", px.users)
	mux.HandleFunc("GET /v1/accounts", px.accounts)
	mux.HandleFunc("GET /v1/events/custom", px.customEvents)
	srv := Serve(tb, mux)
	f.URL = srv.URL
	f.Set = []string{"region=eu", "base_url=" + srv.URL + "/v1"}
	f.Secret, f.BadSecret = key, "px-"+Canary+"-00000000-0000-4000-8000-000000000000"
	return f, nil
}

type gainsightPX struct {
	f   *Fake
	key string
}

func gainsightPXError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"externalapierror": map[string]any{"status": code, "message": msg}})
}

func (px *gainsightPX) authorized(w http.ResponseWriter, r *http.Request) bool {
	if r.Header.Get("X-APTRINSIC-API-KEY") != px.key {
		gainsightPXError(w, http.StatusUnauthorized, "UNAUTHORIZED", "Unauthorized or bad API Key")
		return false
	}
	return true
}

// pageSize reads pageSize: default 25, 1 to 1000.
func gainsightPXPageSize(w http.ResponseWriter, r *http.Request) (int, bool) {
	v := r.URL.Query().Get("pageSize")
	if v == "" {
		return 25, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 1000 {
		gainsightPXError(w, http.StatusBadRequest, "BAD_REQUEST", "pageSize must be between 1 and 1000")
		return 0, false
	}
	return n, true
}

// scroll reads the offset a scrollId of this fake stands for.
func gainsightPXScroll(w http.ResponseWriter, r *http.Request) (int, bool) {
	v := r.URL.Query().Get("scrollId")
	if v == "" {
		return 0, true
	}
	n, err := strconv.Atoi(strings.TrimPrefix(v, "DnF1ZXJ5VGhlbkZldGNo-"))
	if err != nil || n < 0 {
		gainsightPXError(w, http.StatusBadRequest, "BAD_REQUEST", "Invalid scrollId")
		return 0, false
	}
	return n, true
}

// entityPage answers one scroll page of n entities under key, built by
// build(i). Users and accounts are not the case's dataset, so they have no
// fault switch.
func (px *gainsightPX) entityPage(w http.ResponseWriter, r *http.Request, key string, n int, build func(i int) map[string]any) {
	if !px.authorized(w, r) {
		return
	}
	size, ok := gainsightPXPageSize(w, r)
	if !ok {
		return
	}
	off, ok := gainsightPXScroll(w, r)
	if !ok {
		return
	}
	page := []map[string]any{}
	for i := min(off, n); i < min(off+size, n); i++ {
		page = append(page, build(i))
	}
	// The scrollId stays set on the last page.
	writeJSON(w, map[string]any{key: page, "scrollId": fmt.Sprintf("DnF1ZXJ5VGhlbkZldGNo-%d", off+len(page)), "totalHits": n})
}

// pxModified is when user or account i was last modified: a minute apart,
// the last one at Base.
func pxModified(i, n int) int64 { return Base.Add(-time.Duration(n-1-i) * time.Minute).UnixMilli() }

// users is GET /v1/users.
func (px *gainsightPX) users(w http.ResponseWriter, r *http.Request) {
	px.entityPage(w, r, "users", pxUsers, func(i int) map[string]any {
		id := fmt.Sprintf("user-%04d", i+1)
		acct := "acme"
		if i%3 != 0 {
			acct = fmt.Sprintf("acct-%04d", i%(pxAccounts-1)+2)
		}
		return map[string]any{
			"aptrinsicId": fmt.Sprintf("7a3c91d2-%04d-4e21-b1f0-5c8e2a6d0f13", i+1), "identifyId": id, "type": "USER",
			"gender": "", "email": fmt.Sprintf("%s@acme.example", id), "firstName": "User", "lastName": strconv.Itoa(i + 1),
			"lastSeenDate": pxModified(i, pxUsers), "signUpDate": Base.Add(-2160 * time.Hour).UnixMilli(),
			"firstVisitDate": Base.Add(-2100 * time.Hour).UnixMilli(), "title": "", "phone": "", "score": 0, "role": "",
			"subscriptionId": "", "accountId": acct, "numberOfVisits": 3 + i%17,
			"location": map[string]any{"countryName": "Germany", "cityName": "Berlin"}, "propertyKeys": []string{"AP-XXXXXXXXXX-2"},
			"createDate": Base.Add(-2160 * time.Hour).UnixMilli(), "lastModifiedDate": pxModified(i, pxUsers),
			"customAttributes": map[string]any{"plan": "pro"}, "globalUnsubscribe": false, "sfdcContactId": "", "id": id,
		}
	})
}

// accounts is GET /v1/accounts: the users' accounts (acme first); the key
// check reads its first page with pageSize=1.
func (px *gainsightPX) accounts(w http.ResponseWriter, r *http.Request) {
	px.entityPage(w, r, "accounts", pxAccounts, func(i int) map[string]any {
		id, name := fmt.Sprintf("acct-%04d", i+1), fmt.Sprintf("Customer %d GmbH", i+1)
		if i == 0 {
			id, name = "acme", "Acme Corp"
		}
		return map[string]any{"id": id, "name": name, "trackedSubscriptionId": "", "sfdcId": "", "lastSeenDate": pxModified(i, pxAccounts),
			"dunsNumber": "", "industry": "Manufacturing", "numberOfEmployees": 50 + i, "sicCode": "", "website": "https://" + id + ".example",
			"naicsCode": "", "plan": "enterprise", "location": map[string]any{"countryName": "Germany", "cityName": "Berlin"},
			"numberOfUsers": 2, "propertyKeys": []string{"AP-XXXXXXXXXX-2"}, "createDate": Base.Add(-720 * time.Hour).UnixMilli(),
			"lastModifiedDate": pxModified(i, pxAccounts), "customAttributes": map[string]any{}, "parentGroupId": ""}
	})
}

func (px *gainsightPX) customEvents(w http.ResponseWriter, r *http.Request) {
	if !px.authorized(w, r) {
		return
	}
	switch px.f.Data.Fault() {
	case Throttle:
		w.Header().Set("Retry-After", "1")
		gainsightPXError(w, http.StatusTooManyRequests, "TOO_MANY_REQUESTS", "Rate limit exceeded")
		return
	case Fail:
		gainsightPXError(w, http.StatusInternalServerError, "INTERNAL_SERVER_ERROR", "Internal error")
		return
	}
	size, ok := gainsightPXPageSize(w, r)
	if !ok {
		return
	}
	off, ok := gainsightPXScroll(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	// The fake serves the filter and order connctl sends: one date range,
	// oldest first.
	m := gainsightPXFilter.FindStringSubmatch(q.Get("filter"))
	if m == nil || q.Get("sort") != "date" {
		gainsightPXError(w, http.StatusBadRequest, "BAD_REQUEST", "this fake serves filter=date>=X;date<Y&sort=date only")
		return
	}
	from, err1 := strconv.ParseInt(m[1], 10, 64)
	to, err2 := strconv.ParseInt(m[2], 10, 64)
	if err1 != nil || err2 != nil || to < from {
		gainsightPXError(w, http.StatusBadRequest, "BAD_REQUEST", "Invalid date filter")
		return
	}
	if to-from > (190 * 24 * time.Hour).Milliseconds() {
		gainsightPXError(w, http.StatusBadRequest, "BAD_REQUEST", "Exceeded date range190days")
		return
	}
	px.f.Data.SawSince(time.UnixMilli(from).UTC())
	var match []Record
	for _, rec := range px.f.Data.Since(time.UnixMilli(from), true) {
		if rec.Modified.UnixMilli() < to {
			match = append(match, rec)
		}
	}
	events := []map[string]any{}
	for _, rec := range match[min(off, len(match)):min(off+size, len(match))] {
		events = append(events, map[string]any{
			"eventId": rec.ID, "identifyId": fmt.Sprintf("user-%d", rec.Seq%40), "aptrinsicId": fmt.Sprintf("apt-%d", rec.Seq%40),
			"accountId": "acme", "propertyKey": "AP-XXXXXXXXXX-2", "sessionId": fmt.Sprintf("sess-%d", rec.Seq/10),
			"date": rec.Modified.UnixMilli(), "eventName": "report_exported", "globalContext": map[string]any{},
			"attributes": map[string]any{"format": "csv", "rows": 100 + rec.Seq},
		})
	}
	writeJSON(w, map[string]any{"customEvents": events, "scrollId": fmt.Sprintf("DnF1ZXJ5VGhlbkZldGNo-%d", off+len(events)), "totalHits": len(match)})
}
