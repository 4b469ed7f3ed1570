package surveymonkey

import "testing"

func TestHost(t *testing.T) {
	for region, want := range map[string]string{
		"": "https://api.surveymonkey.com", "us": "https://api.surveymonkey.com",
		"eu": "https://api.eu.surveymonkey.com", "ca": "https://api.surveymonkey.ca", "mars": "https://api.surveymonkey.com",
	} {
		if got := Host(region); got != want {
			t.Errorf("Host(%q) = %s, want %s", region, got, want)
		}
	}
}
