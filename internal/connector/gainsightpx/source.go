package gainsightpx

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/connctl/connctl/internal/jobrunner"
)

// Paging of the PX REST API.
// https://support.gainsight.com/PX/API_for_Developers/02Usage_of_Different_APIs/Work_with_the_Gainsight_PX_REST_API ;
// https://px-apidocs.gainsight.com/ ; providers.md §12.
const (
	pageSize = 1000 // the largest pageSize PX serves (3p: PostHog's gainsight_px source)
	// maxWindow is the widest date range of one events request: PX answers
	// 400 beyond 190 days (3p, providers.md §12).
	maxWindow = 190 * 24 * time.Hour
	// defaultEventDays is how far back an events run without a checkpoint
	// or a from_date parameter starts (design).
	defaultEventDays = 30
)

// hosts are PX's API bases by region (https://px-apidocs.gainsight.com/, Base URL).
var hosts = map[string]string{"us": "https://api.aptrinsic.com/v1", "eu": "https://api-eu.aptrinsic.com/v1", "us2": "https://api-us2.aptrinsic.com/v1"}

// eventKeys are the response keys holding the events of each type, as the
// vendor's OpenAPI spec names them (3p: PostHog's gainsight_px tests, and the
// python-gainsight-px client). lead's key is not documented anywhere found:
// results (like pageView) and leadEvents are both accepted (unconfirmed).
// segment_match answers under featureMatchEvents per the same sources;
// segmentMatchEvents is accepted too (unconfirmed).
var eventKeys = map[string][]string{
	"pageView":      {"results"},
	"session":       {"sessionInitializedEvents"},
	"identify":      {"identifyEvents"},
	"custom":        {"customEvents"},
	"feature_match": {"featureMatchEvents"},
	"segment_match": {"featureMatchEvents", "segmentMatchEvents"},
	"lead":          {"results", "leadEvents"},
}

// UsersSource returns the `users` source; see entitySource.
func UsersSource() jobrunner.Source { return &entities{path: "/users", key: "users"} }

// AccountsSource returns the `accounts` source; see entitySource.
func AccountsSource() jobrunner.Source { return &entities{path: "/accounts", key: "accounts"} }

// EventsSource returns the `events` source: the events of one type (the
// `type` parameter: pageView, session, identify, custom, feature_match,
// segment_match or lead) by date.
//
// It lists GET {base}/events/{type}?filter=date>=X;date<Y&sort=date&
// pageSize=1000[&scrollId=S] for windows of at most 190 days, from the
// checkpoint (epoch ms; else the from_date parameter, YYYY-MM-DD or epoch ms;
// else 30 days ago) to now, scrolling each window until a page has fewer than
// pageSize rows. The checkpoint is the largest `date` emitted; the filter is
// inclusive (date>=checkpoint), so events at exactly that millisecond come
// again: delivery is at least once.
func EventsSource() jobrunner.Source { return &events{now: time.Now} }

// entities lists /users or /accounts.
//
// GET {base}{path}?pageSize=1000[&scrollId=S] with the API key in
// X-APTRINSIC-API-KEY, scrolling until a page returns fewer than pageSize
// rows (scrollId does not reliably become null at the end). PX has no
// server-side updated-since filter, so every run reads everything; with a
// checkpoint, only records whose lastModifiedDate (epoch ms) is at or after
// it are emitted (records without one are always emitted, and counted in
// Stats.WithoutCursor). The checkpoint is
// the largest lastModifiedDate seen, as decimal epoch milliseconds. The
// comparison is inclusive: at-least-once, deduplicate on id.
type entities struct {
	path, key string
}

