package gainsightapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/connctl/connctl/internal/jobrunner"
)

// pageLimit is the most rows one read returns (5,000 per call).
// https://support.gainsight.com/gainsight_nxt/API_and_Developer_Docs/Company_and_Relationship_API/Company_API_Documentation ;
// https://support.gainsight.com/gainsight_nxt/API_and_Developer_Docs/Custom_Object_API/Gainsight_Custom_Object_API_Documentation
const pageLimit = 5000

// defaultFields is the select list without a fields parameter.
const defaultFields = "Gsid,Name,ModifiedDate"

// filterLayout is the form of date values in a where condition: the
// documented `yyyy-MM-dd HH:mm:ss` (3p: tap_gainsight, citing the Retrieve
// Deleted Data sample), taken to be UTC (assumed).
const filterLayout = "2006-01-02 15:04:05"

// objectName is the shape of an object API name (custom objects end in __gc).
var objectName = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

// ObjectSource returns the `object` source: the records of one MDA object
// (the `object` parameter, e.g. Company, Relationship or a custom object).
//
// It POSTs {base}/v1/data/objects/query/{object} with the access key in the
// accesskey header and the body
//
//	{"select":[fields], "where":{ModifiedDate >= checkpoint} (incremental runs only),
//	 "orderBy":{"ModifiedDate":"asc"}, "limit":5000, "offset":n}
//
// and pages by offset until a page has fewer than 5,000 rows. base is
// base_url or https://{domain}. The `fields` parameter is a comma list
// (default Gsid,Name,ModifiedDate); Gsid and ModifiedDate are always
// selected. The answer is {"result":true, "data":{"records":[...]}}; a
// result of false is a source_error carrying errorCode and errorDesc.
//
// The body's where/orderBy schema and the answer's envelope come from a 3p
// OpenAPI and 3p taps (providers.md §13: unconfirmed against the vendor
// page). ModifiedDate is read as epoch milliseconds or a date-time string.
//
// The checkpoint is the largest ModifiedDate emitted (RFC 3339, UTC, ms).
// A record whose ModifiedDate is absent or null is emitted too, leaves the
// checkpoint alone and is counted in Stats.WithoutCursor.
// The filter is inclusive and at second precision, so records modified in
// the checkpoint's second come again: at-least-once, deduplicate on Gsid.
// Offset paging over a live object can repeat or skip rows modified during
// the run; the next incremental run picks up what was skipped.
func ObjectSource() jobrunner.Source { return object{} }

// vendor names Gainsight in messages.
var vendor = jobrunner.Vendor{Name: "gainsight-api"}

type object struct{}

func (object) Fetch(ctx context.Context, req jobrunner.Request, emit func(jobrunner.Record) error) (string, error) {
	obj := req.Params["object"]
	if !objectName.MatchString(obj) {
		return "", &jobrunner.Failure{Reason: jobrunner.ReasonConfig, Message: fmt.Sprintf("gainsight-api: object %q is not an object API name (e.g. Company)", obj)}
	}
	base, err := apiBase(req.Fields)
	if err != nil {
		return "", err
	}
	key := req.Secrets["access_key"]
	if key == "" {
		return "", &jobrunner.Failure{Reason: jobrunner.ReasonAuth, Message: "gainsight-api: access_key is not set"}
	}
	body := map[string]any{
		"select":  selectList(req.Params["fields"]),
		"orderBy": map[string]string{"ModifiedDate": "asc"},
		"limit":   pageLimit,
	}
	var since time.Time
	if req.Since != "" {
		since, err = time.Parse(time.RFC3339, req.Since)
		if err != nil {
			return "", &jobrunner.Failure{Reason: jobrunner.ReasonConfig, Message: fmt.Sprintf("gainsight-api: checkpoint %q is not an RFC 3339 time", req.Since)}
		}
		body["where"] = map[string]any{
			"conditions": []map[string]any{{
				"name": "ModifiedDate", "alias": "A", "operator": "GTE",
				"value": []string{since.UTC().Format(filterLayout)},
			}},
			"expression": "A",
		}
	}
	// Records at the checkpoint's second come again (the filter is at
	// second precision): only a newer one moves the checkpoint.
	hw := jobrunner.HighWaterAbove(since)
	u := base + "/v1/data/objects/query/" + obj
	for offset := 0; ; offset += pageLimit {
		body["offset"] = offset
		b, _ := json.Marshal(body)
		r, err := jobrunner.JSONRequest(ctx, vendor.Name, http.MethodPost, u, b)
		if err != nil {
			return "", err
		}
		r.Header.Set(AccessKeyHeader, key)
		_, _, resp, err := req.HTTP.WithExplain(explain).Do(ctx, r)
		if err != nil {
			return "", err
		}
		rows, err := decodePage(resp)
		if err != nil {
			return "", &jobrunner.Failure{Reason: jobrunner.ReasonSourceError, Message: vendor.Where(r) + ": " + err.Error()}
		}
		for _, rec := range rows {
			at, ok, err := modifiedDate(rec["ModifiedDate"])
			if err != nil {
				return "", &jobrunner.Failure{Reason: jobrunner.ReasonSourceError, Message: fmt.Sprintf("gainsight-api: %s %v: %v", obj, rec["Gsid"], err)}
			}
			if err := emit(rec); err != nil {
				return "", err
			}
			// A record without ModifiedDate (the object is the user's
			// choice, a custom one may leave it null) is written all the
			// same; it cannot move the checkpoint, and the run counts it.
			if ok {
				hw.See(at)
			} else {
				req.HTTP.Stats().WithoutCursor.Add(1)
			}
		}
		if len(rows) < pageLimit {
			break
		}
	}
	return hw.Checkpoint(req.Since, "2006-01-02T15:04:05.000Z07:00"), nil
}

