package connectortest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Zoho CRM, following Zoho's documented shapes. Two servers, as in real
// life: the data centre's accounts server and the API domain it names.
//   - OAuth (server-based client): GET {accounts}/oauth/v2/auth with
//     access_type=offline; the redirect back carries code, location and
//     accounts-server (the user's data centre), where the code is exchanged
//     and later refreshed: POST {accounts}/oauth/v2/token answering
//     {access_token, refresh_token, api_domain, token_type, expires_in}
//     (https://www.zoho.com/accounts/protocol/oauth/multi-dc/client-authorization.html,
//     https://www.zoho.com/crm/developer/docs/api/v8/multi-dc.html,
//     https://www.zoho.com/accounts/protocol/oauth/web-apps/access-token-expiry.html);
//   - revoke: POST {accounts}/oauth/v2/token/revoke?token={refresh_token}
//     answering {"status":"success"}, or HTTP 400 when the token is invalid
//     (https://www.zoho.com/accounts/protocol/oauth/revoke-refresh-token.html);
//   - every API call: Authorization: Zoho-oauthtoken {access_token} at the
//     api_domain; who-am-I GET {api_domain}/crm/v8/users?type=CurrentUser
//     answering {users:[{id, full_name, email, ...}], info}
//     (https://www.zoho.com/crm/developer/docs/api/v8/get-users.html);
//   - Get Records: GET {api_domain}/crm/v8/{Accounts|Contacts|Deals}?fields=&per_page=(<= 200)
//     [&page_token=] with an optional If-Modified-Since header (records
//     modified after it) answering {data:[{id, ...fields, Modified_Time in the
//     org's zone}], info:{per_page, count, page, sort_by, sort_order,
//     more_records, next_page_token, previous_page_token, page_token_expiry}};
//     304 when nothing changed, 204 when there is no record
//     (https://www.zoho.com/crm/developer/docs/api/v8/get-records.html);
//   - errors {code, details, message, status:"error"}: 401 INVALID_TOKEN,
//     400 INVALID_DATA / REQUIRED_PARAM_MISSING, 429 TOO_MANY_REQUESTS,
//     500 INTERNAL_ERROR
//     (https://www.zoho.com/crm/developer/docs/api/v8/status-codes.html,
//     https://www.zoho.com/crm/developer/docs/api/v8/api-limits.html). Zoho
//     documents no Retry-After on a 429; the fake sends one second, as the
//     suite asks of every throttle signal.
//
// zohoSuite: the CRM pages by info.next_page_token; no link to redirect.
var zohoSuite = SuiteOptions{Skip: map[Check]string{ForeignLink: "pages by info.next_page_token, no links"}}

func init() {
	register(Case{Connector: "zoho", Source: "accounts", Account: zohoEmail, Revocable: true, Start: startZoho,
		Also:  []SourceRun{{Source: "contacts", Records: zohoContacts}, {Source: "deals", Records: zohoDeals}},
		Suite: map[string]SuiteOptions{"accounts": zohoSuite, "contacts": zohoSuite, "deals": zohoSuite}})
}

const (
	zohoEmail   = "patricia.boyle@zylker.example"
	zohoPerPage = 200 // the most Get Records returns at once
	zohoRecords = 2*zohoPerPage + 50
	// The Contacts and Deals modules span two and three pages.
	zohoContacts = zohoPerPage + 30
	zohoDeals    = 2*zohoPerPage + 10
)

// zohoZone is the org's time zone, in which Zoho writes Modified_Time.
var zohoZone = time.FixedZone("IST", 5*3600+1800)

// zohoScopes are what the sign-in must ask for: a module's records need its
// ZohoCRM.modules.{module}.READ scope.
var zohoScopes = []string{"ZohoCRM.modules.accounts.READ", "ZohoCRM.modules.contacts.READ", "ZohoCRM.modules.deals.READ", "ZohoCRM.users.READ"}

