package mixpanel

import (
	"encoding/base64"

	"github.com/connctl/connctl/internal/jobrunner"
)

// basicAuth is the Authorization header of an export request: the service
// account's Basic {username}:{secret}, or, for the api_secret method, Basic
// {api_secret}: with an empty password, as Mixpanel documents for project
// secrets (https://docs.mixpanel.com/reference/project-secret).
func basicAuth(req jobrunner.Request) (string, error) {
	if req.Fields["auth"] == "api_secret" || (req.Fields["auth"] == "" && req.Secrets["api_secret"] != "") {
		secret := req.Secrets["api_secret"]
		if secret == "" {
			return "", &jobrunner.Failure{Reason: jobrunner.ReasonAuth, Message: "mixpanel: api_secret must be set"}
		}
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(secret+":")), nil
	}
	user := req.Fields["service_account_username"]
	if user == "" {
		user = req.Secrets["service_account_username"]
	}
	secret := req.Secrets["service_account_secret"]
	if user == "" || secret == "" {
		return "", &jobrunner.Failure{Reason: jobrunner.ReasonAuth, Message: "mixpanel: service_account_username and service_account_secret must be set"}
	}
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+secret)), nil
}
