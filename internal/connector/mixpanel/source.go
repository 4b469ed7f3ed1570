package mixpanel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/connctl/connctl/internal/jobrunner"
)

// exportHosts are the raw export API hosts by data residency.
// https://docs.mixpanel.com/reference/raw-event-export ; providers.md §9.
var exportHosts = map[string]string{"us": "https://data.mixpanel.com", "eu": "https://data-eu.mixpanel.com", "in": "https://data-in.mixpanel.com"}

// defaultDays is how far back a run without a checkpoint or a from_date
// parameter starts (design).
const defaultDays = 30

// The raw export API's limits, per Mixpanel's export.openapi.yaml (mixpanel/docs):
// "a rate limit of 60 queries per hour, 3 queries per second, and a maximum
// of 100 concurrent queries. If you exceed the rate limit, a 429 error will
// be returned." One request asks for up to rangeDays days, so a year of
// backfill is 13 queries, not 365.
const (
	queriesPerHour   = 60
	queriesPerSecond = 3
	rangeDays        = 30
)

// EventsSource returns the `events` source: raw events, up to 30 UTC days
// per request.
//
// From the start day to today (UTC), in ranges of up to 30 days, it GETs
// {base}/api/2.0/export?project_id={project_id}&from_date=F&to_date=T with
// Accept: text/plain and HTTP Basic {service_account_username}:
// {service_account_secret}, or {api_secret}: for a project API secret. base is base_url or the region's export host
// (data.mixpanel.com, data-eu or data-in). The answer is NDJSON, one
// {"event": name, "properties": {...}} per line; it is streamed through
// (*jobrunner.HTTP).Download and decoded line by line, so a range of any
// size is never held in memory. Each event is emitted flat: its properties
// (time, distinct_id, $insert_id, ...) with "event" added.
//
// The start day is the checkpoint (YYYY-MM-DD), else the from_date
// parameter (YYYY-MM-DD), else 30 days ago. The checkpoint is the last
// complete day fetched (the latest day before today), and the next run
// starts at it again: that day is fetched twice, for late-arriving events.
// Delivery is at least once; deduplicate on event, distinct_id, time and
// $insert_id. Dates are UTC for projects created after 2023-01-01 (older
// projects use the project's time zone).
//
// Requests are paced under the export's limits: at most 3 in any second
// (the source waits, through the client's sleep) and 60 in an hour,
// retries included. When this run has spent the hour's 60, or Mixpanel
// still answers 429 after the client's retries once at least one range is
// complete, the source stops with a *jobrunner.Partial: the completed ranges
// are kept, the checkpoint moves to the last complete day, and the next run
// resumes there.
func EventsSource() jobrunner.Source { return &events{now: time.Now} }

type events struct {
	now  func() time.Time
	pace *pacer // nil: a fresh one per run (tests give one with queries spent)
}

func (s *events) Fetch(ctx context.Context, req jobrunner.Request, emit func(jobrunner.Record) error) (string, error) {
	base, err := exportBase(req.Fields)
	if err != nil {
		return "", err
	}
	project := req.Fields["project_id"]
	if project == "" {
		return "", &jobrunner.Failure{Reason: jobrunner.ReasonConfig, Message: "mixpanel: project_id is not set"}
	}
	auth, err := basicAuth(req)
	if err != nil {
		return "", err
	}

	today := s.now().UTC().Truncate(24 * time.Hour)
	start := today.AddDate(0, 0, -defaultDays)
	switch {
	case req.Since != "":
		if start, err = time.Parse(time.DateOnly, req.Since); err != nil {
			return "", &jobrunner.Failure{Reason: jobrunner.ReasonConfig, Message: fmt.Sprintf("mixpanel: checkpoint %q is not a YYYY-MM-DD day", req.Since)}
		}
	case req.Params["from_date"] != "":
		if start, err = time.Parse(time.DateOnly, req.Params["from_date"]); err != nil {
			return "", &jobrunner.Failure{Reason: jobrunner.ReasonConfig, Message: fmt.Sprintf("mixpanel: from_date %q is not a YYYY-MM-DD day", req.Params["from_date"])}
		}
	}
	if start.After(today) {
		return "", &jobrunner.Failure{Reason: jobrunner.ReasonConfig, Message: fmt.Sprintf("mixpanel: start day %s is after today (%s, UTC)", start.Format(time.DateOnly), today.Format(time.DateOnly))}
	}
	h := req.HTTP.WithExplain(explain)
	pace := s.pace
	if pace == nil {
		pace = &pacer{}
	}
	pace.now, pace.sleep = s.now, h.Sleep
	stats := h.Stats()
	checkpoint := req.Since
	completed := 0
	for from := start; !from.After(today); {
		to := from.AddDate(0, 0, rangeDays-1)
		if to.After(today) {
			to = today
		}
		f, t := from.Format(time.DateOnly), to.Format(time.DateOnly)
		if ok, err := pace.take(ctx); err != nil {
			return "", err
		} else if !ok && completed == 0 {
			// Nothing kept yet: a failure leaves the last output alone.
			return "", &jobrunner.Failure{Reason: jobrunner.ReasonRateLimit, Message: fmt.Sprintf(
				"mixpanel: this run used the export API's %d queries an hour before %s was complete; run again after the hour", queriesPerHour, f)}
		} else if !ok {
			return checkpoint, &jobrunner.Partial{Reason: jobrunner.ReasonRateLimit, Message: fmt.Sprintf(
				"mixpanel: stopped before %s: this run used the export API's %d queries an hour; the next run resumes from %s", f, queriesPerHour, resumeDay(checkpoint, f))}
		}
		u := base + "/api/2.0/export?" + url.Values{"project_id": {project}, "from_date": {f}, "to_date": {t}}.Encode()
		r, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return "", &jobrunner.Failure{Reason: jobrunner.ReasonConfig, Message: "mixpanel: bad URL: " + err.Error()}
		}
		r.Header.Set("Authorization", auth)
		r.Header.Set("Accept", "text/plain")
		retries := stats.Retries.Load()
		err = stream(ctx, h, r, f+".."+t, emit)
		pace.spent(int(stats.Retries.Load() - retries)) // each retry was a query too
		var fl *jobrunner.Failure
		if err != nil && completed > 0 && ctx.Err() == nil && errors.As(err, &fl) && fl.Reason == jobrunner.ReasonRateLimit {
			return checkpoint, &jobrunner.Partial{Reason: jobrunner.ReasonRateLimit, Message: fmt.Sprintf(
				"mixpanel: stopped at %s..%s: %s; the next run resumes from %s", f, t, fl.Message, resumeDay(checkpoint, f))}
		}
		if err != nil {
			return "", err
		}
		completed++
		// The last complete day of this range: today is never complete.
		if to.Before(today) {
			checkpoint = t
		} else if from.Before(today) {
			checkpoint = today.AddDate(0, 0, -1).Format(time.DateOnly)
		}
		from = to.AddDate(0, 0, 1)
	}
	return checkpoint, nil
}

