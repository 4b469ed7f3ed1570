package list

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/jsonexport"
)

func names(out string) string {
	var n []string
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		f, _, _ := strings.Cut(l, "\t")
		n = append(n, f)
	}
	return strings.Join(n, " ")
}

func TestListSortAndLimit(t *testing.T) {
	t.Parallel()
	path := writeConfig(t, 4) // Conn-00004 is the newest, Conn-00001 the oldest
	for _, tc := range []struct {
		opts Options
		want string
	}{
		{Options{}, "Conn-00001 Conn-00002 Conn-00003 Conn-00004"},
		{Options{Sort: "name", Limit: 2}, "Conn-00001 Conn-00002"},
		{Options{Sort: "created"}, "Conn-00004 Conn-00003 Conn-00002 Conn-00001"},
		{Options{Sort: "connector", Limit: 1}, "Conn-00001"},
		{Options{Sort: "failed", Limit: 10}, "Conn-00001 Conn-00002 Conn-00003 Conn-00004"},
	} {
		if got := names(runList(t, path, false, tc.opts)); got != tc.want {
			t.Errorf("%+v: got %s, want %s", tc.opts, got, tc.want)
		}
	}
	// --limit applies to JSON too.
	exp, _ := jsonexport.New(jsonexport.JSON, ".[].name", nil)
	if got := runList(t, path, false, Options{Limit: 1, Export: exp}); got != "Conn-00001\n" {
		t.Errorf("json with --limit 1: %q", got)
	}
}

func TestSortByStatusAndFailed(t *testing.T) {
	t.Parallel()
	now := time.Now()
	conns := []*configstore.Connection{
		{ID: "a", Name: "a", Status: configstore.StatusRevoked, CreatedAt: now.Add(-time.Hour)},
		{ID: "b", Name: "b", Status: configstore.StatusAuthorized, CreatedAt: now},
		{ID: "c", Name: "c", Status: configstore.StatusNeedsReauthorization, CreatedAt: now.Add(-2 * time.Hour)},
	}
	order := func() string {
		var s []string
		for _, c := range conns {
			s = append(s, c.Name)
		}
		return strings.Join(s, "")
	}
	Sort(conns, "status", nil)
	if got := order(); got != "bca" {
		t.Errorf("status: %s", got)
	}
	Sort(conns, "failed", map[string]int{"c": 1, "a": 3})
	if got := order(); got != "acb" {
		t.Errorf("failed: %s", got)
	}
	Sort(conns, "created", nil)
	if got := order(); got != "bac" {
		t.Errorf("created: %s", got)
	}
}

func TestListBadSortAndLimit(t *testing.T) {
	t.Parallel()
	path := writeConfig(t, 1)
	for _, opts := range []Options{{Sort: "size"}, {Limit: -1}} {
		d, _ := testDeps(path, false)
		if err := run(context.Background(), withDeps(d, opts)); err == nil {
			t.Errorf("%+v: no error", opts)
		}
	}
}
