package connectortest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// SurveyMonkey (API v3), following its documented shapes
// (https://api.surveymonkey.com/v3/docs):
//   - private app: the app's access token as a Bearer token; who-am-I
//     GET /v3/users/me answers {id, username, email, account_type, ...}
//     (https://api.surveymonkey.com/v3/docs#users-me);
//   - OAuth (public app): /oauth/authorize, then POST /oauth/token with
//     client_id, client_secret, code, redirect_uri and grant_type in the form;
//     the answer carries access_url, the data centre's API host, and no
//     refresh token: the access token is long-lived. There is no revocation
//     endpoint (the user removes the app under My Account > Linked Accounts)
//     (https://api.surveymonkey.com/v3/docs#authentication);
//   - GET /v3/surveys?page&per_page (at most 1,000)&sort_by (title,
//     date_modified or num_responses; default date_modified)&sort_order
//     (ASC or DESC; default DESC)&start_modified_at&end_modified_at&include=
//     (response_count, date_created, date_modified, language,
//     question_count, analyze_url, preview: without it a survey is id,
//     title, nickname and href; its dates are UTC without an offset) and
//     GET /v3/surveys/{id}/responses/bulk?per_page (at most 100)&sort_by=
//     date_modified&sort_order=ASC&start_modified_at=YYYY-MM-DDTHH:MM:SS
//     (UTC; items modified after it) answer {data, per_page, page, total,
//     links:{self, prev, next, last}}
//     (https://api.surveymonkey.com/v3/docs#api-endpoints-get-surveys,
//     https://api.surveymonkey.com/v3/docs#api-endpoints-get-surveys-id-responses-bulk);
//   - errors {error:{id, name, docs, message, http_status_code}}: 1011 bad
//     token (401), 1002 bad request, 1020 not found, 1040 rate limit (429,
//     with the X-Ratelimit-App-Global-* headers), 1050 internal error (500)
//     (https://api.surveymonkey.com/v3/docs#error-codes,
//     https://api.surveymonkey.com/v3/docs#request-and-response-limits).
//
// The cases run the `responses` source: the dataset's records are the
// responses, split between the first two surveys. The `surveys` source
// runs as Also: the account's five surveys (one page: the source asks for
// 1,000 a page), again from start_modified_at on the second run.
func init() {
	also := []SourceRun{{Source: "surveys", Records: len(surveyMonkeySurveys)}}
	onePage := "the account's five surveys fit one page; responses pages through the same links.next code"
	suite := map[string]SuiteOptions{"surveys": {Skip: map[Check]string{Paging: onePage, Forward: onePage}}}
	register(
		Case{Connector: "surveymonkey", Auth: "private_app", Source: "responses", Also: also, Account: "survey-admin@acme.example", Suite: suite, Start: startSurveyMonkey("private_app")},
		Case{Connector: "surveymonkey", Auth: "oauth2", Source: "responses", Also: also, Account: "survey-admin@acme.example", Revocable: false, Suite: suite, Start: startSurveyMonkey("oauth2")},
	)
}

// smSurvey is one of the account's surveys.
type smSurvey struct {
	id, title, language string
	questions           int
	created, modified   time.Time
}

// surveyMonkeySurveys are the account's surveys; response i belongs to
// survey i % surveyMonkeyAnswered, the others have none (drafts, closed).
var surveyMonkeySurveys = []smSurvey{
	{"405871234", "Customer satisfaction Q3", "en", 8, Base.Add(-2000 * time.Hour), Base.Add(-300 * time.Hour)},
	{"405879876", "Onboarding feedback", "en", 5, Base.Add(-1500 * time.Hour), Base.Add(-200*time.Hour + 17*time.Second)},
	{"405880012", "Kundenzufriedenheit 2026", "de", 12, Base.Add(-900 * time.Hour), Base.Add(-150 * time.Hour)},
	{"405880345", "Webinar follow-up (draft)", "en", 3, Base.Add(-100 * time.Hour), Base.Add(-50*time.Hour + 3*time.Second)},
	{"405881777", "Product roadmap poll", "fr", 4, Base.Add(-80 * time.Hour), Base.Add(-10 * time.Hour)},
}

// surveyMonkeyAnswered is how many surveys (the first) have responses.
const surveyMonkeyAnswered = 2