func startZoho(tb testing.TB) (*Fake, error) {
	f := &Fake{Data: NewDataset(zohoRecords, func(i int) string { return strconv.FormatInt(4876876000000333000+int64(i), 10) })}
	z := &zoho{f: f}
	z.modules = map[string]zohoModule{
		"Accounts": {fields: zohoAccountFields, data: f.Data, record: z.account},
		"Contacts": {fields: zohoContactFields, record: z.contact,
			data: NewDataset(zohoContacts, func(i int) string { return strconv.FormatInt(4876876000000412000+int64(i), 10) })},
		"Deals": {fields: zohoDealFields, record: z.deal,
			data: NewDataset(zohoDeals, func(i int) string { return strconv.FormatInt(4876876000000498000+int64(i), 10) })},
	}
	f.OAuth = &OAuth{ClientID: "1000.7QK2ZJ0XWD3M9BTR5N8V1YHC6LUE4A", ClientSecret: "3f6d1c0b9a-" + Canary + "-8e7f", ClientAuth: "params", Prefix: "1000.",
		Extra: func(*http.Request) map[string]any { return map[string]any{"api_domain": z.api} }}

	api := http.NewServeMux()
	api.HandleFunc("GET /crm/v8/users", z.users)
	api.HandleFunc("GET /crm/v8/{module}", z.records)
	Serve(tb, api, func(u string) { z.api = u })

	accounts := http.NewServeMux()
	accounts.HandleFunc("GET /oauth/v2/auth", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		granted := strings.FieldsFunc(q.Get("scope"), func(r rune) bool { return r == ',' || r == ' ' })
		for _, s := range zohoScopes {
			if !inList(granted, s) {
				http.Error(w, "Invalid OAuth Scope: the scope "+s+" is missing", http.StatusBadRequest)
				return
			}
		}
		if q.Get("access_type") != "offline" {
			// Zoho would issue no refresh token; connctl needs one.
			http.Error(w, "the fake expects access_type=offline", http.StatusBadRequest)
			return
		}
		f.OAuth.Authorize(w, r)
	})
	// The user's data centre answers the token and revocation calls; the
	// sign-in starts at the configured accounts server. connctl sends codes
	// only to a Zoho accounts host or the configured host, so the fake's
	// data centre is a path (/in) on the same loopback server.
	accounts.HandleFunc("POST /in/oauth/v2/token", f.OAuth.Token)
	accounts.HandleFunc("POST /in/oauth/v2/token/revoke", func(w http.ResponseWriter, r *http.Request) {
		tok := r.URL.Query().Get("token")
		if tok == "" || !f.OAuth.Revoke(tok) {
			w.WriteHeader(http.StatusBadRequest) // "If the refresh token is invalid ... HTTP status code 400"
			return
		}
		writeJSON(w, map[string]string{"status": "success"})
	})
	accountsSrv := Serve(tb, accounts)
	// The user's data centre, as the redirect back names it.
	f.OAuth.CallbackExtra = func(*http.Request) url.Values {
		return url.Values{"location": {"in"}, "accounts-server": {accountsSrv.URL + "/in"}}
	}

	f.URL = accountsSrv.URL
	// No base_url: the sources and who-am-I must use the api_domain of the
	// token answer. An any-port loopback redirect, so that cases running
	// at once do not contend for the registered port.
	f.Set = []string{"accounts_server=" + accountsSrv.URL, "client_id=" + f.OAuth.ClientID, "redirect_uri=http://127.0.0.1/callback"}
	f.Secret, f.SecretField = f.OAuth.ClientSecret, "client_secret"
	return f, nil
}

type zoho struct {
	f       *Fake
	api     string                // the api_domain
	modules map[string]zohoModule // the modules served, by API name
}

// A zohoModule is a module: the fields Get Records may name, its records
// and how to render one.
type zohoModule struct {
	fields []string
	data   *Dataset
	record func(Record) map[string]any
}

func zohoError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"code": code, "details": map[string]any{}, "message": msg, "status": "error"})
}

func (z *zoho) authorized(w http.ResponseWriter, r *http.Request) bool {
	if z.f.OAuth.Bearer(r, "Zoho-oauthtoken") {
		return true
	}
	zohoError(w, http.StatusUnauthorized, "INVALID_TOKEN", "invalid oauth token")
	return false
}

