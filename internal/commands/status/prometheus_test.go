package status

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/exitcode"
)

// parseProm parses text as Prometheus's own parser does (node_exporter's
// textfile collector uses it): an error means a scrape would fail.
func parseProm(t *testing.T, text string) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("not valid exposition format: %v\n%s", err, text)
	}
	return fams
}

// value is the gauge of family name whose labels include want.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	t.Helper()
	f, ok := fams[name]
	if !ok {
		return 0, false
	}
	if f.GetType() != dto.MetricType_GAUGE {
		t.Fatalf("%s is %v, want a gauge", name, f.GetType())
	}
	for _, m := range f.GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		match := true
		for k, v := range want {
			match = match && got[k] == v
		}
		if match {
			return m.GetGauge().GetValue(), true
		}
	}
	return 0, false
}

// -o prometheus: one state gauge per connection and state, the seconds
// until the earliest forecast, each job's last success, when it ran; and
// the exit code is status's own.
func TestRunPrometheus(t *testing.T) {
	t.Parallel()
	fake := &fakeFreshdesk{}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	now := saved.Add(24 * time.Hour)
	opts, out := setup(t, srv.URL, &now, "good", "bad")
	parsed, err := parse(t, []string{"-o", "prometheus"})
	if err != nil {
		t.Fatal(err)
	}
	opts.Export = parsed.Export
	svc, err := opts.Authz()
	if err != nil {
		t.Fatal(err)
	}
	good, _ := svc.Mgr.Config.Find("good0")
	err = svc.Mgr.Config.Update(context.Background(), func(d *configstore.Document) error {
		d.Jobs = append(d.Jobs,
			configstore.Job{ID: "job_0000000000000001", Name: "nightly", ConnectionID: good.ID, Source: "tickets", Dest: "-", Format: "ndjson", Mode: "incremental"},
			configstore.Job{ID: "job_0000000000000002", Name: "never", ConnectionID: good.ID, Source: "tickets", Dest: "-", Format: "ndjson", Mode: "incremental"})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ran := now.Add(-3 * time.Hour)
	var asked []string
	opts.LastSuccess = func(_ context.Context, ids []string) map[string]time.Time {
		asked = ids
		return map[string]time.Time{"job_0000000000000001": ran}
	}
	err = run(context.Background(), opts)
	if exitcode.FromError(err) != exitcode.AuthNeeded {
		t.Fatalf("exit %d (%v), want 4 as without -o prometheus", exitcode.FromError(err), err)
	}
	fams := parseProm(t, out.String())
	for _, tt := range []struct {
		name, state string
		want        float64
	}{
		{"good0", StateOK, 1}, {"good0", StateExpiring, 0}, {"good0", StateNeedsReauthorization, 0},
		{"bad1", StateNeedsReauthorization, 1}, {"bad1", StateOK, 0}, {"bad1", StateMisconfigured, 0},
	} {
		v, ok := value(t, fams, "connctl_connection_state", map[string]string{"name": tt.name, "connector": "freshdesk", "state": tt.state})
		if !ok || v != tt.want {
			t.Errorf("state %s %s = %v (found %v), want %v", tt.name, tt.state, v, ok, tt.want)
		}
	}
	if n := len(fams["connctl_connection_state"].GetMetric()); n != 2*len(states) {
		t.Errorf("%d state samples, want %d", n, 2*len(states))
	}
	// The key was saved at saved; status.key_max_age is a year.
	if v, ok := value(t, fams, "connctl_connection_expiry_seconds", map[string]string{"name": "good0"}); !ok || v != (8760*time.Hour-24*time.Hour).Seconds() {
		t.Errorf("expiry seconds %v (found %v)", v, ok)
	}
	if v, ok := value(t, fams, "connctl_job_last_success_timestamp_seconds", map[string]string{"connection": "good0", "job": "nightly"}); !ok || v != float64(ran.Unix()) {
		t.Errorf("last success %v (found %v)", v, ok)
	}
	if _, ok := value(t, fams, "connctl_job_last_success_timestamp_seconds", map[string]string{"job": "never"}); ok {
		t.Error("a job that never succeeded has a last success")
	}
	if len(asked) != 2 {
		t.Errorf("asked for jobs %v", asked)
	}
	if v, ok := value(t, fams, "connctl_status_checked_timestamp_seconds", nil); !ok || v != float64(now.Unix()) {
		t.Errorf("checked %v (found %v)", v, ok)
	}
}

// Label values are escaped by hand as the format asks (backslash, double
// quote, line feed), and Prometheus's parser reads them back unchanged.
func TestPrometheusEscaping(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	odd := "we\"ird\\name\nline two ü"
	at := now.Add(-time.Hour)
	var b bytes.Buffer
	cfg := emptyDefs(t)
	if err := writePrometheus(&b, []Result{{Name: odd, Connector: "oauth2", State: StateExpiring, ExpiresAt: &at}}, cfg, nil, now); err != nil {
		t.Fatal(err)
	}
	fams := parseProm(t, b.String())
	if v, ok := value(t, fams, "connctl_connection_state", map[string]string{"name": odd, "state": StateExpiring}); !ok || v != 1 {
		t.Fatalf("escaped name not read back: %v %v\n%s", v, ok, b.String())
	}
	if v, ok := value(t, fams, "connctl_connection_expiry_seconds", map[string]string{"name": odd}); !ok || v != -3600 {
		t.Fatalf("expiry of a past forecast %v %v", v, ok)
	}
	if got := escapeLabel(`a\b"c` + "\n"); got != `a\\b\"c\n` {
		t.Errorf("escapeLabel = %s", got)
	}
}

func emptyDefs(t *testing.T) configstore.Definitions {
	t.Helper()
	s, err := configstore.Open(t.TempDir()+"/config.yaml", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	return s
}
