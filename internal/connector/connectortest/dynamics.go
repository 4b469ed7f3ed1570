package connectortest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Microsoft Dynamics 365 / Dataverse, following Microsoft's documented
// shapes. Two servers, as in real life: the Entra ID sign-in server and the
// Dataverse environment (the org URL), which only accepts Entra's tokens.
//   - Entra ID v2 authorization code with PKCE for a public client
//     ("Mobile and desktop applications"): GET /{tenant}/oauth2/v2.0/authorize
//     with scope "{org}/.default offline_access", POST
//     /{tenant}/oauth2/v2.0/token answering {token_type, scope, expires_in,
//     ext_expires_in, access_token, refresh_token}
//     (https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow,
//     https://learn.microsoft.com/power-apps/developer/data-platform/authenticate-oauth).
//     There is no revocation endpoint.
//   - who-am-I: GET {org}/api/data/v9.2/WhoAmI answering {@odata.context,
//     BusinessUnitId, UserId, OrganizationId}
//     (https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/whoami);
//     a missing or dead token is a 401 with an empty body and a
//     WWW-Authenticate: Bearer authorization_uri=... header.
//   - rows: GET {org}/api/data/v9.2/{accounts|contacts}?$select=&$filter=modifiedon ge
//     {utc}&$orderby=modifiedon asc with Prefer: odata.maxpagesize=n (at most
//     5,000; larger is ignored) answering Preference-Applied and
//     {@odata.context, value:[{@odata.etag, ...columns}], @odata.nextLink}
//     where the next link carries a $skiptoken paging cookie
//     (https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query/page-results,
//     https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query/filter-rows).
//   - errors {"error":{"code","message"}}
//     (https://learn.microsoft.com/power-apps/developer/data-platform/webapi/compose-http-requests-handle-errors,
//     codes: https://learn.microsoft.com/power-apps/developer/data-platform/org-service/web-service-error-codes);
//     service protection limits answer 429 with Retry-After in seconds and
//     code 0x80072322 (https://learn.microsoft.com/power-apps/developer/data-platform/api-limits).
func init() {
	register(Case{Connector: "dynamics", Source: "accounts", Account: dynUserID, Start: startDynamics,
		Also: []SourceRun{{Source: "contacts", Records: dynContacts}}})
}

const (
	dynTenant = "contoso.onmicrosoft.com"
	dynUserID = "5a8f0c21-7d3e-4b6a-9f12-3c4d5e6f7a8b"
	dynOrgID  = "0e4b7c9d-2a1f-4e3b-8c5d-6f7a8b9c0d1e"
	dynBUID   = "b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e"
	// dynMaxPage is the largest page Dataverse serves; with the source's
	// odata.maxpagesize=5000, dynRows spans three pages.
	dynMaxPage = 5000
	dynRows    = 2*dynMaxPage + 50
	// dynContacts spans two pages of the contacts entity set.
	dynContacts = dynMaxPage + 25
)

func startDynamics(tb testing.TB) (*Fake, error) {
	f := &Fake{Data: NewDataset(dynRows, func(i int) string { return fmt.Sprintf("4a7c1e20-3b5d-4f00-9c1e-%012d", i) })}
	d := &dynamics{f: f}
	d.sets = map[string]dynSet{
		"accounts": {key: "accountid", entity: "account", columns: dynAccountColumns, data: f.Data, row: d.account},
		"contacts": {key: "contactid", entity: "contact", columns: dynContactColumns, row: d.contact,
			data: NewDataset(dynContacts, func(i int) string { return fmt.Sprintf("9c3e5b71-0d2a-4e6f-8b14-%012d", i) })},
	}
	// A public client: no secret, PKCE only, as the catalogue's how-to registers it.
	f.OAuth = &OAuth{ClientID: "51f81489-12ee-4a9e-aaae-a2591f45987d", ClientAuth: "params", Prefix: "eyJ0eXAi.",
		Extra: func(*http.Request) map[string]any {
			return map[string]any{"scope": d.org + "/user_impersonation", "ext_expires_in": 3600}
		}}

	org := http.NewServeMux()
	org.HandleFunc("GET /api/data/v9.2/WhoAmI", func(w http.ResponseWriter, r *http.Request) {
		if !d.authorized(w, r) {
			return
		}
		dynJSON(w, http.StatusOK, map[string]any{"@odata.context": d.org + "/api/data/v9.2/$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse",
			"BusinessUnitId": dynBUID, "UserId": dynUserID, "OrganizationId": dynOrgID})
	})
	org.HandleFunc("GET /api/data/v9.2/{set}", d.rows)
	Serve(tb, org, func(u string) { d.org = u })

	login := http.NewServeMux()
	login.HandleFunc("GET /{tenant}/oauth2/v2.0/authorize", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("tenant") != dynTenant {
			http.Error(w, "AADSTS90002: Tenant '"+r.PathValue("tenant")+"' not found.", http.StatusBadRequest)
			return
		}
		// The token must be for the environment: the scope names it.
		scopes := strings.Fields(r.URL.Query().Get("scope"))
		if !inList(scopes, d.org+"/.default") || !inList(scopes, "offline_access") {
			http.Error(w, "AADSTS70011: The provided request must include a 'scope' input parameter naming "+d.org+"/.default and offline_access.", http.StatusBadRequest)
			return
		}
		f.OAuth.Authorize(w, r)
	})
	login.HandleFunc("POST /{tenant}/oauth2/v2.0/token", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("tenant") != dynTenant {
			tokenError(w, http.StatusBadRequest, "invalid_request", "AADSTS90002: Tenant not found.")
			return
		}
		f.OAuth.Token(w, r)
	})
	loginSrv := Serve(tb, login)

	f.URL = d.org
	f.Set = []string{"org_url=" + d.org, "tenant=" + dynTenant, "client_id=" + f.OAuth.ClientID,
		"auth_url=" + loginSrv.URL + "/" + dynTenant + "/oauth2/v2.0/authorize",
		"token_url=" + loginSrv.URL + "/" + dynTenant + "/oauth2/v2.0/token"}
	return f, nil
}