// surveyMonkeyIncludes are the optional survey fields of include=.
var surveyMonkeyIncludes = []string{"response_count", "date_created", "date_modified", "language", "question_count", "analyze_url", "preview"}

func startSurveyMonkey(auth string) func(testing.TB) (*Fake, error) {
	return func(tb testing.TB) (*Fake, error) {
		f := &Fake{Data: NewDataset(250, func(i int) string { return strconv.Itoa(118000000000 + i) })}
		const token = "smpat-" + Canary + "-5kq2Vd8x"
		if auth == "oauth2" {
			f.OAuth = &OAuth{ClientID: "sm-client-7Hc2", ClientSecret: "sm-secret-" + Canary, ClientAuth: "params", Prefix: "sm",
				NoRefresh: true, NoExpiry: true,
				Extra: func(*http.Request) map[string]any { return map[string]any{"access_url": f.URL} }}
		}
		s := &surveyMonkey{f: f, token: token}
		mux := http.NewServeMux()
		mux.HandleFunc("GET /v3/users/me", func(w http.ResponseWriter, r *http.Request) {
			if !s.authorized(r) {
				surveyMonkeyError(w, http.StatusUnauthorized, "1011", "Authorization Error", "The authorization token provided was invalid.")
				return
			}
			writeJSON(w, map[string]any{"id": "162034587", "username": "survey-admin", "first_name": "Sam", "last_name": "Admin",
				"email": "survey-admin@acme.example", "email_verified": true, "account_type": "enterprise", "language": "en",
				"date_created": "2019-03-14T09:21:00+00:00", "date_last_login": "2026-11-20T08:02:11.312000+00:00",
				"scopes": map[string]any{"available": []string{"users_read", "surveys_read", "responses_read", "responses_read_detail"},
					"granted": []string{"users_read", "surveys_read", "responses_read", "responses_read_detail"}},
				"sso_connections": []any{}, "href": "http://" + r.Host + "/v3/users/162034587"})
		})
		mux.HandleFunc("GET /v3/surveys", s.surveys)
		mux.HandleFunc("GET /v3/surveys/{id}/responses/bulk", s.responses)
		if o := f.OAuth; o != nil {
			mux.HandleFunc("GET /oauth/authorize", o.Authorize)
			mux.HandleFunc("POST /oauth/token", o.Token)
		}
		srv := Serve(tb, mux)
		f.URL = srv.URL
		if auth == "oauth2" {
			// No base_url and no userinfo_url: the API base and the
			// who-am-I come from the token answer's access_url.
			f.Set = []string{"auth=oauth2", "client_id=" + f.OAuth.ClientID,
				"auth_url=" + srv.URL + "/oauth/authorize", "token_url=" + srv.URL + "/oauth/token"}
			f.Secret, f.SecretField = f.OAuth.ClientSecret, "client_secret"
		} else {
			f.Set = []string{"auth=private_app", "base_url=" + srv.URL}
			f.Secret, f.BadSecret = token, "smpat-"+Canary+"-00000000"
		}
		return f, nil
	}
}

type surveyMonkey struct {
	f     *Fake
	token string
}

func (s *surveyMonkey) authorized(r *http.Request) bool {
	if s.f.OAuth != nil {
		return s.f.OAuth.Bearer(r, "Bearer")
	}
	return r.Header.Get("Authorization") == "Bearer "+s.token
}

func surveyMonkeyError(w http.ResponseWriter, status int, id, name, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"id": id, "name": name,
		"docs": "https://developer.surveymonkey.com/api/v3/#error-codes", "message": msg, "http_status_code": status}})
}

// begin checks the token and the fault switches of a data request; it
// reports whether the request may go on.
func (s *surveyMonkey) begin(w http.ResponseWriter, r *http.Request) bool {
	if !s.authorized(r) {
		surveyMonkeyError(w, http.StatusUnauthorized, "1011", "Authorization Error", "The authorization token provided was invalid.")
		return false
	}
	switch s.f.Data.Fault() {
	case Throttle:
		w.Header().Set("X-Ratelimit-App-Global-Minute-Limit", "120")
		w.Header().Set("X-Ratelimit-App-Global-Minute-Remaining", "0")
		w.Header().Set("X-Ratelimit-App-Global-Minute-Reset", "1")
		w.Header().Set("Retry-After", "1")
		surveyMonkeyError(w, http.StatusTooManyRequests, "1040", "Rate Limit Reached", "Too many requests were made, try again later.")
		return false
	case Fail:
		surveyMonkeyError(w, http.StatusInternalServerError, "1050", "Internal Server Error", "Oh bananas! We couldn't process your request.")
		return false
	}
	return true
}

