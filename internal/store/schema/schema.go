// Package schema reads the versioned SQL migrations that each store backend
// embeds (migrations/NNNN_description.sql), so every backend orders and
// validates them the same way.
package schema

import (
	"fmt"
	"io/fs"
	"strconv"
	"strings"
)

// Migration is one schema step.
type Migration struct {
	Version int64
	Name    string
	SQL     string
}

// Load returns the migrations in dir of fsys in ascending version order.
// Names must start with a positive version and '_'; versions must rise.
func Load(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir) // sorted by name
	if err != nil {
		return nil, err
	}
	var ms []Migration
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".sql") {
			continue
		}
		prefix, _, ok := strings.Cut(name, "_")
		v, err := strconv.ParseInt(prefix, 10, 64)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %q: name must start with a positive version and '_'", name)
		}
		if len(ms) > 0 && v <= ms[len(ms)-1].Version {
			return nil, fmt.Errorf("migration %q: version %d not above %d", name, v, ms[len(ms)-1].Version)
		}
		body, err := fs.ReadFile(fsys, dir+"/"+name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, Migration{Version: v, Name: name, SQL: string(body)})
	}
	return ms, nil
}

// UpTo returns the migrations of ms up to and including version, as an
// older binary would have applied them (for upgrade tests). version must
// be one of ms.
func UpTo(ms []Migration, version int64) ([]Migration, error) {
	var upTo []Migration
	for _, m := range ms {
		if m.Version <= version {
			upTo = append(upTo, m)
		}
	}
	if len(upTo) == 0 || upTo[len(upTo)-1].Version != version {
		return nil, fmt.Errorf("no migration with version %d", version)
	}
	return upTo, nil
}
