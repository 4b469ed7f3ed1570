package connview

import "github.com/connctl/connctl/internal/configstore"

// StatusUnverified is the status shown for key-based credentials saved with
// --no-verify and not tested since (StatusText).
const StatusUnverified = "unverified"

// StatusTexts lists every status StatusText can show, in the order of
// configstore.Statuses with unverified after authorized: what `list
// --status` accepts and completes.
func StatusTexts() []string {
	var out []string
	for _, s := range configstore.Statuses {
		out = append(out, string(s))
		if s == configstore.StatusAuthorized {
			out = append(out, StatusUnverified)
		}
	}
	return out
}

// StatusText is the status a connection shows: its stored status, or
// "unverified" for key-based credentials saved with --no-verify and not
// tested since (they are used as authorized).
func StatusText(c *configstore.Connection) string {
	if c.Status == configstore.StatusAuthorized && c.Unverified {
		return StatusUnverified
	}
	return string(c.Status)
}
