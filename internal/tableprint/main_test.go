package tableprint

import (
	"testing"

	"github.com/olekukonko/tablewriter/pkg/twwidth"
)

// TestMain pins display widths: tablewriter guesses East Asian width from
// the locale (LANG, LC_ALL), which would make "…" two cells wide under a CJK locale.
func TestMain(m *testing.M) {
	twwidth.SetEastAsian(false)
	m.Run()
}
