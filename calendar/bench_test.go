package calendar

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/calfed/calfed/internal/synth"
)

var benchNow = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

// Goal (d): 10,000 mailboxes loaded in under 1 GiB. Reports the live heap
// after loading (heap-MiB) and the instances held (instances).
func BenchmarkDirectory10000Mailboxes(b *testing.B) {
	p := synth.Profile{Start: benchNow, Days: 62, DailySeries: 2, WeeklySeries: 5, Singles: 40}
	for b.Loop() {
		entries := make([]Entry, 10000)
		for i := range entries {
			entries[i] = Entry{Mailbox: Mailbox{Address: fmt.Sprintf("user%d@example.org", i), Location: london},
				Source: StaticSource{Name: "synthetic.ics", Data: synth.Calendar(p, uint64(i))}}
		}
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		d, err := NewDirectory(b.Context(), entries, DirectoryOptions{Now: func() time.Time { return benchNow }})
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		_, instances, failed := d.Stats()
		if failed != 0 {
			b.Fatalf("%d calendars failed", failed)
		}
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "heap-MiB")
		b.ReportMetric(float64(instances), "instances")
		runtime.KeepAlive(d)
	}
}

// One query of a busy calendar inside the pre-expanded horizon, and one
// outside it that expands on demand.
func BenchmarkEvents(b *testing.B) {
	cal, err := Parse([]File{{Name: "s.ics", Data: synth.Calendar(synth.Profile{Start: benchNow, Days: 62, DailySeries: 4, WeeklySeries: 15, Singles: 190}, 1)}},
		Options{Location: london, HorizonFrom: benchNow.AddDate(0, 0, -31), HorizonTo: benchNow.AddDate(0, 0, 400)})
	if err != nil {
		b.Fatal(err)
	}
	for _, w := range []struct {
		name     string
		from, to time.Time
	}{
		{"horizon-7d", benchNow.AddDate(0, 0, 21), benchNow.AddDate(0, 0, 28)},
		{"on-demand-7d", benchNow.AddDate(2, 0, 0), benchNow.AddDate(2, 0, 7)},
	} {
		b.Run(w.name, func(b *testing.B) {
			b.ReportAllocs()
			var n int
			for b.Loop() {
				evs, err := cal.Events(w.from, w.to)
				if err != nil {
					b.Fatal(err)
				}
				n = len(evs)
			}
			b.ReportMetric(float64(n), "events/op")
		})
	}
}

// Goal: a calendar whose series began ten years ago answers within 1.5×
// of the same calendar with new series (begun weeks before the window;
// the same instances in it), for 62-day windows from two years back to
// two years ahead of the horizon's centre. benchstat -col /series. The
// kept runs ask again a span already expanded (outside the horizon);
// the expanded runs expand the series for every query.
func BenchmarkSeriesAge(b *testing.B) {
	for _, w := range []struct {
		name string
		days int
	}{{"-2y", -730}, {"-1y", -365}, {"-60d", -60}, {"now", 0}, {"+1y", 365}, {"+2y", 730}} {
		from := benchNow.AddDate(0, 0, w.days)
		to := from.AddDate(0, 0, 62)
		for _, age := range []struct {
			name  string
			weeks int
		}{{"new", 0}, {"10y", 522}} {
			p := synth.Profile{Start: from.AddDate(0, 0, -31), Days: 124, DailySeries: 2, WeeklySeries: 4, Singles: 230, SeriesWeeksBack: age.weeks}
			cal, err := Parse([]File{{Name: "s.ics", Data: synth.Calendar(p, 7)}},
				Options{Location: london, HorizonFrom: benchNow.AddDate(0, 0, -31), HorizonTo: benchNow.AddDate(0, 0, 400)})
			if err != nil {
				b.Fatal(err)
			}
			for _, cold := range []bool{false, true} {
				name := "window=" + w.name + "/series=" + age.name + "/kept"
				if cold {
					name = "window=" + w.name + "/series=" + age.name + "/expanded"
				}
				b.Run(name, func(b *testing.B) {
					b.ReportAllocs()
					var n int
					for b.Loop() {
						if cold {
							cal.spill.Store(nil) // expand every time, as the first query of a span does
						}
						evs, err := cal.Events(from, to)
						if err != nil {
							b.Fatal(err)
						}
						n = len(evs)
					}
					b.ReportMetric(float64(n), "events/op")
				})
			}
		}
	}
}

