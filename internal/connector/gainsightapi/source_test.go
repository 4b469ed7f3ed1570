package gainsightapi

// The fake Gainsight CS below follows the Read API of
// https://support.gainsight.com/gainsight_nxt/API_and_Developer_Docs/Company_and_Relationship_API/Company_API_Documentation
// and https://support.gainsight.com/gainsight_nxt/API_and_Developer_Docs/Custom_Object_API/Gainsight_Custom_Object_API_Documentation
// (POST /v1/data/objects/query/{object}, accesskey header, body select /
// where / orderBy / limit ≤ 5000 / offset; answer {"result":true,
// "errorCode":null, "errorDesc":null, "requestId":..., "data":{"records":[...]}}),
// with the where shape {"conditions":[{"name","alias","value":[...],
// "operator"}], "expression"} and date values as epoch ms from the 3p
// OpenAPI (https://raw.githubusercontent.com/api-evangelist/gainsight/refs/heads/main/openapi/gainsight-cs-company-api-openapi.yml)
// and 3p taps; both marked unconfirmed in providers.md §13. 429 + Retry-After
// and 401 stand for the rate limit and a bad key.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/jobrunner"
	"github.com/connctl/connctl/internal/jobrunner/jobrunnertest"
)

const testKey = "gs-key-1"

var t0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

type query struct {
	Select  []string          `json:"select"`
	Where   *where            `json:"where"`
	OrderBy map[string]string `json:"orderBy"`
	Limit   int               `json:"limit"`
	Offset  int               `json:"offset"`
}

type where struct {
	Conditions []struct {
		Name, Alias, Operator string
		Value                 []string
	} `json:"conditions"`
	Expression string `json:"expression"`
}

type fakeGS struct {
	records []map[string]any // sorted by ModifiedDate

	mu      sync.Mutex
	n       int
	queries []query
	paths   []string
	hook    func(n int, w http.ResponseWriter) bool
}

func newGS(t *testing.T, n int) (*fakeGS, *httptest.Server) {
	f := &fakeGS{}
	for i := range n {
		f.records = append(f.records, map[string]any{
			"Gsid": fmt.Sprintf("1P02%05d", i+1), "Name": fmt.Sprintf("Company %d", i+1),
			"ModifiedDate": t0.Add(time.Duration(i) * time.Second).UnixMilli(), "Arr": 1000 + i,
		})
	}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeGS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var q query
	bad := json.Unmarshal(b, &q) != nil
	f.mu.Lock()
	f.n++
	n := f.n
	f.queries = append(f.queries, q)
	f.paths = append(f.paths, r.URL.Path)
	hook := f.hook
	f.mu.Unlock()
	if hook != nil && hook(n, w) {
		return
	}
	if r.Header.Get("accesskey") != testKey {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"result":false,"errorCode":"GU_1101","errorDesc":"Oops, something went wrong: invalid access key","requestId":"r1","data":null,"message":null}`)
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != "/v1/data/objects/query/Company" {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"result":false,"errorCode":"GS_4001","errorDesc":"Object not found","requestId":"r2","data":null,"message":null}`)
		return
	}
	if bad || q.Limit < 1 || q.Limit > 5000 || q.OrderBy["ModifiedDate"] != "asc" {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	var match []map[string]any
	for _, rec := range f.records {
		if q.Where != nil {
			c := q.Where.Conditions[0]
			since, err := time.Parse("2006-01-02 15:04:05", c.Value[0])
			if err != nil || c.Name != "ModifiedDate" || c.Operator != "GTE" || q.Where.Expression != c.Alias {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			if rec["ModifiedDate"].(int64) < since.UnixMilli() {
				continue
			}
		}
		sel := map[string]any{}
		for _, k := range q.Select {
			sel[k] = rec[k]
		}
		match = append(match, sel)
	}
	page := match[min(q.Offset, len(match)):min(q.Offset+q.Limit, len(match))]
	if page == nil {
		page = []map[string]any{}
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"result": true, "errorCode": nil, "errorDesc": nil, "requestId": "r", "data": map[string]any{"records": page}, "message": nil})
}

