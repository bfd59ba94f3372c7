// Package console is the federation engineer's web console, served on
// the admin listener beside the admin API: every partner's state on one
// page, each partner's onboarding record, audit trail and access log,
// orgrel test, enable, disable and level changes (confirmed, audited),
// and the readiness of our own domains.
//
// It reads and changes everything through the services the command line
// uses — the admin API (admin.API, admin.Modify), the checks (doctor),
// the partners' activity (Activity) — and computes nothing of its own.
// Pages are server-rendered html/template with embedded assets and no
// script: forms post, the server answers with a page.
//
// Sign-in is the admin API's: the bearer token in an Authorization
// header, or the login form, which exchanges the token for a session
// cookie (HttpOnly, SameSite=Strict, Secure when the listener is TLS).
// Every form carries the session's CSRF token, checked on every POST
// together with the Origin header when the browser sends one.
package console
