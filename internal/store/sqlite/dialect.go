package sqlite

import (
	"errors"
	"time"

	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/store/schema"
	"github.com/mfagate/mfagate/internal/store/sqlstore"
)

// dialect is SQLite for the shared SQL layer. Every write transaction runs
// on the one write connection with BEGIN IMMEDIATE (the DSN's _txlock), so
// writers are serialised and need no row or table locks; reads run on the
// query-only pool. Times are INTEGER Unix milliseconds.
var dialect = &sqlstore.Dialect{
	Name:          "sqlite",
	Time:          func(t time.Time) any { return t.UnixMilli() },
	GroupsJSON:    groupsJSONSQL,
	NoLimit:       int64(-1),
	Classify:      classify,
	MigrationsDDL: migrationsDDL,
	RecordMigration: func(m schema.Migration) (string, []any) {
		return "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)", []any{m.Version, sqlstore.Now().UnixMilli()}
	},
}

// groupsJSONSQL is the JSON array of the groups of the user aliased u.
const groupsJSONSQL = "(SELECT json_group_array(g.grp) FROM user_groups g WHERE g.user_id = u.id)"

// migrationsDDL creates the table of applied migrations.
const migrationsDDL = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY,
	applied_at INTEGER NOT NULL
) STRICT`

// classify maps unique and primary-key violations to model.ErrConflict and
// foreign-key violations (the parent row is missing) to model.ErrNotFound.
func classify(err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return model.ErrConflict
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return model.ErrNotFound
		}
	}
	return nil
}
