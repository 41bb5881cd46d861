// Package userimport reads users files of other systems into accounts to
// import (core.ImportedUser), keeping the line of every entry and value so
// that a refusal can name it. Today it reads Authelia's file-based users
// database (users_database.yml).
package userimport

import (
	"bytes"
	"fmt"

	"gopkg.in/yaml.v3"

	"github.com/mfagate/mfagate/internal/core"
)

// MaxFileBytes bounds the file read.
const MaxFileBytes = 32 << 20

// ignoredAutheliaFields are the other fields of an Authelia user, read and
// ignored (mfagate has no place for them).
var ignoredAutheliaFields = map[string]bool{
	"given_name": true, "middle_name": true, "family_name": true, "nickname": true, "gender": true,
	"birthdate": true, "website": true, "profile": true, "picture": true, "zoneinfo": true, "locale": true,
	"phone_number": true, "phone_extension": true, "address": true, "extra": true,
}

// ParseAuthelia reads an Authelia users file:
//
//	users:
//	  alice:
//	    disabled: false
//	    displayname: "Alice Smith"
//	    password: "$argon2id$v=19$m=65536,t=3,p=4$…"
//	    email: alice@example.com
//	    groups: [admins, dev]
//
// Every user needs a password; displayname, email, groups and disabled
// may be left out, Authelia's other fields (given_name, locale, …) are
// ignored, and an unknown field is refused (a typo would lose data
// silently). It checks the file's shape only; the values are judged by
// core.CheckImport. A malformed file is a *core.ImportError naming every
// problem with its line.
func ParseAuthelia(data []byte) ([]core.ImportedUser, error) {
	if len(data) > MaxFileBytes {
		return nil, fmt.Errorf("the file is larger than %d MiB", MaxFileBytes>>20)
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("not a YAML users file: %w", err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, problem(extra.Line, "", "a second YAML document: the file must hold one")
	}
	p := &parser{}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		return nil, problem(root.Line, "", "the file must be a mapping with a \"users\" key")
	}
	var users *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Value != "users" {
			p.bad(k.Line, "", "unknown top-level key %q (want only \"users\")", k.Value)
			continue
		}
		users = v
	}
	if users == nil {
		if len(p.problems) > 0 {
			return nil, core.NewImportError(p.problems)
		}
		return nil, problem(root.Line, "", "no \"users\" key")
	}
	users = resolve(users)
	if users.Kind != yaml.MappingNode && !isNull(users) {
		return nil, problem(users.Line, "", "\"users\" must map usernames to their fields")
	}
	var out []core.ImportedUser
	for i := 0; i+1 < len(users.Content); i += 2 {
		if iu, ok := p.user(users.Content[i], resolve(users.Content[i+1])); ok {
			out = append(out, iu)
		}
	}
	if len(p.problems) > 0 {
		return nil, core.NewImportError(p.problems)
	}
	if len(out) == 0 {
		return nil, problem(users.Line, "", "no users in the file")
	}
	return out, nil
}

func problem(line int, user, reason string) error {
	return &core.ImportError{Problems: []core.ImportProblem{{Line: line, Username: user, Reason: reason}}}
}

type parser struct {
	problems []core.ImportProblem
}

func (p *parser) bad(line int, user, format string, args ...any) {
	p.problems = append(p.problems, core.ImportProblem{Line: line, Username: user, Reason: fmt.Sprintf(format, args...)})
}

// resolve follows an alias (*name) to what it names.
func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

// user reads one entry: key is the username, v its fields.
func (p *parser) user(key, v *yaml.Node) (core.ImportedUser, bool) {
	iu := core.ImportedUser{Line: key.Line}
	if key.Kind != yaml.ScalarNode || key.Tag == "!!null" {
		p.bad(key.Line, "", "a username must be text")
		return iu, false
	}
	iu.Username = key.Value
	if v.Kind != yaml.MappingNode {
		p.bad(v.Line, iu.Username, "the user's fields must be a mapping (password, displayname, email, groups, disabled)")
		return iu, false
	}
	n0 := len(p.problems)
	seen := map[string]bool{}
	havePassword := false
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, val := v.Content[i], resolve(v.Content[i+1])
		field := k.Value
		if seen[field] {
			p.bad(k.Line, iu.Username, "the field %q is given twice", field)
			continue
		}
		seen[field] = true
		switch field {
		case "password":
			iu.PasswordHash, iu.PasswordLine = p.text(k, val, iu.Username), val.Line
			havePassword = true
		case "displayname":
			iu.DisplayName = p.text(k, val, iu.Username)
		case "email":
			iu.Email = p.text(k, val, iu.Username)
		case "disabled":
			iu.Disabled = p.flag(k, val, iu.Username)
		case "groups":
			iu.Groups, iu.GroupLines = p.groups(k, val, iu.Username)
		default:
			if !ignoredAutheliaFields[field] {
				p.bad(k.Line, iu.Username, "unknown field %q (want password, displayname, email, groups, disabled)", field)
			}
		}
	}
	if !havePassword {
		p.bad(key.Line, iu.Username, "no password hash")
	}
	return iu, len(p.problems) == n0
}

// text reads a scalar as text ("" for null).
func (p *parser) text(k, v *yaml.Node, user string) string {
	switch {
	case isNull(v):
		return ""
	case v.Kind != yaml.ScalarNode:
		p.bad(v.Line, user, "%s must be text", k.Value)
		return ""
	}
	return v.Value
}

// flag reads a boolean (null is false).
func (p *parser) flag(k, v *yaml.Node, user string) bool {
	if isNull(v) {
		return false
	}
	var b bool
	if v.Kind != yaml.ScalarNode || v.Tag != "!!bool" || v.Decode(&b) != nil {
		p.bad(v.Line, user, "%s must be true or false", k.Value)
	}
	return b
}

// groups reads a list of group names with their lines; a single name is
// taken as a list of one.
func (p *parser) groups(k, v *yaml.Node, user string) ([]string, []int) {
	switch {
	case isNull(v):
		return nil, nil
	case v.Kind == yaml.ScalarNode:
		return []string{v.Value}, []int{v.Line}
	case v.Kind != yaml.SequenceNode:
		p.bad(v.Line, user, "%s must be a list of names", k.Value)
		return nil, nil
	}
	var names []string
	var lines []int
	for _, g := range v.Content {
		g = resolve(g)
		if g.Kind != yaml.ScalarNode || isNull(g) {
			p.bad(g.Line, user, "a group must be a name")
			continue
		}
		names, lines = append(names, g.Value), append(lines, g.Line)
	}
	return names, lines
}