func (z *zoho) users(w http.ResponseWriter, r *http.Request) {
	if !z.authorized(w, r) {
		return
	}
	if r.URL.Query().Get("type") != "CurrentUser" {
		zohoError(w, http.StatusBadRequest, "INVALID_DATA", "the fake answers type=CurrentUser only")
		return
	}
	writeJSON(w, map[string]any{
		"users": []map[string]any{{"id": "4876876000000225013", "full_name": "Patricia Boyle", "first_name": "Patricia", "last_name": "Boyle",
			"email": zohoEmail, "status": "active", "time_zone": "Asia/Kolkata", "country_locale": "en_IN",
			"role": map[string]any{"name": "CEO", "id": "4876876000000026005"}, "profile": map[string]any{"name": "Administrator", "id": "4876876000000026011"}}},
		"info": map[string]any{"per_page": 200, "count": 1, "page": 1, "more_records": false},
	})
}

var zohoAccountFields = []string{"id", "Account_Name", "Account_Number", "Account_Type", "Industry", "Phone", "Website",
	"Billing_City", "Billing_Country", "Parent_Account", "Owner", "Created_Time", "Modified_Time"}

// The Contacts and Deals fields the fake knows (their API names, as Setup >
// Developer Space > APIs > API Names lists them).
var (
	zohoContactFields = []string{"id", "First_Name", "Last_Name", "Full_Name", "Email", "Phone", "Title", "Account_Name",
		"Owner", "Created_Time", "Modified_Time"}
	zohoDealFields = []string{"id", "Deal_Name", "Stage", "Amount", "Closing_Date", "Probability", "Pipeline",
		"Account_Name", "Contact_Name", "Owner", "Created_Time", "Modified_Time"}
)

func (z *zoho) records(w http.ResponseWriter, r *http.Request) {
	if !z.authorized(w, r) {
		return
	}
	mod, ok := z.modules[r.PathValue("module")]
	if !ok {
		zohoError(w, http.StatusBadRequest, "INVALID_MODULE", "the module name given seems to be invalid")
		return
	}
	switch mod.data.Fault() {
	case Throttle:
		w.Header().Set("Retry-After", "1")
		zohoError(w, http.StatusTooManyRequests, "TOO_MANY_REQUESTS", "The number of concurrent requests has exceeded the limit")
		return
	case Fail:
		zohoError(w, http.StatusInternalServerError, "INTERNAL_ERROR", "Internal Server Error")
		return
	}
	q := r.URL.Query()
	if q.Get("fields") == "" {
		zohoError(w, http.StatusBadRequest, "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing")
		return
	}
	fields := strings.Split(q.Get("fields"), ",")
	if len(fields) > 50 {
		zohoError(w, http.StatusBadRequest, "LIMIT_EXCEEDED", "the number of fields exceeds 50")
		return
	}
	for _, fl := range fields {
		if !inList(mod.fields, fl) {
			zohoError(w, http.StatusBadRequest, "INVALID_DATA", "invalid field "+fl)
			return
		}
	}
	per := 200
	if v := q.Get("per_page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > zohoPerPage {
			zohoError(w, http.StatusBadRequest, "INVALID_DATA", "invalid per_page")
			return
		}
		per = n
	}
	// Modified_Time has whole seconds: select on what the records show.
	var since time.Time
	ims := r.Header.Get("If-Modified-Since")
	if ims != "" {
		var err error
		if since, err = time.Parse(time.RFC3339, ims); err != nil {
			zohoError(w, http.StatusBadRequest, "INVALID_DATA", "invalid If-Modified-Since")
			return
		}
		mod.data.SawSince(since)
	}
	var match []Record
	for _, rec := range mod.data.All() {
		if ims == "" || rec.Modified.Truncate(time.Second).After(since) {
			match = append(match, rec)
		}
	}
	switch {
	case len(match) == 0 && ims != "":
		w.WriteHeader(http.StatusNotModified)
		return
	case len(match) == 0:
		w.WriteHeader(http.StatusNoContent)
		return
	}
	sort.Slice(match, func(i, j int) bool { return match[i].Seq > match[j].Seq }) // sort_by id desc, the default
	off := 0
	if tok := q.Get("page_token"); tok != "" {
		n, err := strconv.ParseInt(strings.TrimPrefix(tok, "1000."), 36, 64)
		if !strings.HasPrefix(tok, "1000.") || err != nil || n < 0 || int(n) > len(match) {
			zohoError(w, http.StatusBadRequest, "INVALID_DATA", "invalid page_token")
			return
		}
		off = int(n)
	}
	end := min(off+per, len(match))
	data := []map[string]any{}
	for _, rec := range match[off:end] {
		full := mod.record(rec)
		out := map[string]any{"id": rec.ID}
		for _, fl := range fields {
			out[fl] = full[fl]
		}
		data = append(data, out)
	}
	info := map[string]any{"per_page": per, "count": len(data), "page": off/per + 1, "sort_by": "id", "sort_order": "desc",
		"more_records": end < len(match), "next_page_token": nil, "previous_page_token": nil,
		"page_token_expiry": time.Now().Add(24 * time.Hour).In(zohoZone).Format(time.RFC3339)}
	if end < len(match) {
		info["next_page_token"] = "1000." + strconv.FormatInt(int64(end), 36)
	}
	writeJSON(w, map[string]any{"data": data, "info": info})
}

