package pauseguard

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
	"time"
)

// collector runs the collections the engine asks for, and reads the runtime's figures.
type collector struct {
	startGCPercent int           // the applier's (the GOGC the program was started with)
	setGCPercent   func(int) int // debug.SetGCPercent (a test replaces it)
	hostCollects   atomic.Bool   // what the engine asked for last
	kick           chan struct{} // to the applier: hostCollects changed
	running        atomic.Uint32 // a cycle started by a concurrent collect runs
	lastSeconds    atomic.Uint64 // the last asked-for cycle's duration, in ns
}

// setHostCollects asks for Go's automatic collection off (the engine starts the cycles) or back
// on, at the GOGC the program was started with. It never waits: debug.SetGCPercent(-1) waits for
// a running cycle's mark phase to end, so a goroutine of the collector's own applies the switch,
// off the request path.
func (c *collector) setHostCollects(host bool) {
	c.hostCollects.Store(host)
	if c.kick == nil {
		c.startApplier()
	}
	select {
	case c.kick <- struct{}{}:
	default: // the applier has a kick pending: it reads the latest wish
	}
}

func (c *collector) startApplier() {
	c.kick = make(chan struct{}, 1)
	if c.setGCPercent == nil {
		c.setGCPercent = debug.SetGCPercent
	}
	go func() {
		applied := false
		for range c.kick {
			host := c.hostCollects.Load()
			if host == applied {
				continue
			}
			if host {
				if percent := c.setGCPercent(-1); percent >= 0 {
					c.startGCPercent = percent
				}
			} else {
				c.setGCPercent(c.startGCPercent)
			}
			applied = host
		}
	}()
}

// stop ends the applier (the server's last call).
func (c *collector) stop() {
	if c.kick != nil {
		close(c.kick)
		c.kick = nil
	}
}

// collect runs a cycle now, or (concurrent) starts one beside the next process calls, unless one
// runs already.
func (c *collector) collect(concurrent bool) {
	if !concurrent {
		t0 := time.Now()
		runtime.GC()
		c.lastSeconds.Store(uint64(time.Since(t0)))
		return
	}
	if c.running.CompareAndSwap(0, 1) {
		go func() {
			t0 := time.Now()
			runtime.GC()
			c.lastSeconds.Store(uint64(time.Since(t0)))
			c.running.Store(0)
		}()
	}
}

var heapSamples = []metrics.Sample{
	{Name: "/memory/classes/heap/objects:bytes"},
	{Name: "/gc/cycles/total:gc-cycles"},
}

var pauseSamples = []metrics.Sample{{Name: "/gc/pauses:seconds"}}

// readHeap fills the heap's figures, cheap to read, from runtime/metrics.
func readHeap(s *Stats) {
	metrics.Read(heapSamples)
	if heapSamples[0].Value.Kind() == metrics.KindUint64 {
		s.HeapBytes = heapSamples[0].Value.Uint64()
	}
	if heapSamples[1].Value.Kind() == metrics.KindUint64 {
		s.Collections = heapSamples[1].Value.Uint64()
	}
}

// readStats fills s from runtime/metrics: the heap's figures and the pauses' histogram.
func readStats(s *Stats) {
	readHeap(s)
	metrics.Read(pauseSamples)
	if pauseSamples[0].Value.Kind() != metrics.KindFloat64Histogram {
		return
	}
	h := pauseSamples[0].Value.Float64Histogram()
	var total uint64
	for _, c := range h.Counts {
		total += c
	}
	s.PauseCount = total
	s.PauseP50, s.PauseP99, s.PauseMax = 0, 0, 0
	if total == 0 {
		return
	}
	// Each bucket's upper bound (the histogram's buckets are ranges): a pause is at most that.
	var seen uint64
	for i, c := range h.Counts {
		if c == 0 {
			continue
		}
		seen += c
		upper := h.Buckets[i+1]
		if upper > 1e9 { // the last bucket is unbounded: its lower bound
			upper = h.Buckets[i]
		}
		if s.PauseP50 == 0 && seen*2 >= total {
			s.PauseP50 = upper
		}
		if s.PauseP99 == 0 && seen*100 >= total*99 {
			s.PauseP99 = upper
		}
		s.PauseMax = upper
	}
}
