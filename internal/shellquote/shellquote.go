// Package shellquote writes words for a POSIX shell, so that the commands
// calfed prints as hints can be pasted as they stand: a relationship
// named Northshire NHS Trust is 'Northshire NHS Trust'.
package shellquote

import "strings"

// Word is s as one shell word: unchanged when it holds only characters
// no shell treats specially, otherwise in single quotes (a single quote
// inside written '\”).
func Word(s string) string {
	if s == "" {
		return "''"
	}
	safe := true
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("@%+=:,./_-", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Join is the words quoted and separated by spaces.
func Join(words ...string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = Word(w)
	}
	return strings.Join(q, " ")
}
