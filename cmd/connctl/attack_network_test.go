package main

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// hostileNet is a Freshdesk look-alike that attacks (attack_network.txtar).
// The API key's user part picks the attack:
//
//	fd-CANARY-to-port  307 to the witness, another port of the same host
//	fd-CANARY-to-host  302 to the witness as localhost, another host
//	fd-CANARY-same     a page whose Link rel="next" is itself, for ever
//	fd-CANARY-wait-day 429 with Retry-After: 86400
//	fd-CANARY-endless  a new next link and a newer ticket on every page, for
//	                   ever (jobs_timeout.txtar)
//
// The witness is a second server that answers every request with an empty,
// valid ticket list; nothing must ever reach it.
type hostileNet struct {
	srv, witness *httptest.Server
	witnessHits  atomic.Int64
	witnessKeys  atomic.Int64
	endless      atomic.Int64 // pages served to fd-CANARY-endless
}

var hostile *hostileNet

func startHostileNet() *hostileNet {
	h := &hostileNet{}
	h.witness = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.witnessHits.Add(1)
		if r.Header.Get("Authorization") != "" {
			h.witnessKeys.Add(1)
		}
		_, _ = w.Write([]byte(`[]`))
	}))
	h.srv = httptest.NewServer(http.HandlerFunc(h.serve))
	return h
}

func (h *hostileNet) close() {
	h.srv.Close()
	h.witness.Close()
}

func (h *hostileNet) serve(w http.ResponseWriter, r *http.Request) {
	user, _, _ := basicAuth(r)
	switch user {
	case "fd-CANARY-to-port":
		http.Redirect(w, r, h.witness.URL+r.URL.RequestURI(), http.StatusTemporaryRedirect)
	case "fd-CANARY-to-host":
		u, _ := url.Parse(h.witness.URL)
		http.Redirect(w, r, "http://localhost:"+u.Port()+r.URL.RequestURI(), http.StatusFound)
	case "fd-CANARY-same":
		w.Header().Set("Link", `<`+r.URL.RequestURI()+`>; rel="next"`)
		_, _ = w.Write([]byte(`[{"id":1,"subject":"again","updated_at":"2026-11-01T00:00:00Z"}]`))
	case "fd-CANARY-endless":
		// Every page differs (no pagination loop to detect) and moves
		// updated_at on, so Freshdesk's re-windowing at page 300 goes on
		// too: only the run's time limit ends it.
		n := h.endless.Add(1)
		w.Header().Set("Link", `</api/v2/tickets?page=`+strconv.FormatInt(n, 10)+`&per_page=100>; rel="next"`)
		at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Second).Format(time.RFC3339)
		_, _ = w.Write([]byte(`[{"id":` + strconv.FormatInt(n, 10) + `,"subject":"more","updated_at":"` + at + `"}]`))
	case "fd-CANARY-wait-day":
		w.Header().Set("Retry-After", "86400")
		w.WriteHeader(http.StatusTooManyRequests)
	default:
		w.WriteHeader(http.StatusUnauthorized)
	}
}

// hostile-witness N: the witness was reached exactly N times (with a key
// or without).
func cmdHostileWitness(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: hostile-witness N")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	got := hostile.witnessHits.Load()
	if (got == int64(want)) == neg {
		ts.Fatalf("the witness was reached %d times (%d with a key); want %s%d", got, hostile.witnessKeys.Load(), map[bool]string{true: "not ", false: ""}[neg], want)
	}
}
