package sqlstore

import (
	"database/sql"
)

type scanner interface{ Scan(dest ...any) error }

// scanAll scans every row of a query (rows, err) with scan.
func scanAll[T any](rows *sql.Rows, err error, scan func(scanner) (*T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *v)
	}
	return out, rows.Err()
}