func (s *entities) Fetch(ctx context.Context, req jobrunner.Request, emit func(jobrunner.Record) error) (string, error) {
	c, err := newClient(req)
	if err != nil {
		return "", err
	}
	var since int64 = -1
	if req.Since != "" {
		if since, err = strconv.ParseInt(req.Since, 10, 64); err != nil {
			return "", &jobrunner.Failure{Reason: jobrunner.ReasonConfig, Message: fmt.Sprintf("gainsight-px: checkpoint %q is not epoch milliseconds", req.Since)}
		}
	}
	latest := since
	err = c.scroll(ctx, s.path, url.Values{}, []string{s.key}, func(r jobrunner.Record) error {
		at, ok, err := epochMillis(r["lastModifiedDate"])
		if err != nil {
			return &jobrunner.Failure{Reason: jobrunner.ReasonSourceError, Message: fmt.Sprintf("gainsight-px: %s %v: lastModifiedDate: %v", s.key, r["id"], err)}
		}
		if ok && at > latest {
			latest = at
		}
		if ok && at < since {
			return nil
		}
		if err := emit(r); err != nil {
			return err
		}
		// Written without lastModifiedDate: it cannot move the
		// checkpoint, and the run counts it.
		if !ok {
			req.HTTP.Stats().WithoutCursor.Add(1)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	if latest < 0 {
		return req.Since, nil
	}
	return strconv.FormatInt(latest, 10), nil
}

type events struct {
	now func() time.Time
}

func (s *events) Fetch(ctx context.Context, req jobrunner.Request, emit func(jobrunner.Record) error) (string, error) {
	typ := req.Params["type"]
	keys, ok := eventKeys[typ]
	if !ok {
		return "", &jobrunner.Failure{Reason: jobrunner.ReasonConfig, Message: fmt.Sprintf("gainsight-px: events: type %q is not one of pageView, session, identify, custom, feature_match, segment_match, lead", typ)}
	}
	c, err := newClient(req)
	if err != nil {
		return "", err
	}
	now := s.now().UnixMilli()
	start := s.now().AddDate(0, 0, -defaultEventDays).UnixMilli()
	switch {
	case req.Since != "":
		if start, err = strconv.ParseInt(req.Since, 10, 64); err != nil {
			return "", &jobrunner.Failure{Reason: jobrunner.ReasonConfig, Message: fmt.Sprintf("gainsight-px: checkpoint %q is not epoch milliseconds", req.Since)}
		}
	case req.Params["from_date"] != "":
		v := req.Params["from_date"]
		if t, err := time.Parse(time.DateOnly, v); err == nil {
			start = t.UnixMilli()
		} else if start, err = strconv.ParseInt(v, 10, 64); err != nil {
			return "", &jobrunner.Failure{Reason: jobrunner.ReasonConfig, Message: fmt.Sprintf("gainsight-px: from_date %q is not YYYY-MM-DD or epoch milliseconds", v)}
		}
	}
	latest := int64(-1)
	for from := start; from <= now; {
		to := min(from+maxWindow.Milliseconds(), now+1)
		q := url.Values{"filter": {fmt.Sprintf("date>=%d;date<%d", from, to)}, "sort": {"date"}}
		err := c.scroll(ctx, "/events/"+typ, q, keys, func(r jobrunner.Record) error {
			at, ok, err := epochMillis(r["date"])
			if err != nil || !ok {
				return &jobrunner.Failure{Reason: jobrunner.ReasonSourceError, Message: fmt.Sprintf("gainsight-px: %s event %v: no epoch-ms date", typ, r["eventId"])}
			}
			latest = max(latest, at)
			return emit(r)
		})
		if err != nil {
			return "", err
		}
		from = to
	}
	if latest < 0 {
		return req.Since, nil
	}
	return strconv.FormatInt(latest, 10), nil
}

// vendor names Gainsight PX in messages.
var vendor = jobrunner.Vendor{Name: "gainsight-px"}

type client struct {
	http *jobrunner.HTTP
	base string
	key  string
}

func newClient(req jobrunner.Request) (*client, error) {
	base, err := apiBase(req.Fields)
	if err != nil {
		return nil, err
	}
	key := req.Secrets["api_key"]
	if key == "" {
		return nil, &jobrunner.Failure{Reason: jobrunner.ReasonAuth, Message: "gainsight-px: api_key is not set"}
	}
	return &client{http: req.HTTP, base: base, key: key}, nil
}

// apiBase is base_url (a bare host means {host}/v1) or the region's host.
func apiBase(fields map[string]string) (string, error) {
	if b := strings.TrimRight(fields["base_url"], "/"); b != "" {
		u, err := url.Parse(b)
		if err != nil || u.Host == "" {
			return "", &jobrunner.Failure{Reason: jobrunner.ReasonConfig, Message: fmt.Sprintf("gainsight-px: base_url %q is not a URL", b)}
		}
		if u.Path == "" {
			b += "/v1"
		}
		return b, nil
	}
	region := fields["region"]
	if region == "" {
		region = "us"
	}
	b, ok := hosts[region]
	if !ok {
		return "", &jobrunner.Failure{Reason: jobrunner.ReasonConfig, Message: fmt.Sprintf("gainsight-px: region %q is not us, eu or us2", region)}
	}
	return b, nil
}

// scroll GETs path with q, pageSize and the scrollId of the previous page,
// handing each row under the first of keys present to each, until a page
// has fewer than pageSize rows.
func (c *client) scroll(ctx context.Context, path string, q url.Values, keys []string, each func(jobrunner.Record) error) error {
	scrollID := ""
	for {
		q.Set("pageSize", strconv.Itoa(pageSize))
		if scrollID != "" {
			q.Set("scrollId", scrollID)
		}
		r, err := jobrunner.JSONRequest(ctx, vendor.Name, http.MethodGet, c.base+path+"?"+q.Encode(), nil)
		if err != nil {
			return err
		}
		r.Header.Set(APIKeyHeader, c.key)
		_, _, body, err := c.http.Do(ctx, r)
		if err != nil {
			return err
		}
		rows, next, err := decodePage(body, keys)
		if err != nil {
			return &jobrunner.Failure{Reason: jobrunner.ReasonSourceError, Message: vendor.Where(r) + ": " + err.Error()}
		}
		for _, row := range rows {
			if err := each(row); err != nil {
				return err
			}
		}
		// A short page is the end; so is a full page without a scrollId
		// to continue from.
		if len(rows) < pageSize || next == "" {
			return nil
		}
		scrollID = next
	}
}

func decodePage(body []byte, keys []string) ([]jobrunner.Record, string, error) {
	var page map[string]json.RawMessage
	if err := json.Unmarshal(body, &page); err != nil {
		return nil, "", fmt.Errorf("malformed JSON: %v", err)
	}
	var raw json.RawMessage
	for _, k := range keys {
		if v, ok := page[k]; ok {
			raw = v
			break
		}
	}
	if raw == nil {
		return nil, "", fmt.Errorf("no %s in the response", strings.Join(keys, " or "))
	}
	var rows []jobrunner.Record
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&rows); err != nil {
		return nil, "", fmt.Errorf("malformed %s: %v", keys[0], err)
	}
	var next string
	if v, ok := page["scrollId"]; ok && string(v) != "null" {
		if err := json.Unmarshal(v, &next); err != nil {
			return nil, "", fmt.Errorf("scrollId is not a string")
		}
	}
	return rows, next, nil
}

// epochMillis reads an epoch-ms value; ok is false when it is absent or null.
func epochMillis(v any) (int64, bool, error) {
	switch x := v.(type) {
	case nil:
		return 0, false, nil
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n, true, nil
		}
		if f, err := x.Float64(); err == nil {
			return int64(f), true, nil
		}
	}
	return 0, false, fmt.Errorf("%v is not epoch milliseconds", v)
}
