package core

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/safetext"
)

// TestRenameMethodsValidatesAndStores: a good name is stored (trimmed);
// an empty, too long or invisible-character name is refused with
// safetext's reason and nothing changes; another user's method is not
// found.
func TestRenameMethodsValidatesAndStores(t *testing.T) {
	ctx := context.Background()
	f := newApprovalFixture(t)
	sealed, err := f.c.Codes.Seal(f.user.ID, make([]byte, 20))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.c.Methods.AddAuthenticator(ctx, f.user, sealed, "192.0.2.1", false); err != nil {
		t.Fatal(err)
	}
	auths, err := f.st.TOTPAuthenticators(ctx, f.user.ID)
	if err != nil || len(auths) != 1 {
		t.Fatalf("authenticators = %v, %v", auths, err)
	}
	aid, did := auths[0].ID, f.device.ID
	renames := map[string]func(id int64, name string) error{
		"authenticator": func(id int64, name string) error {
			return f.c.Methods.RenameAuthenticator(ctx, f.user, id, name, "192.0.2.1")
		},
		"phone": func(id int64, name string) error { return f.c.Phones.Rename(ctx, f.user, id, name, "192.0.2.1") },
	}
	names := func() (string, string) {
		a, err := f.st.TOTPAuthenticators(ctx, f.user.ID)
		if err != nil {
			t.Fatal(err)
		}
		d, err := f.st.DeviceByID(ctx, did)
		if err != nil {
			t.Fatal(err)
		}
		return a[0].Name, d.Name
	}
	if err := renames["authenticator"](aid, "  Work laptop  "); err != nil {
		t.Fatal(err)
	}
	if err := renames["phone"](did, "Pixel 8"); err != nil {
		t.Fatal(err)
	}
	if a, d := names(); a != "Work laptop" || d != "Pixel 8" {
		t.Fatalf("names = %q, %q; want %q, %q", a, d, "Work laptop", "Pixel 8")
	}
	ids := map[string]int64{"authenticator": aid, "phone": did}
	for kind, rename := range renames {
		for _, c := range []struct {
			name string
			want error
		}{
			{"", safetext.ErrNameEmpty},
			{"   ", safetext.ErrNameEmpty},
			{strings.Repeat("x", MaxMethodName+1), safetext.ErrNameTooLong},
			{"Work\u202Elaptop", safetext.ErrNameInvisible},
			{"Work\u200Blaptop", safetext.ErrNameInvisible},
		} {
			if err := rename(ids[kind], c.name); !errors.Is(err, c.want) {
				t.Errorf("%s renamed to %q: %v, want %v", kind, c.name, err, c.want)
			}
		}
		if err := rename(ids[kind]+1000, "Other"); !errors.Is(err, model.ErrNotFound) {
			t.Errorf("%s: renaming an unknown one: %v, want model.ErrNotFound", kind, err)
		}
	}
	if a, d := names(); a != "Work laptop" || d != "Pixel 8" {
		t.Errorf("refused renames changed the names to %q, %q", a, d)
	}
}
