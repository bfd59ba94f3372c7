package calendar

import "time"

// SourceStatus is how one mailbox's calendar source has fared.
type SourceStatus struct {
	Mailbox string // the mailbox's address
	Source  string // its source (Source.String)
	// Checked is when the source was last read, or found unchanged,
	// without an error; zero if never.
	Checked  time.Time
	Failures int64 // reads that failed since the directory was made
	Loaded   bool  // its first load has ended (Progress counts it)
	Err      error // why the calendar is unavailable now; nil when it is served
}

// Status reports every mailbox's calendar source, in configuration order.
func (d *Directory) Status() []SourceStatus {
	out := make([]SourceStatus, len(d.order))
	for i, en := range d.order {
		s := SourceStatus{Mailbox: en.mb.Address, Source: en.src.String(), Failures: en.failures.Load()}
		if n := en.checked.Load(); n != 0 {
			s.Checked = time.Unix(0, n)
		}
		if st := en.state.Load(); st != nil {
			s.Loaded, s.Err = true, st.err
		}
		out[i] = s
	}
	return out
}
