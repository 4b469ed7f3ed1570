package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/rogpeppe/go-internal/testscript"
)

// webhook-start: starts a webhook receiver on 127.0.0.1 for this script
// and sets $WEBHOOK_URL to it. Each POST's body (one JSON payload) is
// appended as a line to $WORK/webhook.ndjson, before the answer, so that
// it is there when connctl exits; the script reads it with grep.
func cmdWebhookStart(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: webhook-start")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	path := ts.MkAbs("webhook.ndjson")
	ts.Check(os.WriteFile(path, nil, 0o600))
	var mu sync.Mutex
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		var p map[string]any
		if err != nil || r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(body, &p) != nil {
			http.Error(w, "want a JSON POST", http.StatusBadRequest)
			return
		}
		if _, ok := p["text"].(string); !ok {
			http.Error(w, "no text", http.StatusBadRequest)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0o600)
		if err == nil {
			_, err = f.Write(append(body, '\n'))
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte("ok"))
	})}
	go func() { _ = srv.Serve(l) }()
	ts.Defer(func() { _ = srv.Close() })
	ts.Setenv("WEBHOOK_URL", "http://"+l.Addr().String()+"/services/T000/B000")
}

// webhook-got N: the receiver has had exactly N messages.
func cmdWebhookGot(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: webhook-got N")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	data := strings.TrimSpace(ts.ReadFile("webhook.ndjson"))
	got := 0
	if data != "" {
		got = len(strings.Split(data, "\n"))
	}
	if (got == want) == neg {
		ts.Fatalf("the webhook got %d messages, want %d:\n%s", got, want, data)
	}
}
