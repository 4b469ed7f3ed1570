package connectortest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"
)

// Gainsight CS (NXT) REST API, following its Read API
// (https://support.gainsight.com/gainsight_nxt/API_and_Developer_Docs/Company_and_Relationship_API/Company_API_Documentation,
// https://support.gainsight.com/gainsight_nxt/API_and_Developer_Docs/Custom_Object_API/Gainsight_Custom_Object_API_Documentation):
//   - the org's access key in the accesskey header, on the tenant's domain;
//   - POST /v1/data/objects/query/{object} with {select, where, orderBy,
//     limit (at most 5,000), offset}, answering {result, errorCode,
//     errorDesc, requestId, data:{records:[...]}, message}; a refused call
//     is result false with errorCode and errorDesc;
//   - where is {conditions:[{name, alias, operator, value:[...]}],
//     expression}, with date values as `yyyy-MM-dd HH:mm:ss` (UTC), and
//     ModifiedDate comes back as epoch ms: these shapes are from a
//     third-party OpenAPI and taps, unconfirmed against the vendor pages
//     (https://raw.githubusercontent.com/api-evangelist/gainsight/refs/heads/main/openapi/gainsight-cs-company-api-openapi.yml);
//   - Gainsight has no who-am-I: connctl's key check reads one Company
//     ({"select":["Gsid"],"limit":1}, no offset). The fake does not count
//     that read as a data request.
//   - a bad key is 401 GU_1101; the rate limit is a 429 (Retry-After) and a
//     server error a 500, both in the result-false envelope (their
//     errorCodes here are placeholders: Gainsight does not document them).
func init() {
	register(Case{Connector: "gainsight-api", Source: "object", Params: []string{"object=Company", "fields=Gsid,Name,Arr,ModifiedDate"},
		Account: "acme.gainsightcloud.com", Start: startGainsightAPI,
		Suite: map[string]SuiteOptions{"object": {Skip: map[Check]string{ForeignLink: "pages by offset in the request body, no links"}}}})
}

func startGainsightAPI(tb testing.TB) (*Fake, error) {
	// Three pages of 5,000 on a full run.
	f := &Fake{Data: NewDataset(10_050, func(i int) string { return fmt.Sprintf("1P02H8Q5ZK7C%08d", i) })}
	const key = "gsak-" + Canary + "-b1f0c6e2a9d84e5f"
	gs := &gainsightAPI{f: f, key: key}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/data/objects/query/{object}", gs.query)
	srv := Serve(tb, mux)
	f.URL = srv.URL
	f.Set = []string{"domain=acme.gainsightcloud.com", "base_url=" + srv.URL}
	f.Secret, f.BadSecret = key, "gsak-"+Canary+"-0000000000000000"
	return f, nil
}

type gainsightAPI struct {
	f   *Fake
	key string
}

func gainsightAPIError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"result": false, "errorCode": code, "errorDesc": desc,
		"requestId": "6a1e0c4f-2b7d-4f39-9c8e-5d0a1b2c3d4e", "data": nil, "message": nil})
}

type gainsightAPIQuery struct {
	Select []string `json:"select"`
	Where  *struct {
		Conditions []struct {
			Name     string   `json:"name"`
			Alias    string   `json:"alias"`
			Operator string   `json:"operator"`
			Value    []string `json:"value"`
		} `json:"conditions"`
		Expression string `json:"expression"`
	} `json:"where"`
	OrderBy map[string]string `json:"orderBy"`
	Limit   int               `json:"limit"`
	Offset  *int              `json:"offset"`
}

func (gs *gainsightAPI) query(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("accesskey") != gs.key {
		gainsightAPIError(w, http.StatusUnauthorized, "GU_1101", "Oops, something went wrong: invalid access key")
		return
	}
	var q gainsightAPIQuery
	if err := json.NewDecoder(r.Body).Decode(&q); err != nil {
		gainsightAPIError(w, http.StatusBadRequest, "GS_1101", "Invalid request body")
		return
	}
	check := q.Offset == nil && q.Where == nil && q.Limit == 1
	if !check {
		switch gs.f.Data.Fault() {
		case Throttle:
			w.Header().Set("Retry-After", "1")
			gainsightAPIError(w, http.StatusTooManyRequests, "GS_RATE_LIMIT", "Rate limit exceeded; try again later")
			return
		case Fail:
			gainsightAPIError(w, http.StatusInternalServerError, "GS_INTERNAL", "Internal server error")
			return
		}
	}
	if r.PathValue("object") != "Company" {
		gainsightAPIError(w, http.StatusBadRequest, "GS_4001", "Object not found: "+r.PathValue("object"))
		return
	}
	if q.Limit < 1 || q.Limit > 5000 || len(q.Select) == 0 {
		gainsightAPIError(w, http.StatusBadRequest, "GS_1102", "limit must be between 1 and 5000, and select is required")
		return
	}
	if !check && q.OrderBy["ModifiedDate"] != "asc" {
		// The fake serves the order connctl asks for only.
		gainsightAPIError(w, http.StatusBadRequest, "GS_1102", "this fake serves orderBy ModifiedDate asc only")
		return
	}
	var since time.Time
	if q.Where != nil {
		if len(q.Where.Conditions) != 1 {
			gainsightAPIError(w, http.StatusBadRequest, "GS_1102", "this fake serves one where condition only")
			return
		}
		c := q.Where.Conditions[0]
		t, err := time.Parse("2006-01-02 15:04:05", gainsightAPIFirst(c.Value))
		if c.Name != "ModifiedDate" || c.Operator != "GTE" || q.Where.Expression != c.Alias || err != nil {
			gainsightAPIError(w, http.StatusBadRequest, "GS_1102", "unsupported where condition "+c.Name+" "+c.Operator)
			return
		}
		since = t.UTC()
		gs.f.Data.SawSince(since)
	}
	recs := gs.f.Data.Since(since, true)
	off := 0
	if q.Offset != nil {
		off = max(*q.Offset, 0)
	}
	records := []map[string]any{}
	for _, rec := range recs[min(off, len(recs)):min(off+q.Limit, len(recs))] {
		full := map[string]any{"Gsid": rec.ID, "Name": fmt.Sprintf("Company %d", rec.Seq), "Arr": 12000 + rec.Seq,
			"Industry": "Software", "CreatedDate": Base.Add(-720 * time.Hour).UnixMilli(), "ModifiedDate": rec.Modified.UnixMilli()}
		sel := map[string]any{}
		for _, k := range q.Select {
			sel[k] = full[k]
		}
		records = append(records, sel)
	}
	writeJSON(w, map[string]any{"result": true, "errorCode": nil, "errorDesc": nil, "requestId": "0b9d7e55-8c1a-4e0f-a3b2-91c4d5e6f708",
		"data": map[string]any{"records": records}, "message": nil})
}

func gainsightAPIFirst(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}
