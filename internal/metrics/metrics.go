// Package metrics is calfed's Prometheus instrumentation, in one place:
// the counters and histograms the request paths feed (partner requests by
// partner, operation and outcome and their latency; delegation-token and
// sign-in refusals by reason), and the state read at each scrape
// (calendar reload age and failures per mailbox, the access policy's
// age, certificate expiry, domain-proof status). One Metrics is made per
// server, with its own registry; nothing is global. A nil *Metrics
// records nothing, so that components built without one need no checks.
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/calfed/calfed/orgrel"
)

// CalendarStatus is one mailbox's calendar as the directory holds it.
type CalendarStatus struct {
	Mailbox string
	// Checked is when its source was last read or found unchanged
	// without an error; zero if never.
	Checked  time.Time
	Failures int64 // reads that failed since the server started
	Failed   bool  // the calendar is unavailable now
}

// PolicyStatus is the access policy in force.
type PolicyStatus struct {
	Change    int64     // the store's change counter it was loaded at
	Confirmed time.Time // when the store last showed it current
}

// Certificate is a certificate the server depends on.
type Certificate struct {
	Use      string // "federation" or "tls"
	Slot     string // next, current, previous (federation); "" for tls
	NotAfter time.Time
}

// State is where the scrape-time figures come from; each nil function
// leaves its figures out.
type State struct {
	Calendars    func() []CalendarStatus
	Policy       func() PolicyStatus
	Certificates func(ctx context.Context) ([]Certificate, error)
	DomainProofs func(ctx context.Context) ([]orgrel.DomainCheck, error)
	Now          func() time.Time // default time.Now
	Logger       *slog.Logger     // scrape-time failures; nil discards
}

// Metrics holds the server's metrics.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	refused  *prometheus.CounterVec
	lag      prometheus.Histogram
}

// New returns the metrics of one server, with the Go runtime's and the
// process's beside calfed's.
func New(st State) *Metrics {
	if st.Now == nil {
		st.Now = time.Now
	}
	if st.Logger == nil {
		st.Logger = slog.New(slog.DiscardHandler)
	}
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "calfed_partner_requests_total",
			Help: "Requests from verified partners, by partner (our relationship, or the caller's domain without one), operation and outcome (ok, partial, denied, failed, unavailable).",
		}, []string{"partner", "operation", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "calfed_partner_request_duration_seconds",
			Help:    "Time to answer a verified partner's request, by operation and outcome.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"operation", "outcome"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "calfed_refusals_total",
			Help: "Callers refused before reaching an endpoint: kind token (a delegation token, reason its cause) or login (a service account's sign-in: no_credentials, invalid, throttled, busy).",
		}, []string{"kind", "reason"}),
	}
	m.lag = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "calfed_policy_change_lag_seconds",
		Help:    "From a change to relationships, sharing, accounts or trust being made (by the clock of whoever made it) to this server putting it in force.",
		Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300},
	})
	m.reg.MustRegister(m.requests, m.latency, m.refused, m.lag, &state{st: st, failed: map[string]string{}},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in Prometheus's exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Timeout: 10 * time.Second})
}

// Registry is the metrics' registry, for tests that read a figure.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Request counts a finished partner request (the access log's entry).
func (m *Metrics) Request(e *orgrel.AccessEntry) {
	if m == nil {
		return
	}
	partner := e.Relationship
	if partner == "" {
		partner = "(none)" // a caller's domain is the sender's choice: no label per domain
	}
	m.requests.WithLabelValues(partner, e.Operation, e.Outcome).Inc()
	m.latency.WithLabelValues(e.Operation, e.Outcome).Observe(e.Duration.Seconds())
}

// PolicyApplied records how long a change took to be put in force here
// (live.Options.Applied).
func (m *Metrics) PolicyApplied(change int64, lag time.Duration) {
	if m == nil {
		return
	}
	m.lag.Observe(max(lag, 0).Seconds())
}

// TokenRefused counts a refused delegation token by its cause
// (federation.Cause: a short fixed list).
func (m *Metrics) TokenRefused(cause string) {
	if m == nil {
		return
	}
	m.refused.WithLabelValues("token", cause).Inc()
}

// Reasons a sign-in is refused.
const (
	LoginNoCredentials = "no_credentials"
	LoginInvalid       = "invalid"
	LoginThrottled     = "throttled"
	LoginBusy          = "busy"
)

// LoginRefused counts a refused service-account sign-in by reason (one
// of the Login constants).
func (m *Metrics) LoginRefused(reason string) {
	if m == nil {
		return
	}
	m.refused.WithLabelValues("login", reason).Inc()
}

// state collects the figures read at each scrape, logging each change of
// a source's failure once (a scraper asks every few seconds).
type state struct {
	st     State
	mu     sync.Mutex
	failed map[string]string // source: its last error
}

