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
	startGCPercent int
	running        atomic.Uint32 // a cycle started by a concurrent collect runs
	lastSeconds    atomic.Uint64 // the last asked-for cycle's duration, in ns
}

// setHostCollects turns Go's automatic collection off (the engine starts the cycles) or back
// on, at the GOGC the program was started with.
func (c *collector) setHostCollects(host bool) {
	if host {
		if percent := debug.SetGCPercent(-1); percent >= 0 {
			c.startGCPercent = percent
		}
	} else {
		debug.SetGCPercent(c.startGCPercent)
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
