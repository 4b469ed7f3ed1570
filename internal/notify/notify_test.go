package notify

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/activitylog"
)

// recorder is a sink that keeps what it was sent.
type recorder struct {
	mu   sync.Mutex
	got  []Payload
	fail error
}

func (r *recorder) Name() string { return "recorder" }

func (r *recorder) Send(_ context.Context, p Payload) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, p)
	return r.fail
}

func (r *recorder) kinds() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, p := range r.got {
		out = append(out, p.Connctl.Kind)
	}
	return out
}

func newNotifier(t *testing.T) (*Notifier, *recorder, *time.Time) {
	t.Helper()
	s, err := activitylog.Open(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	now := time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)
	rec := &recorder{}
	n := &Notifier{States: s, Sinks: []Sink{rec}, Now: func() time.Time { return now }, RemindAfter: 24 * time.Hour, Host: "box"}
	return n, rec, &now
}

func conn(state string, healthy bool) Observation {
	return Observation{Subject: SubjectConnection, ID: "conn_1", Name: "crm", State: state, Healthy: healthy,
		Reason: "cannot reach 127.0.0.1:1", Fix: "connctl test crm"}
}

// The damping rule with an injected clock: one message per change, nothing
// for a repeat, a reminder once remind_after has passed, a recovery.
func TestDamping(t *testing.T) {
	t.Parallel()
	n, rec, now := newNotifier(t)
	ctx := context.Background()
	steps := []struct {
		advance time.Duration
		obs     Observation
		want    []string // kinds sent so far
	}{
		{0, conn("ok", true), nil},                                          // first seen healthy: nothing changed
		{time.Hour, conn("ok", true), nil},                                  // a repeat
		{time.Hour, conn("unreachable", false), []string{KindFailing}},      // the change
		{time.Hour, conn("unreachable", false), []string{KindFailing}},      // a repeat
		{time.Hour, conn("rate_limited", false), []string{KindFailing}},     // another failing state: still failing
		{21 * time.Hour, conn("unreachable", false), []string{KindFailing}}, // 23h after the message
		{time.Hour, conn("unreachable", false), []string{KindFailing, KindReminder}},
		{time.Hour, conn("unreachable", false), []string{KindFailing, KindReminder}},
		{time.Hour, conn("expiring", true), []string{KindFailing, KindReminder, KindRecovered}},
		{time.Hour, conn("ok", true), []string{KindFailing, KindReminder, KindRecovered}},
		{time.Hour, conn("needs_reauthorization", false), []string{KindFailing, KindReminder, KindRecovered, KindFailing}},
	}
	for i, st := range steps {
		*now = now.Add(st.advance)
		if _, err := n.Observe(ctx, st.obs); err != nil {
			t.Fatal(err)
		}
		if got := rec.kinds(); !reflect.DeepEqual(got, st.want) {
			t.Fatalf("step %d (%s): sent %v, want %v", i, st.obs.State, got, st.want)
		}
	}
	last := rec.got[len(rec.got)-1].Connctl
	if last.From != "ok" || last.To != "needs_reauthorization" || last.Host != "box" || !last.At.Equal(*now) {
		t.Errorf("last event = %+v", last)
	}
	rem := rec.got[1].Connctl
	if rem.Since.IsZero() || !strings.Contains(rec.got[1].Text, "still failing") {
		t.Errorf("reminder = %+v %q", rem, rec.got[1].Text)
	}
}

func TestNoRemindersWhenRemindAfterIsZero(t *testing.T) {
	t.Parallel()
	n, rec, now := newNotifier(t)
	n.RemindAfter = 0
	for range 3 {
		if _, err := n.Observe(context.Background(), conn("unreachable", false)); err != nil {
			t.Fatal(err)
		}
		*now = now.Add(48 * time.Hour)
	}
	if got := rec.kinds(); !reflect.DeepEqual(got, []string{KindFailing}) {
		t.Errorf("sent %v", got)
	}
}

func job(healthy bool, o Observation) Observation {
	o.Subject, o.ID, o.Name = SubjectJob, "job_1", "tickets"
	o.Healthy, o.State = healthy, "failed"
	if healthy {
		o.State = "succeeded"
	}
	o.PauseActivity = activitylog.Activity{Type: activitylog.TypeUpdate, Action: activitylog.ActionPause, JobID: "job_1", JobName: "tickets"}
	return o
}

