package admin

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/calfed/calfed/orgrel"
)

// Summarize says in one line what an audit entry changed: "created",
// "removed", or each changed field with its old and new value.
func Summarize(e orgrel.AuditEntry) string {
	before, after := flatten(e.Before), flatten(e.After)
	var changed []string
	for k, v := range after {
		if k == "version" || k == "updated" || k == "changed_at" || k == "changed_by" {
			continue
		}
		if before[k] != v {
			if before == nil {
				continue
			}
			changed = append(changed, fmt.Sprintf("%s: %s -> %s", k, orDash(before[k]), orDash(v)))
		}
	}
	switch {
	case before == nil && after != nil:
		return "created"
	case after == nil && before != nil:
		return "removed"
	}
	if len(changed) == 0 {
		return "-"
	}
	slices.Sort(changed)
	return strings.Join(changed, "; ")
}

// flatten turns a JSON object into field → value text, nested objects
// with dotted names; nil for no object.
func flatten(raw []byte) map[string]string {
	if len(raw) == 0 {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	out := map[string]string{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch t := v.(type) {
		case map[string]any:
			for k, x := range t {
				walk(strings.TrimPrefix(prefix+"."+k, "."), x)
			}
		case []any:
			parts := make([]string, len(t))
			for i, x := range t {
				parts[i] = fmt.Sprint(x)
			}
			out[prefix] = strings.Join(parts, ",")
		case nil:
			out[prefix] = ""
		default:
			out[prefix] = fmt.Sprint(t)
		}
	}
	walk("", m)
	return out
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
