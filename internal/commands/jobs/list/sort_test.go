package list

import (
	"strings"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/commands/jobs/jobview"
)

func TestSortViews(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	t1 := t0.Add(time.Hour)
	base := func() []jobview.View {
		return []jobview.View{
			{Name: "zeta", Connection: "a", LastRunStatus: "succeeded", LastRunAt: &t0},
			{Name: "Alpha", Connection: "b", LastRunStatus: "failed", LastRunAt: &t1},
			{Name: "mid", Connection: "a"},
		}
	}
	for key, want := range map[string]string{
		"name":       "Alpha mid zeta",
		"created":    "zeta Alpha mid",
		"connection": "mid zeta Alpha",
		"status":     "mid Alpha zeta",
		"last-run":   "Alpha zeta mid",
	} {
		got, err := sortViews(base(), key, 0)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, v := range got {
			names = append(names, v.Name)
		}
		if strings.Join(names, " ") != want {
			t.Errorf("--sort %s: %v, want %s", key, names, want)
		}
	}
	if got, _ := sortViews(base(), "name", 2); len(got) != 2 {
		t.Errorf("--limit 2: %d jobs", len(got))
	}
	if _, err := sortViews(base(), "size", 0); err == nil {
		t.Error("--sort size: no error")
	}
	if _, err := sortViews(base(), "name", -1); err == nil {
		t.Error("--limit -1: no error")
	}
}
