package all

import (
	"github.com/connctl/connctl/internal/connector/freshdesk"
	"github.com/connctl/connctl/internal/connector/s3"
	"github.com/connctl/connctl/internal/connector/salesforce"
	"github.com/connctl/connctl/internal/jobrunner"
)

// JobSource returns the implementation of a connector's declared source,
// registered here explicitly; false when connctl cannot run it yet.
func JobSource(connectorID, source string) (jobrunner.Source, bool) {
	switch connectorID + "/" + source {
	case "freshdesk/tickets":
		return freshdesk.TicketsSource(), true
	case "salesforce/accounts":
		return salesforce.AccountsSource(), true
	case "salesforce/contacts":
		return salesforce.ContactsSource(), true
	case "salesforce/opportunities":
		return salesforce.OpportunitiesSource(), true
	case "salesforce/users":
		return salesforce.UsersSource(), true
	case "salesforce/soql":
		return salesforce.SOQLSource(), true
	case "s3/objects":
		return s3.ObjectsSource(), true
	}
	return nil, false
}
