package connectortest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// Mixpanel, following its documented shapes:
//   - a service account signs in with HTTP Basic {username}:{secret}; who-am-I
//     is GET /api/app/me on the application API, answering {status: "ok",
//     results: {user_id, user_name, projects: {id: {...}}, ...}}
//     (https://developer.mixpanel.com/reference/service-accounts);
//   - the raw event export: GET /api/2.0/export?project_id=&from_date=
//     &to_date= (yyyy-mm-dd, both inclusive, UTC for projects created after
//     2023-01-01; optional event (a JSON array of names), limit (at most
//     100,000) and time_in_ms), answering newline-delimited JSON, one
//     {"event", "properties": {time, distinct_id, $insert_id,
//     mp_processing_time_ms, ...}} per line, with time in seconds
//     (https://docs.mixpanel.com/reference/raw-event-export,
//     https://docs.mixpanel.com/reference/raw-data-export-api-authentication);
//   - errors {"request": path?query, "error": text}; over the rate limit (60
//     queries an hour, 3 a second, 100 concurrent) a 429
//     (https://docs.mixpanel.com/reference/rate-limits), which documents no
//     Retry-After: clients back off.
//
// The export's only filter is the day range, so every export request
// carries the incremental filter (SawSince gets from_date's midnight), and
// connctl's "pages" are ranges of up to 30 days (paced under the limit
// above), from the start day to today. Its checkpoint is the last complete
// day (yesterday), fetched again on the next run with today.
//
// Touch does not fit an event store exactly. Mixpanel events are immutable:
// nothing is "modified"; what is new since the last run is the events whose
// time falls after it. This fake models a touched record as its event now
// carrying the current time (as if tracked again now with the same
// $insert_id), so the next incremental run finds it in today's export. A
// real project would keep the old event too (a different time is a
// different event to Mixpanel's deduplication), and the fake does not, so
// that a full export still holds Data.Len() events. The driver's bound (the
// touched records and at most 2 more) holds only because the dataset puts
// a single event on yesterday and on today: an incremental run re-exports
// whole days (yesterday and today), whatever changed. The dataset spans
// 34 days (today-33 to today), so a full run makes two data requests.
//
// The project API secret (the api_secret method, deprecated by Mixpanel and
// retired on 2027-03-03) signs in with HTTP Basic {api_secret}: and an
// empty password (https://docs.mixpanel.com/reference/project-secret); it
// reaches the export API but not /api/app/me, so its check is a one-event
// export of today (limit=1) and its account is the project.
// mpSuite: the export is one NDJSON stream per date range, no links.
var mpSuite = map[string]SuiteOptions{"events": {Skip: map[Check]string{ForeignLink: "one NDJSON stream per date range, no links",
	MissingCursor: "the checkpoint is the last complete day exported, not an event's properties.time: an event without it moves nothing"}}}

func init() {
	register(
		Case{Connector: "mixpanel", Auth: "service_account", Source: "events", Params: []string{"from_date=" + mpFromDate(time.Now())},
			Account: mpUser, Suite: mpSuite, Start: func(tb testing.TB) (*Fake, error) { return startMixpanel(tb, false) }},
		Case{Connector: "mixpanel", Auth: "api_secret", Source: "events", Params: []string{"from_date=" + mpFromDate(time.Now())},
			Account: "project " + mpProject, Suite: mpSuite, Start: func(tb testing.TB) (*Fake, error) { return startMixpanel(tb, true) }},
	)
}

const (
	mpUser    = "export.a1b2c3.mp-service-account"
	mpProject = "1234567"
	// mpDays is how many days before today the dataset starts: more than
	// the source's 30 days a query, so that a full run is two queries.
	mpDays = 33
)

// mpFromDate is the job's from_date: the dataset's first day.
func mpFromDate(now time.Time) string {
	return now.UTC().Truncate(24*time.Hour).AddDate(0, 0, -mpDays).Format(time.DateOnly)
}

// mpDataset is 40 events: 20 on today-33, 18 on today-2, one on yesterday
// and one today, the older ones spread over the day.
func mpDataset(now time.Time) *Dataset {
	today := now.UTC().Truncate(24 * time.Hour)
	d := &Dataset{}
	add := func(day time.Time, n int, step time.Duration) {
		for k := range n {
			i := len(d.recs)
			d.recs = append(d.recs, Record{ID: fmt.Sprintf("5f1c%04d-9a2e-4d0b-b7c3-e1f0a8d26c%02d", 3100+i, i), Seq: i,
				Modified: day.Add(7*time.Hour + time.Duration(k)*step + time.Duration(i)*time.Second)})
		}
	}
	add(today.AddDate(0, 0, -mpDays), 20, 37*time.Minute)
	add(today.AddDate(0, 0, -2), 18, 41*time.Minute)
	add(today.AddDate(0, 0, -1), 1, 0)
	// Today's event at midnight plus a few seconds, so that it is not in
	// the future whenever the suite runs.
	d.recs = append(d.recs, Record{ID: "5f1c3139-9a2e-4d0b-b7c3-e1f0a8d26c39", Seq: len(d.recs), Modified: today.Add(5 * time.Second)})
	return d
}

var mpEvents = []string{"Signed Up", "Viewed Page", "Added To Cart", "Purchased"}

