package pgstore

import (
	"database/sql"
	"embed"
	"errors"
	"fmt"

	"github.com/golang-migrate/migrate/v4"
	migratepgx "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
)

// migrations are the schema, one numbered file per step. A step is never
// changed once released, and none drops or rewrites data: a newer connctl
// adds tables and columns that an older one ignores.
//
//go:embed migrations/*.sql
var migrations embed.FS

// MigrationsTable is golang-migrate's record of the schema version.
const MigrationsTable = "connctl_schema_migrations"

// migrateUp applies the migrations this build has and the database lacks.
// golang-migrate holds a PostgreSQL advisory lock meanwhile, so machines
// starting at once apply each step once. A database migrated by a newer
// connctl (a version this build does not know) is used as it is.
func migrateUp(pool *pgxpool.Pool) error {
	db := stdlib.OpenDBFromPool(pool)
	defer func() { _ = db.Close() }()
	return migrateDB(db)
}

func migrateDB(db *sql.DB) error {
	src, err := iofs.New(migrations, "migrations")
	if err != nil {
		return err
	}
	drv, err := migratepgx.WithInstance(db, &migratepgx.Config{MigrationsTable: MigrationsTable})
	if err != nil {
		return fmt.Errorf("prepare the schema: %w", err)
	}
	m, err := migrate.NewWithInstance("iofs", src, "pgx5", drv)
	if err != nil {
		return err
	}
	defer func() { _, _ = m.Close() }()
	err = m.Up()
	if err == nil || errors.Is(err, migrate.ErrNoChange) {
		return nil
	}
	if v, dirty, verr := m.Version(); verr == nil && !dirty {
		if int(v) > latestSchema {
			return nil // a newer connctl's schema: its additions are ignored
		}
	}
	return fmt.Errorf("update the schema: %w", err)
}
