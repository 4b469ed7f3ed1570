package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/rogpeppe/go-internal/testscript"
)

// pg-has-no MARK...: no row of any table of the team store at
// $CONNCTL_STORE_URL holds any MARK (secrets never reach PostgreSQL).
func cmdPGHasNo(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) == 0 || neg {
		ts.Fatalf("usage: pg-has-no MARK...")
	}
	url := ts.Getenv("CONNCTL_STORE_URL")
	if url == "" {
		ts.Fatalf("pg-has-no: CONNCTL_STORE_URL is not set (pg-start sets it)")
	}
	rows, tables, hits, err := dumpFind(context.Background(), url, args)
	ts.Check(err)
	if len(hits) > 0 {
		ts.Fatalf("the team store holds a secret:\n%s", strings.Join(hits, "\n"))
	}
	ts.Logf("%d rows in %d tables, none holds %q", rows, tables, args)
}

// dumpFind reads every row of every table of the database at url (as
// JSON) and returns those that contain one of marks, as "TABLE: ROW".
func dumpFind(ctx context.Context, url string, marks []string) (rows, tables int, hits []string, err error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return 0, 0, nil, err
	}
	defer conn.Close(ctx)
	r, err := conn.Query(ctx, `SELECT format('%I.%I', table_schema, table_name) FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')`)
	if err != nil {
		return 0, 0, nil, err
	}
	names, err := pgx.CollectRows(r, pgx.RowTo[string])
	if err != nil {
		return 0, 0, nil, err
	}
	if len(names) < 4 {
		return 0, 0, nil, fmt.Errorf("only %d tables: %v", len(names), names)
	}
	for _, table := range names {
		r, err := conn.Query(ctx, `SELECT row_to_json(t)::text FROM `+table+` t`)
		if err != nil {
			return 0, 0, nil, err
		}
		dump, err := pgx.CollectRows(r, pgx.RowTo[string])
		if err != nil {
			return 0, 0, nil, err
		}
		for _, row := range dump {
			rows++
			for _, m := range marks {
				if strings.Contains(row, m) {
					hits = append(hits, table+": "+row)
					break
				}
			}
		}
	}
	return rows, len(names), hits, nil
}