func startMixpanel(tb testing.TB, projectSecret bool) (*Fake, error) {
	secret := "mp-sa-" + Canary + "-Wq4n7Zt2"
	if projectSecret {
		secret = "mp-ps-" + Canary + "-9c1f0d2e"
	}
	f := &Fake{Data: mpDataset(time.Now()), Secret: secret, BadSecret: "mp-sa-" + Canary + "-0bsolete"}
	authorized := func(r *http.Request) bool {
		user, pass, ok := r.BasicAuth()
		if projectSecret {
			return ok && user == secret && pass == ""
		}
		return ok && user == mpUser && pass == secret
	}
	mpError := func(w http.ResponseWriter, r *http.Request, status int, msg string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		writeJSONBody(w, map[string]string{"request": r.URL.RequestURI(), "error": msg})
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/app/me", func(w http.ResponseWriter, r *http.Request) {
		if !authorized(r) || projectSecret { // a project secret is no user
			mpError(w, r, http.StatusUnauthorized, "Invalid credentials.")
			return
		}
		writeJSON(w, map[string]any{"status": "ok", "results": map[string]any{
			"user_id": 4811162, "user_name": mpUser,
			"organizations": map[string]any{"901234": map[string]any{"id": 901234, "name": "Acme", "role": "analyst"}},
			"projects": map[string]any{mpProject: map[string]any{"id": 1234567, "name": "Acme Web", "organization_id": 901234,
				"timezone": "UTC", "domain": "eu.mixpanel.com", "role": map[string]any{"name": "Analyst"}}},
			"workspaces": map[string]any{"3456789": map[string]any{"id": 3456789, "name": "All Project Data", "project_id": 1234567}},
		}})
	})
	mux.HandleFunc("GET /api/2.0/export", func(w http.ResponseWriter, r *http.Request) {
		if !authorized(r) {
			mpError(w, r, http.StatusUnauthorized, "Invalid service account credentials")
			return
		}
		q := r.URL.Query()
		if q.Get("project_id") != mpProject {
			mpError(w, r, http.StatusForbidden, "service account does not have access to project "+q.Get("project_id"))
			return
		}
		switch f.Data.Fault() {
		case Throttle:
			mpError(w, r, http.StatusTooManyRequests, "Query rate limit exceeded: at most 3 queries per second, 60 per hour")
			return
		case Fail:
			mpError(w, r, http.StatusInternalServerError, "An unexpected error occurred. Please try again.")
			return
		}
		from, err1 := time.Parse(time.DateOnly, q.Get("from_date"))
		to, err2 := time.Parse(time.DateOnly, q.Get("to_date"))
		switch {
		case err1 != nil:
			mpError(w, r, http.StatusBadRequest, "'from_date' is a required parameter in yyyy-mm-dd format")
			return
		case err2 != nil:
			mpError(w, r, http.StatusBadRequest, "'to_date' is a required parameter in yyyy-mm-dd format")
			return
		case to.Before(from):
			mpError(w, r, http.StatusBadRequest, "'to_date' must be on or after 'from_date'")
			return
		case q.Get("where") != "":
			mpError(w, r, http.StatusBadRequest, "this fake does not evaluate where expressions")
			return
		}
		limit := 100_000
		if s := q.Get("limit"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > 100_000 {
				mpError(w, r, http.StatusBadRequest, "'limit' must be an integer from 1 to 100000")
				return
			}
			limit = n
		}
		var only map[string]bool
		if s := q.Get("event"); s != "" {
			var names []string
			if err := json.Unmarshal([]byte(s), &names); err != nil {
				mpError(w, r, http.StatusBadRequest, "'event' must be a JSON array of event names")
				return
			}
			only = map[string]bool{}
			for _, n := range names {
				only[n] = true
			}
		}
		f.Data.SawSince(from)
		end := to.AddDate(0, 0, 1)
		ms := q.Get("time_in_ms") == "true"
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		n := 0
		for _, rec := range f.Data.Since(from, true) {
			if !rec.Modified.Before(end) || n == limit {
				break
			}
			name := mpEvents[rec.Seq%len(mpEvents)]
			if only != nil && !only[name] {
				continue
			}
			t := rec.Modified.Unix()
			if ms {
				t = rec.Modified.UnixMilli()
			}
			line, _ := json.Marshal(map[string]any{"event": name, "properties": map[string]any{
				"time": t, "distinct_id": fmt.Sprintf("user-%03d", rec.Seq%17), "$insert_id": rec.ID,
				"mp_processing_time_ms": rec.Modified.Add(1500 * time.Millisecond).UnixMilli(),
				"$mp_api_endpoint":      "api-eu.mixpanel.com", "mp_lib": "web", "$browser": "Firefox", "$os": "Linux",
				"$current_url": "https://www.acme.example/pricing", "mp_country_code": "DE"}})
			_, _ = w.Write(append(line, '\n'))
			n++
		}
	})
	srv := Serve(tb, CheckSpec(tb, MixpanelExportSpec, mux))
	f.URL = srv.URL
	f.Set = []string{"project_id=" + mpProject, "region=eu", "base_url=" + srv.URL, "service_account_username=" + mpUser}
	if projectSecret {
		f.Set = []string{"auth=api_secret", "project_id=" + mpProject, "region=eu", "base_url=" + srv.URL}
	}
	return f, nil
}