var (
	descCalendarAge = prometheus.NewDesc("calfed_calendar_reload_age_seconds",
		"Seconds since the mailbox's calendar source was last read or found unchanged without an error.", []string{"mailbox"}, nil)
	descCalendarFailures = prometheus.NewDesc("calfed_calendar_reload_failures_total",
		"Reads of the mailbox's calendar source that failed since the server started.", []string{"mailbox"}, nil)
	descCalendarUp = prometheus.NewDesc("calfed_calendar_available",
		"1 when the mailbox's calendar is served, 0 when it is unavailable (its mailbox answers ErrorFreeBusyGenerationFailed).", []string{"mailbox"}, nil)
	descPolicyAge = prometheus.NewDesc("calfed_policy_age_seconds",
		"Seconds since the store last showed the access policy in force to be current: how far behind the store's changes this server may be (beyond store.max_policy_age partners are refused).", nil, nil)
	descPolicyChange = prometheus.NewDesc("calfed_policy_change",
		"The store's change counter the access policy in force was loaded at.", nil, nil)
	descCertExpiry = prometheus.NewDesc("calfed_certificate_expiry_timestamp_seconds",
		"When a certificate the server depends on expires (Unix time), by use (federation, tls) and slot.", []string{"use", "slot"}, nil)
	descProof = prometheus.NewDesc("calfed_domain_proof_status",
		"1 for the status of the last check of each domain proof (pass, fail, none, permerror, temperror), by kind (ours, partner).", []string{"domain", "kind", "status"}, nil)
	descProofChecked = prometheus.NewDesc("calfed_domain_proof_checked_timestamp_seconds",
		"When each domain proof was last checked (Unix time).", []string{"domain", "kind"}, nil)
	descScrapeError = prometheus.NewDesc("calfed_metrics_source_up",
		"1 when a scrape-time source (certificates, domain_proofs) could be read.", []string{"source"}, nil)
)

func (c *state) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descCalendarAge, descCalendarFailures, descCalendarUp, descPolicyAge, descPolicyChange,
		descCertExpiry, descProof, descProofChecked, descScrapeError} {
		ch <- d
	}
}

func (c *state) Collect(ch chan<- prometheus.Metric) {
	st := c.st
	now := st.Now()
	if st.Calendars != nil {
		for _, cs := range st.Calendars() {
			if !cs.Checked.IsZero() {
				ch <- prometheus.MustNewConstMetric(descCalendarAge, prometheus.GaugeValue, now.Sub(cs.Checked).Seconds(), cs.Mailbox)
			}
			ch <- prometheus.MustNewConstMetric(descCalendarFailures, prometheus.CounterValue, float64(cs.Failures), cs.Mailbox)
			up := 1.0
			if cs.Failed {
				up = 0
			}
			ch <- prometheus.MustNewConstMetric(descCalendarUp, prometheus.GaugeValue, up, cs.Mailbox)
		}
	}
	if st.Policy != nil {
		p := st.Policy()
		ch <- prometheus.MustNewConstMetric(descPolicyAge, prometheus.GaugeValue, now.Sub(p.Confirmed).Seconds())
		ch <- prometheus.MustNewConstMetric(descPolicyChange, prometheus.GaugeValue, float64(p.Change))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	up := func(source string, err error) {
		v, msg := 1.0, ""
		if err != nil {
			v, msg = 0, err.Error()
		}
		c.mu.Lock()
		prev := c.failed[source]
		c.failed[source] = msg
		c.mu.Unlock()
		switch {
		case msg != "" && msg != prev:
			st.Logger.Warn("metrics: cannot read "+source+"; its figures are left out until it can", "err", err)
		case msg == "" && prev != "":
			st.Logger.Info("metrics: " + source + " read again")
		}
		ch <- prometheus.MustNewConstMetric(descScrapeError, prometheus.GaugeValue, v, source)
	}
	if st.Certificates != nil {
		cs, err := st.Certificates(ctx)
		for _, c := range cs {
			ch <- prometheus.MustNewConstMetric(descCertExpiry, prometheus.GaugeValue, float64(c.NotAfter.Unix()), c.Use, c.Slot)
		}
		up("certificates", err)
	}
	if st.DomainProofs != nil {
		checks, err := st.DomainProofs(ctx)
		for _, d := range checks {
			ch <- prometheus.MustNewConstMetric(descProof, prometheus.GaugeValue, 1, d.Domain, d.Kind, d.Status)
			ch <- prometheus.MustNewConstMetric(descProofChecked, prometheus.GaugeValue, float64(d.Checked.Unix()), d.Domain, d.Kind)
		}
		up("domain_proofs", err)
	}
}
