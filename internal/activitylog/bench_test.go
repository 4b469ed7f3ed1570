package activitylog

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"time"
)

// BenchmarkStore1M measures the queries behind `connctl list` (FailedSince)
// and `connctl activities --failed --since 24h` over 1,000,000 stored
// activities: a year of history, 200 connections, 1,000 jobs, one activity
// every ~31 s; a fifth are updates, and of the executions 85% succeeded, 5%
// partially, 7% failed and 3% were cancelled (drawn from a seeded generator),
// plus 50 stale runs. The fixture
// is built once, in one transaction, and the time it took is logged.
func BenchmarkStore1M(b *testing.B) {
	const n = 1_000_000
	now := time.Now().UTC()
	s, err := Open(b.TempDir()+"/"+FileName, WithClock(func() time.Time { return now }))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	dead := deadPIDB(b)

	start := time.Now()
	tx, err := s.db.Begin()
	if err != nil {
		b.Fatal(err)
	}
	stmt, err := tx.Prepare(insertActivity)
	if err != nil {
		b.Fatal(err)
	}
	year := 365 * 24 * time.Hour
	step := year / n
	pid := os.Getpid()
	rng := rand.New(rand.NewPCG(1, 2)) // the same fixture every time
	for i := range n {
		started := now.Add(-year + time.Duration(i)*step).UnixNano()
		jobN := rng.IntN(1000)
		conn := fmt.Sprintf("conn-%03d", jobN%200)
		job := fmt.Sprintf("job-%04d", jobN)
		typ, action, status, reason, msg := "execution", "run", "succeeded", "", ""
		var finished any = started + int64(40*time.Second)
		var changes any
		runPID := pid
		switch r := rng.IntN(100); {
		case rng.IntN(5) == 0:
			typ, action, changes = "update", "edit", `[{"field":"schedule","old":"@daily","new":"@hourly"}]`
			finished = started
		case i%20_000 == 1:
			status, finished, runPID = "running", nil, dead
		case r >= 97:
			status, msg = "cancelled", "interrupted"
		case r >= 90:
			status, reason, msg = "failed", "source_error", "GET /api/v2/tickets: 500 Internal Server Error"
		case r >= 85:
			status, reason, msg = "partially_succeeded", "rate_limit", "429 after 5 retries"
		}
		_, err := stmt.Exec(typ, action, conn, conn, job, job, status, reason, msg, "ada", started, finished,
			1000, 1<<20, 10, 0, changes, runPID, s.host, "")
		if err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	fi, _ := os.Stat(s.path)
	wal, _ := os.Stat(s.path + "-wal")
	b.Logf("inserted %d activities in one transaction in %s (file %d MB, WAL %d MB)", n, time.Since(start).Round(time.Millisecond), fi.Size()>>20, wal.Size()>>20)

	day := now.Add(-24 * time.Hour)
	failed, err := s.FailedSince(ctx, day)
	if err != nil {
		b.Fatal(err)
	}
	list, err := s.List(ctx, Filter{FailedOnly: true, Since: day, Limit: 50})
	if err != nil || len(list) != 50 {
		b.Fatalf("List: %d, %v", len(list), err)
	}
	total := 0
	for _, c := range failed {
		total += c
	}
	b.Logf("last 24h: %d failed activities over %d connections", total, len(failed))

	b.Run("FailedSince24h", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.FailedSince(ctx, day); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ListFailedSince24hLimit50", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.List(ctx, Filter{FailedOnly: true, Since: day, Limit: 50}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ListFailedLimit50", func(b *testing.B) { // no --since: all failures, newest first
		for b.Loop() {
			if _, err := s.List(ctx, Filter{FailedOnly: true, Limit: 50}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ListNewest50", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.List(ctx, Filter{Limit: 50}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ListConnectionLimit50", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.List(ctx, Filter{ConnectionID: "conn-042", Limit: 50}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("BeginRunFinish", func(b *testing.B) {
		i := 0
		for b.Loop() {
			id, err := s.BeginRun(ctx, Activity{JobID: "job-0007", ConnectionID: "conn-007"})
			if err != nil {
				b.Fatal(err)
			}
			if err := s.Finish(ctx, id, StatusSucceeded, "", "", Counts{Records: int64(i)}); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("Open", func(b *testing.B) {
		for b.Loop() {
			s2, err := Open(s.path)
			if err != nil {
				b.Fatal(err)
			}
			s2.Close()
		}
	})

	start = time.Now()
	pruned, err := s.Prune(ctx, now.Add(-90*24*time.Hour))
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("Prune --older-than 90d: %d activities in %s", pruned, time.Since(start).Round(time.Millisecond))
}

func deadPIDB(b *testing.B) int {
	cmd := helperCmd(b, "exit", "", "")
	if err := cmd.Run(); err != nil {
		b.Fatal(err)
	}
	return cmd.Process.Pid
}