func run(srv *httptest.Server, key, since string, params map[string]string) jobrunnertest.Result {
	req := jobrunner.Request{
		Fields:  map[string]string{"domain": "acme.gainsightcloud.com", "base_url": srv.URL},
		Secrets: map[string]string{"access_key": key},
		Params:  params,
		Since:   since,
	}
	return jobrunnertest.Fetch(ObjectSource(), srv.Client(), req)
}

func failure(t *testing.T, err error, reason string) *jobrunner.Failure {
	t.Helper()
	return jobrunnertest.Failure(t, err, reason, testKey)
}

func TestObjectPagesByOffset(t *testing.T) {
	t.Parallel()
	f, srv := newGS(t, 12000)
	res := run(srv, testKey, "", map[string]string{"object": "Company"})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if len(res.Records) != 12000 || res.Records[11999]["Gsid"] != "1P0212000" {
		t.Fatalf("%d records", len(res.Records))
	}
	var offsets []int
	for _, q := range f.queries {
		offsets = append(offsets, q.Offset)
		if q.Where != nil || !slices.Equal(q.Select, []string{"Gsid", "Name", "ModifiedDate"}) {
			t.Fatalf("query %+v", q)
		}
	}
	if !slices.Equal(offsets, []int{0, 5000, 10000}) {
		t.Fatalf("offsets %v", offsets)
	}
	if want := t0.Add(11999 * time.Second).Format("2006-01-02T15:04:05.000Z"); res.Checkpoint != want {
		t.Fatalf("checkpoint %s, want %s", res.Checkpoint, want)
	}
}

func TestObjectIncrementalSendsWhere(t *testing.T) {
	t.Parallel()
	f, srv := newGS(t, 10)
	res := run(srv, testKey, t0.Add(7*time.Second+500*time.Millisecond).Format(time.RFC3339Nano), map[string]string{"object": "Company", "fields": "Name, Arr"})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	// The filter is at second precision and inclusive: 8th (at 7s) comes too.
	if len(res.Records) != 3 || res.Records[0]["Gsid"] != "1P0200008" || res.Records[0]["Arr"] == nil {
		t.Fatalf("records %v", res.Records)
	}
	q := f.queries[0]
	if !slices.Equal(q.Select, []string{"Name", "Arr", "Gsid", "ModifiedDate"}) || q.Where.Conditions[0].Value[0] != "2024-01-01 00:00:07" {
		t.Fatalf("query %+v", q)
	}
	// Nothing newer: the checkpoint stays.
	since := t0.Add(time.Hour).Format(time.RFC3339)
	if res = run(srv, testKey, since, map[string]string{"object": "Company"}); res.Err != nil || len(res.Records) != 0 || res.Checkpoint != since {
		t.Fatalf("%v %d %s", res.Err, len(res.Records), res.Checkpoint)
	}
}

func TestObjectConfigErrors(t *testing.T) {
	t.Parallel()
	_, srv := newGS(t, 3)
	failure(t, run(srv, testKey, "", map[string]string{}).Err, jobrunner.ReasonConfig)
	failure(t, run(srv, testKey, "", map[string]string{"object": "../admin"}).Err, jobrunner.ReasonConfig)
	failure(t, run(srv, testKey, "yesterday", map[string]string{"object": "Company"}).Err, jobrunner.ReasonConfig)
	f := failure(t, run(srv, testKey, "", map[string]string{"object": "Nope__gc"}).Err, jobrunner.ReasonSourceError)
	if !strings.Contains(f.Message, "Object not found") {
		t.Errorf("message %q", f.Message)
	}
}

func TestModifiedDateForms(t *testing.T) {
	t.Parallel()
	want := time.Date(2024, 3, 1, 10, 0, 0, 123e6, time.UTC)
	for _, v := range []any{json.Number("1709287200123"), "2024-03-01T10:00:00.123Z", "2024-03-01 10:00:00.123", "2024-03-01T11:00:00.123+01:00"} {
		if got, ok, err := modifiedDate(v); err != nil || !ok || !got.Equal(want) {
			t.Errorf("modifiedDate(%v) = %v, %v, %v", v, got, ok, err)
		}
	}
}
