package httpauth

import (
	"container/list"
	"sync"
	"sync/atomic"
	"time"
)

// LimitOptions configure a Limiter. The zero value of each field is its
// default, which stops online guessing: five failures in fifteen minutes
// refuse a key for a second, and every further failure doubles that, up to
// fifteen minutes.
type LimitOptions struct {
	// MaxFailures is how many failures a key may have within Window before
	// it is refused. Default 5.
	MaxFailures int
	// Window is how long a failure is remembered after the key's last
	// failure or lock-out. Default 15m.
	Window time.Duration
	// Lockout is the first refusal's length; each further failure doubles
	// it. Default 1s.
	Lockout time.Duration
	// MaxLockout caps the refusal. Default 15m.
	MaxLockout time.Duration
	// MaxTracked bounds the keys remembered; beyond it the key whose last
	// failure is oldest is forgotten. Default 100000.
	MaxTracked int
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Limiter counts authentication failures per key (a source address, an
// account name) and refuses keys with too many, for a time that doubles
// with every further failure. Its memory is bounded: keys expire Window
// after their last failure or lock-out, and at most MaxTracked are kept.
// Its methods are safe for concurrent use.
type Limiter struct {
	opt LimitOptions

	mu    sync.Mutex
	keys  map[string]*list.Element // of *record
	order *list.List               // least recently failed first
	// tracked is order.Len(), changed under mu, read without it by
	// Tracking.
	tracked atomic.Int64
}

type record struct {
	key       string
	failures  int
	last      time.Time // last failure
	until     time.Time // refused until
	announced bool      // the current lock-out's first refusal was reported
}

// expires is when a record is forgotten.
func (r *record) expires(window time.Duration) time.Time {
	t := r.last
	if r.until.After(t) {
		t = r.until
	}
	return t.Add(window)
}

// NewLimiter returns a Limiter that remembers nothing yet.
func NewLimiter(opt LimitOptions) *Limiter {
	if opt.MaxFailures <= 0 {
		opt.MaxFailures = 5
	}
	if opt.Window <= 0 {
		opt.Window = 15 * time.Minute
	}
	if opt.Lockout <= 0 {
		opt.Lockout = time.Second
	}
	if opt.MaxLockout <= 0 {
		opt.MaxLockout = 15 * time.Minute
	}
	if opt.MaxLockout < opt.Lockout {
		opt.MaxLockout = opt.Lockout
	}
	if opt.MaxTracked <= 0 {
		opt.MaxTracked = 100000
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Limiter{opt: opt, keys: map[string]*list.Element{}, order: list.New()}
}

// Check reports how long key is still refused (0: not refused) and whether
// this is the first refusal of its current lock-out, the one to log.
func (l *Limiter) Check(key string) (wait time.Duration, first bool) {
	now := l.opt.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.keys[key]
	if !ok {
		return 0, false
	}
	r := e.Value.(*record)
	if !now.Before(r.until) {
		return 0, false
	}
	first = !r.announced
	r.announced = true
	return r.until.Sub(now), first
}

// Failed reports whether key has a failure on record.
func (l *Limiter) Failed(key string) bool {
	now := l.opt.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.keys[key]
	return ok && now.Before(e.Value.(*record).expires(l.opt.Window))
}

// Fail records a failure of key and starts or lengthens its lock-out once
// it has MaxFailures.
func (l *Limiter) Fail(key string) {
	now := l.opt.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.expire(now)
	var r *record
	if e, ok := l.keys[key]; ok {
		r = e.Value.(*record)
		l.order.MoveToBack(e)
		if !now.Before(r.expires(l.opt.Window)) {
			*r = record{key: key}
		}
	} else {
		for l.order.Len() >= l.opt.MaxTracked {
			l.remove(l.order.Front())
		}
		r = &record{key: key}
		l.keys[key] = l.order.PushBack(r)
		l.tracked.Store(int64(l.order.Len()))
	}
	r.failures++
	r.last = now
	if over := r.failures - l.opt.MaxFailures; over >= 0 {
		d := l.opt.MaxLockout
		if over < 32 && l.opt.Lockout<<over > 0 && l.opt.Lockout<<over < d {
			d = l.opt.Lockout << over
		}
		r.until = now.Add(d)
		r.announced = false
	}
}

// Reset forgets key's failures (a success).
func (l *Limiter) Reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e, ok := l.keys[key]; ok {
		l.remove(e)
	}
}

// Tracking reports whether any key has a failure remembered. When it
// reports false no key is refused or failed at that moment, so a caller
// may skip Check, Failed and Reset, which lock the limiter; a failure
// recorded meanwhile is one it would have raced with anyway.
func (l *Limiter) Tracking() bool { return l.tracked.Load() > 0 }

// Len is how many keys are remembered.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.order.Len()
}

// expire forgets records certainly past their time, oldest first: the
// order is by last failure, and a record expires at most Window plus
// MaxLockout after it. (A record that expired sooner is reset by Fail.)
func (l *Limiter) expire(now time.Time) {
	for e := l.order.Front(); e != nil; e = l.order.Front() {
		if now.Before(e.Value.(*record).last.Add(l.opt.Window + l.opt.MaxLockout)) {
			return
		}
		l.remove(e)
	}
}

func (l *Limiter) remove(e *list.Element) {
	delete(l.keys, e.Value.(*record).key)
	l.order.Remove(e)
	l.tracked.Store(int64(l.order.Len()))
}