func TestJobNotifyOnAndPause(t *testing.T) {
	t.Parallel()
	n, rec, now := newNotifier(t)
	ctx := context.Background()
	// always: every success is a message.
	for range 2 {
		if _, err := n.Observe(ctx, job(true, Observation{NotifySuccess: true})); err != nil {
			t.Fatal(err)
		}
	}
	// never: the state is remembered, nothing sent.
	if _, err := n.Observe(ctx, job(false, Observation{Mute: true, CountsToPause: true, PauseAfter: 3})); err != nil {
		t.Fatal(err)
	}
	if got := rec.kinds(); !reflect.DeepEqual(got, []string{KindSucceeded, KindSucceeded}) {
		t.Fatalf("sent %v", got)
	}
	// Two more counted failures pause it, once.
	var out Outcome
	var err error
	for range 2 {
		*now = now.Add(time.Hour)
		if out, err = n.Observe(ctx, job(false, Observation{CountsToPause: true, PauseAfter: 3})); err != nil {
			t.Fatal(err)
		}
	}
	if !out.Paused || out.Failures != 3 || !out.PausedAt.Equal(*now) {
		t.Fatalf("outcome = %+v", out)
	}
	if got := rec.kinds(); !reflect.DeepEqual(got, []string{KindSucceeded, KindSucceeded, KindPaused}) {
		t.Fatalf("sent %v", got)
	}
	if p := rec.got[2]; p.Connctl.Fix != "connctl jobs resume tickets" || !strings.Contains(p.Text, "was paused") {
		t.Errorf("pause message = %+v", p)
	}
	if out, _ = n.Observe(ctx, job(false, Observation{CountsToPause: true, PauseAfter: 3})); out.Paused || out.PausedAt.IsZero() {
		t.Errorf("a paused job was paused again: %+v", out)
	}
	acts, err := n.States.(*activitylog.Store).List(ctx, activitylog.Filter{JobID: "job_1"})
	if err != nil || len(acts) != 1 || acts[0].Action != activitylog.ActionPause {
		t.Fatalf("activities = %+v %v", acts, err)
	}
	// Resume clears the pause and the count, once.
	resume := activitylog.Activity{Type: activitylog.TypeUpdate, Action: activitylog.ActionResume, JobID: "job_1", JobName: "tickets"}
	if ok, err := Resume(ctx, n.States, SubjectJob, "job_1", resume); !ok || err != nil {
		t.Fatalf("resume: %v %v", ok, err)
	}
	if ok, err := Resume(ctx, n.States, SubjectJob, "job_1", resume); ok || err != nil {
		t.Fatalf("second resume: %v %v", ok, err)
	}
	if ok, err := Resume(ctx, n.States, SubjectJob, "job_unknown", resume); ok || err != nil {
		t.Fatalf("resume of an unknown job: %v %v", ok, err)
	}
	st, _, _ := n.States.SubjectState(ctx, SubjectJob, "job_1")
	if !st.PausedAt.IsZero() || st.Failures != 0 || st.Healthy {
		t.Errorf("after resume: %+v", st)
	}
	// Manual runs of an on-demand job never count towards a pause.
	for range 5 {
		if out, _ = n.Observe(ctx, job(false, Observation{PauseAfter: 3})); out.Paused {
			t.Fatal("an uncounted failure paused the job")
		}
	}
}

// A sink that fails is a warning; the others still get the message.
func TestFailingSinkIsAWarning(t *testing.T) {
	t.Parallel()
	n, rec, _ := newNotifier(t)
	bad := &recorder{fail: errors.New("down")}
	n.Sinks = []Sink{bad, rec}
	var warned []string
	n.Warnf = func(f string, a ...any) { warned = append(warned, f) }
	if _, err := n.Observe(context.Background(), conn("unreachable", false)); err != nil {
		t.Fatal(err)
	}
	if len(rec.got) != 1 || len(warned) != 1 {
		t.Errorf("delivered %d, warned %v", len(rec.got), warned)
	}
}