// selectList is the fields parameter with Gsid and ModifiedDate added.
func selectList(param string) []string {
	if strings.TrimSpace(param) == "" {
		param = defaultFields
	}
	var out []string
	seen := map[string]bool{}
	for _, f := range strings.Split(param, ",") {
		if f = strings.TrimSpace(f); f != "" && !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	for _, f := range []string{"Gsid", "ModifiedDate"} {
		if !seen[f] {
			out = append(out, f)
		}
	}
	return out
}

func apiBase(fields map[string]string) (string, error) {
	if b := strings.TrimRight(fields["base_url"], "/"); b != "" {
		return b, nil
	}
	d := strings.TrimSpace(fields["domain"])
	if d == "" {
		return "", &jobrunner.Failure{Reason: jobrunner.ReasonConfig, Message: "gainsight-api: domain is not set"}
	}
	d = strings.TrimPrefix(strings.TrimPrefix(d, "https://"), "http://")
	return "https://" + strings.TrimRight(d, "/"), nil
}

type envelope struct {
	Result    *bool  `json:"result"`
	ErrorCode string `json:"errorCode"`
	ErrorDesc string `json:"errorDesc"`
	Data      *struct {
		Records []jobrunner.Record `json:"records"`
	} `json:"data"`
}

func decodePage(b []byte) ([]jobrunner.Record, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var e envelope
	if err := dec.Decode(&e); err != nil {
		return nil, fmt.Errorf("malformed JSON: %v", err)
	}
	if e.Result == nil {
		return nil, fmt.Errorf("no result in the response")
	}
	if !*e.Result {
		return nil, fmt.Errorf("result false: %s %s", e.ErrorCode, oneLine(e.ErrorDesc))
	}
	if e.Data == nil || e.Data.Records == nil {
		return nil, fmt.Errorf("no data.records in the response")
	}
	return e.Data.Records, nil
}

// explain adds Gainsight's errorCode and errorDesc to a failed answer.
func explain(_ int, body []byte, _ http.Header, f *jobrunner.Failure) *jobrunner.Failure {
	var e envelope
	if json.Unmarshal(body, &e) != nil || (e.ErrorCode == "" && e.ErrorDesc == "") {
		return nil
	}
	return &jobrunner.Failure{Reason: f.Reason, Message: f.Message + ": " + strings.TrimSpace(e.ErrorCode+" "+oneLine(e.ErrorDesc))}
}

// modifiedDate reads ModifiedDate: epoch ms, or a date-time string.
func modifiedDate(v any) (time.Time, bool, error) {
	switch x := v.(type) {
	case nil:
		return time.Time{}, false, nil
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return time.UnixMilli(n).UTC(), true, nil
		}
	case string:
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00"} {
			if t, err := time.Parse(layout, x); err == nil {
				return t.UTC(), true, nil
			}
		}
	}
	return time.Time{}, false, fmt.Errorf("ModifiedDate %v is neither epoch milliseconds nor a date-time", v)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