// paging reads page (from 1) and per_page (default 50, at most max).
func surveyMonkeyPaging(w http.ResponseWriter, q url.Values, max int) (page, perPage int, ok bool) {
	page, perPage = 1, 50
	var err error
	if v := q.Get("page"); v != "" {
		if page, err = strconv.Atoi(v); err != nil || page < 1 {
			surveyMonkeyError(w, http.StatusBadRequest, "1002", "Bad Request", "Invalid value for page.")
			return 0, 0, false
		}
	}
	if v := q.Get("per_page"); v != "" {
		if perPage, err = strconv.Atoi(v); err != nil || perPage < 1 || perPage > max {
			surveyMonkeyError(w, http.StatusBadRequest, "1002", "Bad Request", "Invalid value for per_page: at most "+strconv.Itoa(max)+".")
			return 0, 0, false
		}
	}
	return page, perPage, true
}

// envelope is the paged answer for items [0, total) on page, with links
// that keep the request's other parameters.
func surveyMonkeyEnvelope(r *http.Request, data []map[string]any, page, perPage, total int) map[string]any {
	link := func(p int) string {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(p))
		q.Set("per_page", strconv.Itoa(perPage))
		return "http://" + r.Host + r.URL.Path + "?" + q.Encode()
	}
	last := max(1, (total+perPage-1)/perPage)
	links := map[string]any{"self": link(page), "last": link(last)}
	if page > 1 {
		links["prev"] = link(page - 1)
	}
	if page < last {
		links["next"] = link(page + 1)
	}
	if data == nil {
		data = []map[string]any{}
	}
	return map[string]any{"data": data, "per_page": perPage, "page": page, "total": total, "links": links}
}

// surveys is GET /v3/surveys: the responses source reads every survey's id
// from it, the surveys source the surveys changed since its checkpoint.
func (s *surveyMonkey) surveys(w http.ResponseWriter, r *http.Request) {
	if !s.begin(w, r) {
		return
	}
	q := r.URL.Query()
	page, perPage, ok := surveyMonkeyPaging(w, q, 1000)
	if !ok {
		return
	}
	// The window: modified after start_modified_at, before end_modified_at.
	var after, before time.Time
	for _, b := range []struct {
		name string
		t    *time.Time
	}{{"start_modified_at", &after}, {"end_modified_at", &before}} {
		if v := q.Get(b.name); v != "" {
			t, err := time.Parse("2006-01-02T15:04:05", v)
			if err != nil {
				surveyMonkeyError(w, http.StatusBadRequest, "1002", "Bad Request", "Invalid value for "+b.name+".")
				return
			}
			*b.t = t.UTC()
		}
	}
	sortBy, order := q.Get("sort_by"), q.Get("sort_order")
	if sortBy == "" {
		sortBy = "date_modified"
	}
	if order == "" {
		order = "DESC"
	}
	if (sortBy != "title" && sortBy != "date_modified" && sortBy != "num_responses") || (order != "ASC" && order != "DESC") {
		surveyMonkeyError(w, http.StatusBadRequest, "1002", "Bad Request", "Invalid value for sort_by or sort_order.")
		return
	}
	counts := make([]int, len(surveyMonkeySurveys))
	for _, rec := range s.f.Data.All() {
		counts[rec.Seq%surveyMonkeyAnswered]++
	}
	var match []int
	for k, sv := range surveyMonkeySurveys {
		if (after.IsZero() || sv.modified.After(after)) && (before.IsZero() || sv.modified.Before(before)) {
			match = append(match, k)
		}
	}
	less := func(k, l int) bool { // survey k before l in ascending order
		switch sortBy {
		case "title":
			return surveyMonkeySurveys[k].title < surveyMonkeySurveys[l].title
		case "num_responses":
			return counts[k] < counts[l]
		}
		return surveyMonkeySurveys[k].modified.Before(surveyMonkeySurveys[l].modified)
	}
	sort.SliceStable(match, func(a, b int) bool {
		if order == "DESC" {
			return less(match[b], match[a])
		}
		return less(match[a], match[b])
	})
	include := map[string]bool{}
	for _, v := range strings.Split(q.Get("include"), ",") {
		include[strings.TrimSpace(v)] = true // values it does not know are left out
	}
	var data []map[string]any
	for i := (page - 1) * perPage; i < min(page*perPage, len(match)); i++ {
		k := match[i]
		sv := surveyMonkeySurveys[k]
		item := map[string]any{"id": sv.id, "title": sv.title, "nickname": "", "href": "http://" + r.Host + "/v3/surveys/" + sv.id}
		extra := map[string]any{"response_count": counts[k], "date_created": sv.created.UTC().Format("2006-01-02T15:04:05"),
			"date_modified": sv.modified.UTC().Format("2006-01-02T15:04:05"), "language": sv.language, "question_count": sv.questions,
			"analyze_url": "https://www.surveymonkey.com/analyze/" + sv.id, "preview": "https://www.surveymonkey.com/r/Preview/?sm=" + sv.id}
		for _, f := range surveyMonkeyIncludes {
			if include[f] {
				item[f] = extra[f]
			}
		}
		data = append(data, item)
	}
	writeJSON(w, surveyMonkeyEnvelope(r, data, page, perPage, len(match)))
}

