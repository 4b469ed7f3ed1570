package salesforce

import "strings"

// execEnv gives a Salesforce connection's instance URL and fresh access
// token to `connctl exec`'s child. SF_ORG_INSTANCE_URL and SF_ACCESS_TOKEN
// are the Salesforce CLI's own ("Salesforce CLI Environment Variables"):
// the first sets the instance every command talks to, the second is read
// by `sf org login access-token --no-prompt`. SALESFORCE_INSTANCE_URL and
// SALESFORCE_ACCESS_TOKEN are the plain names scripts use.
func execEnv(fields, _ map[string]string, token string) map[string]string {
	instance := strings.TrimRight(fields["base_url"], "/")
	if instance == "" {
		instance = strings.TrimRight(fields["api_base"], "/") // the instance_url of the sign-in
	}
	return map[string]string{
		"SALESFORCE_INSTANCE_URL": instance,
		"SALESFORCE_ACCESS_TOKEN": token,
		"SF_ORG_INSTANCE_URL":     instance,
		"SF_ACCESS_TOKEN":         token,
	}
}
