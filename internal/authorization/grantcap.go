package authorization

import (
	"fmt"

	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connection"
)

// warnGrantCap prints, before a sign-in, the connector's warning about a
// cap on refresh tokens (Zoho's 20 per user), given how many grants with a
// refresh token connctl holds for the same client ID in other connections.
func (s *Service) warnGrantCap(c *configstore.Connection, e *Endpoints) {
	h := e.hooks()
	if s.Stderr == nil || h.GrantCapWarning == nil || e.ClientID == "" {
		return
	}
	held := 0
	for _, o := range s.Mgr.Config.Connections() {
		if o.ID != c.ID && o.Connector == c.Connector && o.Fields["client_id"] == e.ClientID &&
			o.Status == configstore.StatusAuthorized && o.HasSecret(connection.KindRefreshToken) {
			held++
		}
	}
	if w := h.GrantCapWarning(held, e.ClientID); w != "" {
		fmt.Fprintf(s.Stderr, "warning: %s\n", w)
	}
}