// The payload: Slack's "text", the structured event under "connctl", and no
// secret that reached the reason.
func TestWebhookPayloadShapeAndNoSecrets(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var bodies [][]byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, b)
		mu.Unlock()
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			w.WriteHeader(http.StatusBadRequest)
		}
	}))
	defer srv.Close()
	n, _, _ := newNotifier(t)
	n.Sinks = []Sink{&Webhook{URL: srv.URL + "/hook/T000/CANARY-in-the-url", HTTP: srv.Client()}}
	n.Warnf = func(f string, a ...any) { t.Errorf(f, a...) }
	o := conn("needs_reauthorization", false)
	o.Reason = "refresh failed: Authorization: Bearer CANARY-token-123456789 api_key=CANARY-key-abcdef"
	if _, err := n.Observe(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if len(bodies) != 1 {
		t.Fatalf("%d requests", len(bodies))
	}
	if strings.Contains(string(bodies[0]), "CANARY") {
		t.Errorf("a secret in the payload: %s", bodies[0])
	}
	var m map[string]any
	if err := json.Unmarshal(bodies[0], &m); err != nil {
		t.Fatal(err)
	}
	text, _ := m["text"].(string)
	if !strings.HasPrefix(text, "connctl: connection crm is failing (needs_reauthorization): ") {
		t.Errorf("text = %q", text)
	}
	ev, _ := m["connctl"].(map[string]any)
	for _, k := range []string{"event", "subject", "name", "from", "to", "reason", "fix", "at", "host", "since"} {
		if _, ok := ev[k]; !ok {
			t.Errorf("the connctl object has no %q: %v", k, ev)
		}
	}
	if ev["subject"] != "connection" || ev["name"] != "crm" || ev["to"] != "needs_reauthorization" || ev["fix"] != "connctl test crm" {
		t.Errorf("event = %v", ev)
	}
}

func TestWebhookErrorsKeepTheURLPathSecret(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusGone) }))
	defer srv.Close()
	w := &Webhook{URL: srv.URL + "/services/CANARY", HTTP: srv.Client()}
	err := w.Send(context.Background(), Payload{Text: "x"})
	if err == nil || strings.Contains(err.Error(), "CANARY") || !strings.Contains(err.Error(), "HTTP 410") {
		t.Errorf("err = %v", err)
	}
	w.URL = "http://127.0.0.1:1/services/CANARY"
	err = w.Send(context.Background(), Payload{Text: "x"})
	if err == nil || strings.Contains(err.Error(), "CANARY") {
		t.Errorf("err = %v", err)
	}
}

func TestCheckWebhook(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"https://hooks.slack.com/services/T/B/X", "http://127.0.0.1:8080/hook", "http://localhost/x", "http://[::1]:9/x"} {
		if err := CheckWebhook(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"http://example.com/hook/CANARY", "ftp://x/y", "hooks.slack.com/x", "", "https://"} {
		err := CheckWebhook(bad)
		if err == nil {
			t.Errorf("%q accepted", bad)
		} else if strings.Contains(err.Error(), "CANARY") {
			t.Errorf("the URL's path in the error: %v", err)
		}
	}
}

// The command sink: argv without a shell, the payload as JSON on stdin.
func TestCommandSinkGetsJSONOnStdin(t *testing.T) {
	t.Parallel()
	tee, err := exec.LookPath("tee")
	if err != nil {
		t.Skip("no tee")
	}
	out := filepath.Join(t.TempDir(), "got dir")
	if err := os.Mkdir(out, 0o700); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(out, "payload.json")
	argv, err := ParseCommand(tee + ` -a "` + file + `"`)
	if err != nil || len(argv) != 3 || argv[2] != file {
		t.Fatalf("argv = %q, %v", argv, err)
	}
	n, _, _ := newNotifier(t)
	n.Sinks = []Sink{&Command{Argv: argv}}
	n.Warnf = func(f string, a ...any) { t.Errorf(f, a...) }
	if _, err := n.Observe(context.Background(), conn("unreachable", false)); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var p Payload
	if err := json.Unmarshal(b, &p); err != nil || p.Connctl.Name != "crm" || p.Text == "" {
		t.Errorf("payload %s: %v", b, err)
	}
	// A failing command is an error for Observe's warning, not a panic.
	c := &Command{Argv: []string{filepath.Join(out, "missing-program")}}
	if err := c.Send(context.Background(), p); err == nil {
		t.Error("a missing program delivered")
	}
}

func TestParseCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	spaced := filepath.Join(dir, "my notifier")
	if err := os.WriteFile(spaced, []byte("#!/bin/sh\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	for in, want := range map[string][]string{
		`notify-send connctl`:            {"notify-send", "connctl"},
		`/usr/bin/x --tag 'a b' "c \"d"`: {"/usr/bin/x", "--tag", "a b", `c "d`},
		`a\ b $HOME`:                     {"a b", "$HOME"},
		spaced:                           {spaced},
	} {
		got, err := ParseCommand(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%q: %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{``, `  `, `x 'y`, `x "y`, `x\`, "a\nb"} {
		if _, err := ParseCommand(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// A webhook that redirects is not followed: the payload goes only where
// the setting says.
func TestWebhookFollowsNoRedirect(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/collect", http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	err := (&Webhook{URL: srv.URL + "/hook"}).Send(context.Background(), Payload{Text: "x"})
	if err == nil || !strings.Contains(err.Error(), "redirect") {
		t.Errorf("err = %v", err)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the redirect target got %d requests", n)
	}
}
