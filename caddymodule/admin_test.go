package caddymodule

import (
	"path/filepath"
	"strings"
	"testing"
)

// admin_group adapts from the Caddyfile, defaults to "admins", and a name
// the admin center could not match is refused before the store opens.
func TestAdminGroupOption(t *testing.T) {
	out, err := adapt(t, "{\n\tmfa {\n\t\tadmin_group \"IT admins\"\n\t}\n}\n:8080 {\n\tmfa_gateway\n}\n")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `"admin_group":"IT admins"`) {
		t.Errorf("adapted JSON lacks admin_group:\n%s", out)
	}
	if _, err := adapt(t, "{\n\tmfa {\n\t\tadmin_group a b\n\t}\n}\n"); err == nil || !strings.Contains(err.Error(), "Caddyfile:") {
		t.Errorf("two values: %v", err)
	}
	a := &App{StorageRaw: storageJSON(t, "sqlite", "path", filepath.Join(t.TempDir(), "ok.db")), BcryptCost: 10}
	if err := provision(t, a); err != nil || a.AdminGroup != "admins" || a.services.Core.Admin.Group() != "admins" {
		t.Fatalf("default: %q, %v", a.AdminGroup, err)
	}
	for _, bad := range []string{"a,b", " padded", "zero\u200bwidth"} {
		db := filepath.Join(t.TempDir(), "mfagate.db")
		a := &App{StorageRaw: storageJSON(t, "sqlite", "path", db), BcryptCost: 10, AdminGroup: bad}
		if err := provision(t, a); err == nil || !strings.Contains(err.Error(), "admin_group") {
			t.Errorf("admin_group %q: %v", bad, err)
		}
		if exists(db) {
			t.Errorf("admin_group %q: the store was opened", bad)
		}
	}
}
