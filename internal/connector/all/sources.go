package all

import (
	"github.com/connctl/connctl/internal/connector/freshdesk"
	"github.com/connctl/connctl/internal/connector/s3"
	"github.com/connctl/connctl/internal/jobrunner"
)

// JobSource returns the implementation of a connector's declared source,
// registered here explicitly; false when connctl cannot run it yet.
func JobSource(connectorID, source string) (jobrunner.Source, bool) {
	switch connectorID + "/" + source {
	case "freshdesk/tickets":
		return freshdesk.TicketsSource(), true
	case "s3/objects":
		return s3.ObjectsSource(), true
	}
	return nil, false
}
