// Package all registers every connector in a catalogue, explicitly, in one
// function: no init() registration, so the list below is the whole catalogue.
// Each line brings all of its connector: the catalogue entry with its key
// checks (connector.AuthMethod.Check) and job sources (connector.Source.New).
package all

import (
	"github.com/connctl/connctl/internal/connector"
	"github.com/connctl/connctl/internal/connector/bigquery"
	"github.com/connctl/connctl/internal/connector/dynamics"
	"github.com/connctl/connctl/internal/connector/freshdesk"
	"github.com/connctl/connctl/internal/connector/gainsightapi"
	"github.com/connctl/connctl/internal/connector/gainsightpx"
	"github.com/connctl/connctl/internal/connector/genericoauth"
	"github.com/connctl/connctl/internal/connector/hubspot"
	"github.com/connctl/connctl/internal/connector/jira"
	"github.com/connctl/connctl/internal/connector/mixpanel"
	"github.com/connctl/connctl/internal/connector/s3"
	"github.com/connctl/connctl/internal/connector/salesforce"
	"github.com/connctl/connctl/internal/connector/snowflake"
	"github.com/connctl/connctl/internal/connector/surveymonkey"
	"github.com/connctl/connctl/internal/connector/zendesk"
	"github.com/connctl/connctl/internal/connector/zoho"
	"github.com/connctl/connctl/internal/jobrunner"
)

// Register adds every connector to cat. It panics on a duplicate id or alias
// (see connector.Catalogue.Add), which the tests catch.
func Register(cat *connector.Catalogue) {
	// CRM
	cat.Add(salesforce.Connector())
	cat.Add(dynamics.Connector())
	cat.Add(zoho.Connector())
	cat.Add(hubspot.Connector())
	// Support and project tracking
	cat.Add(zendesk.Connector())
	cat.Add(freshdesk.Connector())
	cat.Add(jira.Connector())
	// Analytics and storage
	cat.Add(bigquery.Connector())
	cat.Add(mixpanel.Connector())
	cat.Add(s3.Connector())
	// Survey
	cat.Add(surveymonkey.Connector())
	// Gainsight
	cat.Add(gainsightpx.Connector())
	cat.Add(gainsightapi.Connector())
	// Warehouses
	cat.Add(snowflake.Connector())
	// Generic
	cat.Add(genericoauth.Connector())
}

// Catalogue returns a new catalogue holding every connector.
func Catalogue() *connector.Catalogue {
	cat := connector.NewCatalogue()
	Register(cat)
	return cat
}

// JobSource returns the implementation of a connector's declared source
// (its connector.Source.New, in the connector's own package, registered
// with the connector in Register); false for an unknown connector id or
// source, or a source without an implementation.
func JobSource(connectorID, source string) (jobrunner.Source, bool) {
	c, ok := Catalogue().Lookup(connectorID)
	if !ok || c.ID != connectorID {
		return nil, false
	}
	for _, s := range c.Sources {
		if s.Name == source && s.New != nil {
			return s.New(), true
		}
	}
	return nil, false
}