type dynamics struct {
	f    *Fake
	org  string            // the environment URL
	sets map[string]dynSet // the entity sets served, by name
}

// A dynSet is an entity set: its primary key, entity type, the columns
// $select may name, its rows and how to render one.
type dynSet struct {
	key, entity string
	columns     []string
	data        *Dataset
	row         func(Record) map[string]any
}

func inList(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func dynJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; odata.metadata=minimal")
	w.Header().Set("OData-Version", "4.0")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func dynError(w http.ResponseWriter, status int, code, msg string) {
	dynJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

// authorized answers 401 as Dataverse does when r has no live Entra token.
func (d *dynamics) authorized(w http.ResponseWriter, r *http.Request) bool {
	if d.f.OAuth.Bearer(r, "Bearer") {
		return true
	}
	w.Header().Set("WWW-Authenticate", "Bearer authorization_uri=https://login.microsoftonline.com/"+dynTenant+"/oauth2/authorize, resource_id="+d.org+"/")
	w.WriteHeader(http.StatusUnauthorized)
	return false
}

var (
	dynFilter         = regexp.MustCompile(`^modifiedon ge (\S+)$`)
	dynPageSize       = regexp.MustCompile(`(?:^|[,;\s])odata\.maxpagesize=(\d+)`)
	dynCookie         = regexp.MustCompile(`pagenumber="(\d+)"`)
	dynAccountColumns = []string{"accountid", "name", "accountnumber", "telephone1", "emailaddress1", "websiteurl", "address1_city",
		"address1_country", "industrycode", "_parentaccountid_value", "_ownerid_value", "statecode", "createdon", "modifiedon"}
	// https://learn.microsoft.com/power-apps/developer/data-platform/reference/entities/contact
	dynContactColumns = []string{"contactid", "fullname", "firstname", "lastname", "emailaddress1", "telephone1", "jobtitle",
		"_parentcustomerid_value", "_ownerid_value", "statecode", "createdon", "modifiedon"}
)

func (d *dynamics) rows(w http.ResponseWriter, r *http.Request) {
	if !d.authorized(w, r) {
		return
	}
	set, ok := d.sets[r.PathValue("set")]
	if !ok {
		dynError(w, http.StatusNotFound, "0x80060888", "Resource not found for the segment '"+r.PathValue("set")+"'.")
		return
	}
	switch set.data.Fault() {
	case Throttle:
		w.Header().Set("Retry-After", "1")
		dynError(w, http.StatusTooManyRequests, "0x80072322", "Number of requests exceeded the limit of 6000 over time window of 300 seconds.")
		return
	case Fail:
		dynError(w, http.StatusInternalServerError, "0x80040216", "An unexpected error occurred.")
		return
	}
	q := r.URL.Query()
	selected := strings.Split(q.Get("$select"), ",")
	for _, c := range selected {
		if !inList(set.columns, c) {
			dynError(w, http.StatusBadRequest, "0x80060888", fmt.Sprintf("Could not find a property named '%s' on type 'Microsoft.Dynamics.CRM.%s'.", c, set.entity))
			return
		}
	}
	if ob := q.Get("$orderby"); ob != "" && ob != "modifiedon asc" {
		dynError(w, http.StatusBadRequest, "0x80060888", "The fake orders by modifiedon asc only, not "+ob)
		return
	}
	var since time.Time
	if f := q.Get("$filter"); f != "" {
		m := dynFilter.FindStringSubmatch(f)
		var err error
		if m != nil {
			since, err = time.Parse(time.RFC3339, m[1])
		}
		if m == nil || err != nil {
			dynError(w, http.StatusBadRequest, "0x80060888", "Syntax error at position 0 in '"+f+"'.")
			return
		}
		set.data.SawSince(since)
	}
	// modifiedon has whole seconds: filter on what the rows show.
	var match []Record
	for _, rec := range set.data.All() {
		if since.IsZero() || !rec.Modified.Truncate(time.Second).Before(since) {
			match = append(match, rec)
		}
	}
	size := dynMaxPage
	if m := dynPageSize.FindStringSubmatch(r.Header.Get("Prefer")); m != nil {
		if n, err := strconv.Atoi(m[1]); err == nil && n > 0 && n <= dynMaxPage {
			size = n
			w.Header().Set("Preference-Applied", "odata.maxpagesize="+m[1])
		}
	}
	page := 1
	if tok := q.Get("$skiptoken"); tok != "" {
		m := dynCookie.FindStringSubmatch(tok)
		if m == nil {
			dynError(w, http.StatusBadRequest, "0x80040203", "Invalid $skiptoken.")
			return
		}
		page, _ = strconv.Atoi(m[1])
	}
	off := min((page-1)*size, len(match))
	end := min(off+size, len(match))
	value := []map[string]any{}
	for _, rec := range match[off:end] {
		row := set.row(rec)
		out := map[string]any{"@odata.etag": row["@odata.etag"], set.key: rec.ID}
		for _, c := range selected {
			if c != "" {
				out[c] = row[c]
			}
		}
		value = append(value, out)
	}
	body := map[string]any{"@odata.context": d.org + "/api/data/v9.2/$metadata#" + r.PathValue("set") + "(" + q.Get("$select") + ")", "value": value}
	if end < len(match) {
		// The paging cookie names the last row read; the fake reads the page number.
		last := match[end-1].ID
		cookie := fmt.Sprintf(`<cookie pagenumber="%d" pagingcookie="%s" istracking="False" />`, page+1,
			url.QueryEscape(url.QueryEscape(fmt.Sprintf(`<cookie page="%d"><%s last="{%s}" first="{%s}" /></cookie>`, page, set.key, last, match[off].ID))))
		q.Set("$skiptoken", cookie)
		next := url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path, RawQuery: strings.ReplaceAll(q.Encode(), "+", "%20")}
		body["@odata.nextLink"] = next.String()
	}
	dynJSON(w, http.StatusOK, body)
}

func dynEtag(rec Record) string {
	return fmt.Sprintf(`W/"%d"`, 72201545+rec.Seq+int(rec.Modified.Unix()%100000))
}

func (d *dynamics) account(rec Record) map[string]any {
	at := rec.Modified.UTC().Format("2006-01-02T15:04:05Z")
	return map[string]any{
		"@odata.etag":            dynEtag(rec),
		"accountid":              rec.ID,
		"name":                   fmt.Sprintf("Fourth Coffee %d", rec.Seq),
		"accountnumber":          fmt.Sprintf("ACC-%05d", rec.Seq),
		"telephone1":             "425-555-0100",
		"emailaddress1":          fmt.Sprintf("contact%d@fourthcoffee.example", rec.Seq),
		"websiteurl":             "https://fourthcoffee.example",
		"address1_city":          "Redmond",
		"address1_country":       "United States",
		"industrycode":           33,
		"_parentaccountid_value": nil,
		"_ownerid_value":         dynUserID,
		"statecode":              0,
		"createdon":              Base.Add(-24 * time.Hour).Format("2006-01-02T15:04:05Z"),
		"modifiedon":             at,
	}
}

func (d *dynamics) contact(rec Record) map[string]any {
	first, last := "Yvonne", fmt.Sprintf("McKay %d", rec.Seq)
	return map[string]any{
		"@odata.etag":             dynEtag(rec),
		"contactid":               rec.ID,
		"fullname":                first + " " + last,
		"firstname":               first,
		"lastname":                last,
		"emailaddress1":           fmt.Sprintf("yvonne%d@fourthcoffee.example", rec.Seq),
		"telephone1":              "425-555-0101",
		"jobtitle":                "Purchasing Manager",
		"_parentcustomerid_value": fmt.Sprintf("4a7c1e20-3b5d-4f00-9c1e-%012d", rec.Seq%dynRows),
		"_ownerid_value":          dynUserID,
		"statecode":               0,
		"createdon":               Base.Add(-24 * time.Hour).Format("2006-01-02T15:04:05Z"),
		"modifiedon":              rec.Modified.UTC().Format("2006-01-02T15:04:05Z"),
	}
}
