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

// EventsSource returns the `events` source: raw events, one UTC day per
// request.
//
// For each day D from the start day to today (UTC) it GETs
// {base}/api/2.0/export?project_id={project_id}&from_date=D&to_date=D with
// Accept: text/plain and HTTP Basic {service_account_username}:
// {service_account_secret}, or {api_secret}: for a project API secret. base is base_url or the region's export host
// (data.mixpanel.com, data-eu or data-in). The answer is NDJSON, one
// {"event": name, "properties": {...}} per line; it is streamed through
// (*jobrunner.HTTP).Download and decoded line by line, so a day of any size
// is never held in memory. Each event is emitted flat: its properties
// (time, distinct_id, $insert_id, ...) with "event" added.
//
// The start day is the checkpoint (YYYY-MM-DD), else the from_date
// parameter (YYYY-MM-DD), else 30 days ago. The checkpoint is the last
// complete day fetched (the latest day before today), and the next run
// starts at it again: that day is fetched twice, for late-arriving events.
// Delivery is at least once; deduplicate on event, distinct_id, time and
// $insert_id. Dates are UTC for projects created after 2023-01-01 (older
// projects use the project's time zone).
func EventsSource() jobrunner.Source { return &events{now: time.Now} }

type events struct {
	now func() time.Time
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
	checkpoint := req.Since
	for day := start; !day.After(today); day = day.AddDate(0, 0, 1) {
		d := day.Format(time.DateOnly)
		u := base + "/api/2.0/export?" + url.Values{"project_id": {project}, "from_date": {d}, "to_date": {d}}.Encode()
		r, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return "", &jobrunner.Failure{Reason: jobrunner.ReasonConfig, Message: "mixpanel: bad URL: " + err.Error()}
		}
		r.Header.Set("Authorization", auth)
		r.Header.Set("Accept", "text/plain")
		if err := stream(ctx, h, r, d, emit); err != nil {
			return "", err
		}
		if day.Before(today) {
			checkpoint = d
		}
	}
	return checkpoint, nil
}

// stream downloads one day and emits its events as they arrive.
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
