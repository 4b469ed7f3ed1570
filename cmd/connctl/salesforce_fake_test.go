package main

import (
	"strconv"
	"testing"

	"github.com/connctl/connctl/internal/connector/connectortest"
	"github.com/rogpeppe/go-internal/testscript"
)

// sfFake is the conformance suite's Salesforce (see
// internal/connector/connectortest/salesforce.go for the documented shapes
// it follows: the web-server OAuth flow with instance_url, REST query with
// nextRecordsUrl batches of 2,000 over 4,500 accounts, INVALID_SESSION_ID
// for a dead token, INVALID_TYPE for an object the org does not have),
// shared by the scripts.
var sfFake *connectortest.Fake

func startSalesforce(t *testing.T) *connectortest.Fake {
	for _, c := range connectortest.Cases() {
		if c.Connector == "salesforce" {
			f, err := c.Start(t)
			if err != nil {
				t.Fatalf("start the Salesforce fake: %v", err)
			}
			return f
		}
	}
	t.Fatal("connectortest has no Salesforce case")
	return nil
}

// salesforce-touch N...: accounts N (from 1) are modified now.
func cmdSalesforceTouch(ts *testscript.TestScript, neg bool, args []string) {
	var seqs []int
	for _, a := range args {
		n, err := strconv.Atoi(a)
		if err != nil || n < 1 || n > sfFake.Data.Len() {
			ts.Fatalf("salesforce-touch: no account %q", a)
		}
		seqs = append(seqs, n-1)
	}
	sfFake.Data.Touch(seqs...)
}

// salesforce-expire N: the live access tokens stop working after N more
// uses (refresh tokens keep working), as when one expires mid-run.
func cmdSalesforceExpire(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: salesforce-expire N")
	}
	n, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("salesforce-expire: %v", err)
	}
	sfFake.OAuth.ExpireAfter(n)
}