// Goal: 10,000 mailboxes of realistic calendars (synth.Realistic: about
// 450 VEVENTs each, series with exceptions and overrides, singles) in at
// most 1 GiB of resident memory, ready in at most 15 s on two cores.
// The calendars are written to files first, and read as a server reads
// them (FileSource); what is measured is loading them: the live heap
// after loading (heap-MiB), the process's peak resident set
// (peak-rss-MiB, the benchmark's own garbage included), the seconds
// until every calendar is loaded (ready-s), the CPU seconds that took
// (cpu-s), the bytes allocated a mailbox (alloc-KB/mailbox) and the
// instances held (instances). CALFED_BENCH_MAILBOXES changes the count.
// Without a memory limit the garbage collector lets the process grow to
// about twice the live heap while calendars load; GOMEMLIMIT (as the
// server's limits.memory_limit_bytes) bounds peak-rss-MiB.
func BenchmarkDirectoryRealistic(b *testing.B) {
	n := 10000
	if v, err := strconv.Atoi(os.Getenv("CALFED_BENCH_MAILBOXES")); err == nil && v > 0 {
		n = v
	}
	dir := b.TempDir()
	entries := make([]Entry, n)
	for i := range entries {
		path := filepath.Join(dir, fmt.Sprintf("user%d.ics", i))
		if err := os.WriteFile(path, synth.Realistic(uint64(i), benchNow), 0o644); err != nil {
			b.Fatal(err)
		}
		entries[i] = Entry{Mailbox: Mailbox{Address: fmt.Sprintf("user%d@example.org", i), Location: london}, Source: FileSource{Path: path}}
	}
	for b.Loop() {
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		began, cpu := time.Now(), cpuTime()
		d, err := NewDirectory(b.Context(), entries, DirectoryOptions{Now: func() time.Time { return benchNow }})
		if err != nil {
			b.Fatal(err)
		}
		ready, cpu := time.Since(began), cpuTime()-cpu
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		allocated := after.TotalAlloc - before.TotalAlloc
		runtime.GC()
		runtime.ReadMemStats(&after)
		_, instances, failed := d.Stats()
		if failed != 0 {
			b.Fatalf("%d calendars failed", failed)
		}
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "heap-MiB")
		b.ReportMetric(peakRSS()/(1<<20), "peak-rss-MiB")
		b.ReportMetric(ready.Seconds(), "ready-s")
		b.ReportMetric(cpu.Seconds(), "cpu-s")
		b.ReportMetric(float64(allocated)/float64(n)/1024, "alloc-KB/mailbox")
		b.ReportMetric(float64(instances), "instances")
		runtime.KeepAlive(d)
	}
}

// cpuTime is the CPU time the process has used: on a machine shared with
// other work, what loading cost, where the wall clock says little.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// peakRSS is the process's peak resident set in bytes (VmHWM), 0 where
// /proc does not say.
func peakRSS() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb * 1024
		}
	}
	return 0
}

// What compiling costs (from decoded VEVENTs to the kept Calendar) for
// realistic calendars, without reading their text: the model's share of
// loading a directory, with one scratch reused as a loader reuses it.
func BenchmarkCompileRealistic(b *testing.B) {
	const n = 50
	decoded := make([][]vevent, n)
	for i := range decoded {
		var problems []Problem
		sc := new(scratch)
		if err := sc.decodeFile(File{Name: "r.ics", Data: synth.Realistic(uint64(i), benchNow)}, london, &problems); err != nil {
			b.Fatal(err)
		}
		decoded[i] = sc.events
	}
	sc := new(scratch)
	opt := Options{Location: london, Owner: "user@example.org", HorizonFrom: benchNow.Add(-defaultHorizonPast), HorizonTo: benchNow.Add(defaultHorizonAhead), MaxInstances: defaultMaxInstances}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := sc.compile(decoded[i%n], opt, &reporter{}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
