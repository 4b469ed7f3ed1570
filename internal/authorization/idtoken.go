package authorization

import "github.com/connctl/connctl/internal/oauthflow"

// preferIDToken names the account from a validated id_token: its email,
// else its preferred_username, else what userinfo said, else its sub. The
// subject is the id_token's sub. Userinfo that names another subject is
// not used (OpenID Connect Core §5.3.2: its sub must match the id_token's).
func preferIDToken(idt *oauthflow.IDToken, account, subject string) (string, string) {
	if idt == nil || idt.Subject == "" {
		return account, subject
	}
	if subject != "" && subject != idt.Subject {
		account = ""
	}
	for _, a := range []string{idt.Email, idt.PreferredUsername, account, idt.Subject} {
		if a != "" {
			return a, idt.Subject
		}
	}
	return idt.Subject, idt.Subject
}
