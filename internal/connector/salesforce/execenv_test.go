package salesforce

import (
	"maps"
	"testing"
)

func TestExecEnv(t *testing.T) {
	t.Parallel()
	signIn := map[string]string{"login_url": "https://login.salesforce.com", "api_base": "https://acme.my.salesforce.com/"}
	want := map[string]string{
		"SALESFORCE_INSTANCE_URL": "https://acme.my.salesforce.com", "SF_ORG_INSTANCE_URL": "https://acme.my.salesforce.com",
		"SALESFORCE_ACCESS_TOKEN": "00Dtoken", "SF_ACCESS_TOKEN": "00Dtoken",
	}
	if got := Connector().ExecEnv(signIn, nil, "00Dtoken"); !maps.Equal(got, want) {
		t.Errorf("instance_url of the sign-in: %v, want %v", got, want)
	}
	override := maps.Clone(signIn)
	override["base_url"] = "http://127.0.0.1:8080"
	got := Connector().ExecEnv(override, nil, "00Dtoken")
	if got["SF_ORG_INSTANCE_URL"] != "http://127.0.0.1:8080" || got["SALESFORCE_INSTANCE_URL"] != "http://127.0.0.1:8080" {
		t.Errorf("base_url override: %v", got)
	}
}