// resumeDay is the day the next run starts at: the checkpoint, or the first
// day not fetched when there is none yet.
func resumeDay(checkpoint, next string) string {
	if checkpoint == "" {
		return next
	}
	return checkpoint
}

// pacer keeps one run's requests under the export API's limits.
type pacer struct {
	now   func() time.Time
	sleep func(context.Context, time.Duration) error
	sent  []time.Time // the queries of the last hour, oldest first
}

// take reserves a query: it waits while 3 were sent in the last second, and
// says false when 60 were sent in the last hour (the run should stop rather
// than wait for up to an hour).
func (p *pacer) take(ctx context.Context) (bool, error) {
	now := p.now()
	p.forget(now)
	if len(p.sent) >= queriesPerHour {
		return false, nil
	}
	if n := len(p.sent); n >= queriesPerSecond {
		if d := p.sent[n-queriesPerSecond].Add(time.Second).Sub(now); d > 0 {
			if err := p.sleep(ctx, d); err != nil {
				return false, err
			}
			now = now.Add(d)
		}
	}
	p.sent = append(p.sent, now)
	return true, nil
}

// spent counts n more queries sent now (the client's retries).
func (p *pacer) spent(n int) {
	now := p.now()
	for range n {
		p.sent = append(p.sent, now)
	}
}

func (p *pacer) forget(now time.Time) {
	i := 0
	for i < len(p.sent) && !p.sent[i].After(now.Add(-time.Hour)) {
		i++
	}
	p.sent = p.sent[i:]
}

// stream downloads one range of days and emits its events as they arrive.
func stream(ctx context.Context, h *jobrunner.HTTP, r *http.Request, day string, emit func(jobrunner.Record) error) error {
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := h.Download(ctx, r, pw)
		if err != nil {
			pw.CloseWithError(err)
		} else {
			pw.Close()
		}
		done <- err
	}()
	err := decode(pr, day, emit)
	pr.CloseWithError(errStopped) // unblocks the download when decode stopped early
	dlErr := <-done
	switch {
	case err == nil:
		return dlErr
	case dlErr != nil && errors.Is(err, dlErr):
		return dlErr // the download failed; decode only saw it
	}
	return err
}

var errStopped = errors.New("stopped reading")

// decode reads NDJSON events from rd.
func decode(rd io.Reader, day string, emit func(jobrunner.Record) error) error {
	dec := json.NewDecoder(rd)
	dec.UseNumber()
	for n := 1; ; n++ {
		var line struct {
			Event      *string          `json:"event"`
			Properties jobrunner.Record `json:"properties"`
		}
		err := dec.Decode(&line)
		if err == io.EOF {
			return nil
		}
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		if errors.As(err, &se) || errors.As(err, &te) || errors.Is(err, io.ErrUnexpectedEOF) {
			return &jobrunner.Failure{Reason: jobrunner.ReasonSourceError, Message: fmt.Sprintf("mixpanel: export of %s: event %d: malformed JSON: %v", day, n, err)}
		}
		if err != nil {
			return err // from the download, through the pipe
		}
		if line.Event == nil || line.Properties == nil {
			return &jobrunner.Failure{Reason: jobrunner.ReasonSourceError, Message: fmt.Sprintf("mixpanel: export of %s: event %d has no event or properties", day, n)}
		}
		rec := make(jobrunner.Record, len(line.Properties)+1)
		for k, v := range line.Properties {
			rec[k] = v
		}
		rec["event"] = *line.Event
		if err := emit(rec); err != nil {
			return err
		}
	}
}

func exportBase(fields map[string]string) (string, error) {
	if b := strings.TrimRight(fields["base_url"], "/"); b != "" {
		return b, nil
	}
	region := fields["region"]
	if region == "" {
		region = "us"
	}
	b, ok := exportHosts[region]
	if !ok {
		return "", &jobrunner.Failure{Reason: jobrunner.ReasonConfig, Message: fmt.Sprintf("mixpanel: region %q is not us, eu or in", region)}
	}
	return b, nil
}

// explain adds Mixpanel's error text ({"request": ..., "error": "..."}) to
// a failed answer.
func explain(_ int, body []byte, _ http.Header, f *jobrunner.Failure) *jobrunner.Failure {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil || e.Error == "" {
		return nil
	}
	msg := strings.Join(strings.Fields(e.Error), " ")
	if len(msg) > 200 {
		msg = msg[:200] + "..."
	}
	return &jobrunner.Failure{Reason: f.Reason, Message: f.Message + ": " + msg}
}