func zohoOwner() map[string]any {
	return map[string]any{"name": "Patricia Boyle", "id": "4876876000000225013", "email": zohoEmail}
}

// zohoAccount is the lookup {name, id} of the n-th account.
func zohoAccount(n int) map[string]any {
	n %= zohoRecords
	return map[string]any{"name": fmt.Sprintf("Zylker %d", n), "id": strconv.FormatInt(4876876000000333000+int64(n), 10)}
}

func (z *zoho) account(rec Record) map[string]any {
	owner := zohoOwner()
	return map[string]any{
		"id": rec.ID, "Account_Name": fmt.Sprintf("Zylker %d", rec.Seq), "Account_Number": strconv.Itoa(10000 + rec.Seq),
		"Account_Type": "Customer", "Industry": "Manufacturing", "Phone": "+91 44 6744 7070", "Website": "https://zylker.example",
		"Billing_City": "Chennai", "Billing_Country": "India", "Parent_Account": nil, "Owner": owner,
		"Created_Time":  Base.Add(-24 * time.Hour).In(zohoZone).Format(time.RFC3339),
		"Modified_Time": rec.Modified.In(zohoZone).Format(time.RFC3339),
	}
}

func (z *zoho) contact(rec Record) map[string]any {
	first, last := "Kris", fmt.Sprintf("Marrier %d", rec.Seq)
	return map[string]any{
		"id": rec.ID, "First_Name": first, "Last_Name": last, "Full_Name": first + " " + last,
		"Email": fmt.Sprintf("kris.marrier%d@zylker.example", rec.Seq), "Phone": "+91 44 6744 7071", "Title": "Procurement Lead",
		"Account_Name": zohoAccount(rec.Seq), "Owner": zohoOwner(),
		"Created_Time":  Base.Add(-24 * time.Hour).In(zohoZone).Format(time.RFC3339),
		"Modified_Time": rec.Modified.In(zohoZone).Format(time.RFC3339),
	}
}

// deal renders a Deals record: Closing_Date is a date, Amount a currency
// (a number), the lookups {name, id}.
// https://help.zoho.com/portal/en/community/topic/kaizen-39-deals-api
func (z *zoho) deal(rec Record) map[string]any {
	stages := []string{"Qualification", "Needs Analysis", "Proposal/Price Quote", "Negotiation/Review", "Closed Won"}
	probability := []int{10, 20, 75, 90, 100}
	k := rec.Seq % len(stages)
	return map[string]any{
		"id": rec.ID, "Deal_Name": fmt.Sprintf("Zylker renewal %d", rec.Seq), "Stage": stages[k],
		"Amount": 25000 + 125*rec.Seq, "Closing_Date": Base.AddDate(0, 1, rec.Seq%28).Format("2006-01-02"),
		"Probability": probability[k], "Pipeline": "Standard (Standard)",
		"Account_Name": zohoAccount(rec.Seq),
		"Contact_Name": map[string]any{"name": fmt.Sprintf("Kris Marrier %d", rec.Seq%zohoContacts),
			"id": strconv.FormatInt(4876876000000412000+int64(rec.Seq%zohoContacts), 10)},
		"Owner":         zohoOwner(),
		"Created_Time":  Base.Add(-24 * time.Hour).In(zohoZone).Format(time.RFC3339),
		"Modified_Time": rec.Modified.In(zohoZone).Format(time.RFC3339),
	}
}
