// Package configstoretest holds the conformance suite every
// configstore.Definitions backend runs, and Memory, an in-memory backend for
// tests of code that changes definitions.
package configstoretest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/configstore"
)

// Backend makes a new, empty set of definitions for one test and returns a
// function that opens a handle on it. Each call of open must return a
// separate handle on the same stored definitions, as a second process
// would have (for the file store: a second Store on the same file).
type Backend func(t *testing.T) (open func() (configstore.Definitions, error))

// RunConformance checks that a backend behaves as every
// configstore.Definitions must: Update round trips and is seen by other
// handles after Reload; concurrent Updates from goroutines on one handle
// and on two handles lose nothing; an Update whose fn fails, or whose
// result is invalid (configstore.ValidateDocument: names, ids, job
// references), stores nothing and leaves the handle as it was, even when fn
// changed the document in place; snapshots from Document are not changed
// by later Updates; and a reader never sees a half-written state while
// another handle writes.
func RunConformance(t *testing.T, newBackend Backend) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	opener := func(t *testing.T) func() configstore.Definitions {
		t.Helper()
		open := newBackend(t)
		return func() configstore.Definitions {
			t.Helper()
			d, err := open()
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			return d
		}
	}

	t.Run("empty", func(t *testing.T) {
		d := opener(t)()
		if n := len(d.Connections()); n != 0 {
			t.Fatalf("a new backend has %d connections", n)
		}
		if doc := d.Document(); doc == nil || len(doc.Jobs) != 0 {
			t.Fatalf("a new backend's document: %+v", doc)
		}
		if _, ok := d.Find("anything"); ok {
			t.Fatal("Find in an empty backend found something")
		}
		if err := d.Reload(); err != nil {
			t.Fatalf("Reload of an empty backend: %v", err)
		}
	})

	t.Run("round trip", func(t *testing.T) {
		open := opener(t)
		d := open()
		created := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		want := conn("CRM-Prod")
		want.Fields = map[string]string{"domain": "acme.example.com", "note": "Grüße 東京"}
		want.Secrets = []string{"api_key"}
		want.CreatedAt, want.UpdatedAt = created, created
		job := configstore.Job{ID: newID(), Name: "Nightly", ConnectionID: want.ID, Source: "accounts",
			Params: map[string]string{"since": "2026-01-01"}, Dest: "/tmp/out.ndjson", Format: "ndjson", Mode: "incremental",
			CreatedAt: created, UpdatedAt: created}
		if err := d.Update(ctx, func(doc *configstore.Document) error {
			doc.Connections = append(doc.Connections, want)
			doc.Jobs = append(doc.Jobs, job)
			return nil
		}); err != nil {
			t.Fatalf("Update: %v", err)
		}
		for name, h := range map[string]configstore.Definitions{"same handle": d, "new handle": open()} {
			got, ok := h.Find("crm-PROD")
			if !ok {
				t.Fatalf("%s: Find ignoring case missed %q", name, want.Name)
			}
			if got.ID != want.ID || got.Name != "CRM-Prod" || got.Connector != want.Connector || got.Status != want.Status ||
				got.Fields["note"] != "Grüße 東京" || !got.HasSecret("api_key") || !got.CreatedAt.Equal(created) {
				t.Errorf("%s: Find = %+v, want %+v", name, *got, want)
			}
			if cs := h.Connections(); len(cs) != 1 || cs[0].ID != want.ID {
				t.Errorf("%s: Connections = %+v", name, cs)
			}
			_, j := h.Document().FindJob("NIGHTLY")
			if j == nil || j.ConnectionID != want.ID || j.Params["since"] != "2026-01-01" || j.Mode != "incremental" {
				t.Errorf("%s: job = %+v", name, j)
			}
		}
	})

	t.Run("failed fn stores nothing", func(t *testing.T) {
		open := opener(t)
		d := open()
		add(ctx, t, d, conn("keep"))
		before := d.Document()
		boom := errors.New("boom")
		err := d.Update(ctx, func(doc *configstore.Document) error {
			// Changes made in place before failing must not leak.
			doc.Connections[0].Name = "changed"
			doc.Connections[0].Fields = map[string]string{"x": "y"}
			doc.Connections = append(doc.Connections, conn("extra"))
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Update = %v, want fn's error", err)
		}
		checkOnly(t, "the handle", d, "keep")
		checkOnly(t, "a new handle", open(), "keep")
		if before.Connections[0].Name != "keep" || before.Connections[0].Fields != nil {
			t.Fatalf("the failed Update changed an earlier snapshot: %+v", before.Connections[0])
		}
	})

	t.Run("invalid documents are refused", func(t *testing.T) {
		open := opener(t)
		d := open()
		keep := conn("keep")
		add(ctx, t, d, keep)
		cases := map[string]func(doc *configstore.Document){
			"name differing only in case": func(doc *configstore.Document) { doc.Connections = append(doc.Connections, conn("KEEP")) },
			"empty name":                  func(doc *configstore.Document) { doc.Connections = append(doc.Connections, conn("")) },
			"name with a slash":           func(doc *configstore.Document) { doc.Connections = append(doc.Connections, conn("a/b")) },
			"name with a leading dash":    func(doc *configstore.Document) { doc.Connections = append(doc.Connections, conn("-x")) },
			"name with a control char":    func(doc *configstore.Document) { doc.Connections = append(doc.Connections, conn("a\x1bb")) },
			"name too long": func(doc *configstore.Document) {
				doc.Connections = append(doc.Connections, conn(strings.Repeat("a", configstore.MaxNameLen+1)))
			},
			"duplicate id": func(doc *configstore.Document) {
				c := conn("other")
				c.ID = doc.Connections[0].ID
				doc.Connections = append(doc.Connections, c)
			},
			"no id": func(doc *configstore.Document) {
				c := conn("other")
				c.ID = ""
				doc.Connections = append(doc.Connections, c)
			},
			"no connector": func(doc *configstore.Document) {
				c := conn("other")
				c.Connector = ""
				doc.Connections = append(doc.Connections, c)
			},
			"unknown status": func(doc *configstore.Document) {
				c := conn("other")
				c.Status = "maybe"
				doc.Connections = append(doc.Connections, c)
			},
			"control character in a field": func(doc *configstore.Document) {
				doc.Connections[0].Fields = map[string]string{"domain": "a\x1b]8;;evil\x07"}
			},
			"job of a missing connection": func(doc *configstore.Document) {
				doc.Jobs = append(doc.Jobs, configstore.Job{ID: newID(), Name: "j", ConnectionID: "nope", Source: "s", Dest: "-", Format: "ndjson", Mode: "full"})
			},
			"job names differing only in case": func(doc *configstore.Document) {
				for _, n := range []string{"Job", "JOB"} {
					doc.Jobs = append(doc.Jobs, configstore.Job{ID: newID(), Name: n, ConnectionID: doc.Connections[0].ID, Source: "s", Dest: "-", Format: "ndjson", Mode: "full"})
				}
			},
		}
		for name, change := range cases {
			err := d.Update(ctx, func(doc *configstore.Document) error { change(doc); return nil })
			if err == nil {
				t.Errorf("%s: Update stored an invalid document", name)
				continue
			}
			checkOnly(t, name+": the handle", d, "keep")
		}
		checkOnly(t, "a new handle", open(), "keep")
		if c, _ := open().Find("keep"); c == nil || len(c.Fields) != 0 {
			t.Errorf("a refused Update changed the stored connection: %+v", c)
		}
	})

	t.Run("snapshots stay as they were", func(t *testing.T) {
		d := opener(t)()
		add(ctx, t, d, conn("one"))
		snap := d.Document()
		c1, _ := d.Find("one")
		add(ctx, t, d, conn("two"))
		if err := d.Update(ctx, func(doc *configstore.Document) error {
			doc.Connections[0].Account = "someone@example.com"
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if len(snap.Connections) != 1 || snap.Connections[0].Account != "" || c1.Account != "" {
			t.Fatalf("a later Update changed an earlier snapshot: %+v, %+v", snap.Connections, *c1)
		}
		if c, _ := d.Find("one"); c.Account != "someone@example.com" || len(d.Connections()) != 2 {
			t.Fatalf("the handle does not show its own Update: %+v", d.Connections())
		}
	})

	t.Run("reload sees another writer", func(t *testing.T) {
		open := opener(t)
		a, b := open(), open()
		add(ctx, t, b, conn("from-b"))
		if err := a.Reload(); err != nil {
			t.Fatalf("Reload: %v", err)
		}
		if _, ok := a.Find("from-b"); !ok {
			t.Fatal("after Reload, a handle does not see another handle's Update")
		}
		// An Update starts from what is stored, not from the handle's
		// copy: a's Update must keep b's newer connection.
		add(ctx, t, b, conn("from-b-2"))
		add(ctx, t, a, conn("from-a"))
		checkOnly(t, "a", a, "from-b", "from-b-2", "from-a")
	})

	t.Run("concurrent updates lose nothing", func(t *testing.T) {
		open := opener(t)
		first := open()
		counter := conn("counter")
		counter.Fields = map[string]string{"n": "0"}
		add(ctx, t, first, counter)
		handles := []configstore.Definitions{first, open()}
		const perHandle = 12
		var wg sync.WaitGroup
		for h, d := range handles {
			for i := range perHandle {
				wg.Go(func() {
					name := fmt.Sprintf("h%d-c%d", h, i)
					err := d.Update(ctx, func(doc *configstore.Document) error {
						doc.Connections = append(doc.Connections, conn(name))
						_, c := doc.Find("counter")
						n, err := strconv.Atoi(c.Fields["n"])
						if err != nil {
							return err
						}
						c.Fields["n"] = strconv.Itoa(n + 1)
						return nil
					})
					if err != nil {
						t.Errorf("Update %s: %v", name, err)
					}
				})
			}
		}
		wg.Wait()
		d := open()
		if n := len(d.Connections()); n != 1+2*perHandle {
			t.Errorf("%d connections after %d concurrent creates, want %d", n, 2*perHandle, 1+2*perHandle)
		}
		if c, _ := d.Find("counter"); c.Fields["n"] != strconv.Itoa(2*perHandle) {
			t.Errorf("counter = %s after %d concurrent increments", c.Fields["n"], 2*perHandle)
		}
		for _, h := range handles {
			if err := h.Reload(); err != nil {
				t.Fatal(err)
			}
			if n := len(h.Connections()); n != 1+2*perHandle {
				t.Errorf("a writing handle sees %d connections after Reload", n)
			}
		}
	})

	t.Run("no half-written state is observable", func(t *testing.T) {
		open := opener(t)
		w := open()
		const conns, rounds = 20, 15
		if err := w.Update(ctx, func(doc *configstore.Document) error {
			for i := range conns {
				c := conn(fmt.Sprintf("c%02d", i))
				c.Fields = map[string]string{"gen": "0"}
				doc.Connections = append(doc.Connections, c)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		r := open()
		done := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			defer close(done)
			for g := 1; g <= rounds; g++ {
				err := w.Update(ctx, func(doc *configstore.Document) error {
					for i := range doc.Connections {
						doc.Connections[i].Fields["gen"] = strconv.Itoa(g)
					}
					return nil
				})
				if err != nil {
					t.Errorf("Update %d: %v", g, err)
					return
				}
			}
		})
		wg.Go(func() {
			for reads := 0; ; reads++ {
				select {
				case <-done:
					if reads > 0 {
						return
					}
				default:
				}
				if err := r.Reload(); err != nil {
					t.Errorf("Reload during writes: %v", err)
					return
				}
				cs := r.Connections()
				if len(cs) != conns {
					t.Errorf("a reader saw %d connections, want %d", len(cs), conns)
					return
				}
				for _, c := range cs {
					if c.Fields["gen"] != cs[0].Fields["gen"] {
						t.Errorf("a reader saw a half-written state: %s has gen %s, %s has %s", cs[0].Name, cs[0].Fields["gen"], c.Name, c.Fields["gen"])
						return
					}
				}
			}
		})
		wg.Wait()
		if c, _ := open().Find("c07"); c == nil || c.Fields["gen"] != strconv.Itoa(rounds) {
			t.Fatalf("after the writes: %+v", c)
		}
	})
}

func newID() string { return "conformance-" + rand.Text()[:12] }

// conn is a valid connection named name with a fresh id.
func conn(name string) configstore.Connection {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return configstore.Connection{ID: newID(), Name: name, Connector: "freshdesk", Auth: "api_key",
		Status: configstore.StatusNotAuthorized, CreatedAt: now, UpdatedAt: now}
}

func add(ctx context.Context, t *testing.T, d configstore.Definitions, c configstore.Connection) {
	t.Helper()
	if err := d.Update(ctx, func(doc *configstore.Document) error {
		doc.Connections = append(doc.Connections, c)
		return nil
	}); err != nil {
		t.Fatalf("add %q: %v", c.Name, err)
	}
}

// checkOnly fails unless d holds exactly the connections named names.
func checkOnly(t *testing.T, what string, d configstore.Definitions, names ...string) {
	t.Helper()
	cs := d.Connections()
	got := make([]string, len(cs))
	for i, c := range cs {
		got[i] = c.Name
	}
	if len(got) != len(names) {
		t.Fatalf("%s holds %q, want %q", what, got, names)
	}
	for _, n := range names {
		if _, ok := d.Find(n); !ok {
			t.Fatalf("%s holds %q, want %q", what, got, names)
		}
	}
}