func (s *surveyMonkey) responses(w http.ResponseWriter, r *http.Request) {
	if !s.begin(w, r) {
		return
	}
	survey := -1
	for i, sv := range surveyMonkeySurveys {
		if sv.id == r.PathValue("id") {
			survey = i
		}
	}
	if survey < 0 {
		surveyMonkeyError(w, http.StatusNotFound, "1020", "Resource Not Found", "There was an error retrieving the requested resource.")
		return
	}
	q := r.URL.Query()
	page, perPage, ok := surveyMonkeyPaging(w, q, 100)
	if !ok {
		return
	}
	if q.Get("sort_by") != "date_modified" || q.Get("sort_order") != "ASC" {
		// The fake serves the order the source asks for only.
		surveyMonkeyError(w, http.StatusBadRequest, "1002", "Bad Request", "this fake serves sort_by=date_modified&sort_order=ASC only")
		return
	}
	var since time.Time
	if v := q.Get("start_modified_at"); v != "" {
		t, err := time.Parse("2006-01-02T15:04:05", v)
		if err != nil {
			surveyMonkeyError(w, http.StatusBadRequest, "1002", "Bad Request", "Invalid value for start_modified_at.")
			return
		}
		since = t.UTC()
		s.f.Data.SawSince(since)
	}
	var mine []Record
	for _, rec := range s.f.Data.Since(since, false) {
		if rec.Seq%surveyMonkeyAnswered == survey {
			mine = append(mine, rec)
		}
	}
	var data []map[string]any
	for i := (page - 1) * perPage; i < min(page*perPage, len(mine)); i++ {
		data = append(data, surveyMonkeyResponse(r, surveyMonkeySurveys[survey].id, mine[i]))
	}
	writeJSON(w, surveyMonkeyEnvelope(r, data, page, perPage, len(mine)))
}

func surveyMonkeyResponse(r *http.Request, survey string, rec Record) map[string]any {
	const layout = "2006-01-02T15:04:05+00:00"
	return map[string]any{
		"id": rec.ID, "survey_id": survey, "collector_id": "251934567", "recipient_id": "", "collection_mode": "default",
		"response_status": "completed", "custom_value": "", "first_name": "", "last_name": "", "email_address": "",
		"ip_address": "192.0.2.15", "total_time": 95, "custom_variables": map[string]any{}, "logic_path": map[string]any{},
		"metadata": map[string]any{}, "page_path": []any{},
		"date_created": Base.Add(-24 * time.Hour).UTC().Format(layout), "date_modified": rec.Modified.UTC().Format(layout),
		"edit_url":    "https://www.surveymonkey.com/r/?sm=" + rec.ID,
		"analyze_url": "https://www.surveymonkey.com/analyze/browse/" + survey + "?respondent_id=" + rec.ID,
		"href":        "http://" + r.Host + "/v3/surveys/" + survey + "/responses/" + rec.ID,
		"pages": []any{map[string]any{"id": "38164120", "questions": []any{map[string]any{"id": "91839274",
			"answers": []any{map[string]any{"choice_id": "643872091"}}}}}},
	}
}
