package activitylog

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
)

// A run's records without the incremental field are kept with its counts
// and come back with the activity.
func TestFinishKeepsRecordsWithoutCursor(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	ctx := context.Background()
	id, err := s.BeginRun(ctx, Activity{JobID: "j1", ConnectionID: "c1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Finish(ctx, id, StatusSucceeded, "", "", Counts{Records: 5, Pages: 1, WithoutCursor: 2}); err != nil {
		t.Fatal(err)
	}
	got, err := s.List(ctx, Filter{JobID: "j1"})
	if err != nil || len(got) != 1 || got[0].Records != 5 || got[0].WithoutCursor != 2 {
		t.Fatalf("%+v, %v", got, err)
	}
	if err := s.Finish(ctx, id, StatusSucceeded, "", "", Counts{WithoutCursor: -1}); err == nil {
		t.Error("negative count accepted")
	}
}

// A log written before without_cursor existed (schema version 1) is
// migrated: its rows read 0.
func TestMigrateAddsWithoutCursor(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), FileName)
	db, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		t.Fatal(err)
	}
	stmts := []string{migrations[0], fmt.Sprintf("PRAGMA user_version = 1; PRAGMA application_id = %d", applicationID),
		`INSERT INTO activities (type, action, connection_id, connection_name, job_id, job_name, status, reason, message, who,
			started_at, finished_at, records, bytes, pages, retries, changes, pid, host, proc_start)
		 VALUES ('execution', 'run', 'c1', 'c', 'j1', 'j', 'succeeded', '', '', 'ada', 1, 2, 7, 0, 1, 0, NULL, 1, 'h', '')`}
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.List(context.Background(), Filter{JobID: "j1"})
	if err != nil || len(got) != 1 || got[0].Records != 7 || got[0].WithoutCursor != 0 {
		t.Fatalf("%+v, %v", got, err)
	}
}
