package pauseguardtest

import (
	"fmt"
	"math"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"pauseguard.dev/pauseguard"
)

// recorder is a testing.TB that records failures instead of failing the test.
type recorder struct {
	testing.TB
	failures []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.failures = append(r.failures, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

// failures runs a check and returns what it reported.
func failures(check func(testing.TB)) []string {
	r := &recorder{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		check(r)
	}()
	<-done
	return r.failures
}

// smoother: y[n] = (x[n] + x[n-1]) / 2, correct in blocks of any size; its last sample per channel
// is kept in a field (so NaN input poisons it until the state is repaired).
type smoother struct {
	last            []float32
	firstOfEachCall bool // a bug: x[n-1] is taken as 0 at every call's start
	repairs         bool // NaN in its state is reset to 0
}

func (s *smoother) Prepare(c pauseguard.Config) error {
	s.last = make([]float32, c.Channels)
	return nil
}
func (s *smoother) Process(channels [][]float32) error {
	for c, x := range channels {
		prev := s.last[c]
		if s.firstOfEachCall {
			prev = 0
		}
		for i, v := range x {
			x[i], prev = (v+prev)/2, v
		}
		if s.repairs && (math.IsNaN(float64(prev)) || math.IsInf(float64(prev), 0)) {
			prev = 0
		}
		s.last[c] = prev
	}
	return nil
}

func TestCheckBlockSizesPassesACorrectProcessorAndCatchesABlockSizeBug(t *testing.T) {
	h := New(48000, 2, 128)
	if f := failures(func(tb testing.TB) { CheckBlockSizes(tb, h, func() pauseguard.Processor { return &smoother{} }) }); len(f) != 0 {
		t.Errorf("a correct processor: %v", f)
	}
	f := failures(func(tb testing.TB) {
		CheckBlockSizes(tb, h, func() pauseguard.Processor { return &smoother{firstOfEachCall: true} })
	})
	if len(f) == 0 {
		t.Error("a processor that forgets its state between calls passed")
	}
}

func TestCheckNaNInputCatchesAStateThatStaysNaN(t *testing.T) {
	h := New(8000, 1, 64)
	if f := failures(func(tb testing.TB) {
		CheckNaNInput(tb, h, func() pauseguard.Processor { return &smoother{repairs: true} })
	}); len(f) != 0 {
		t.Errorf("a processor that repairs its state: %v", f)
	}
	if f := failures(func(tb testing.TB) { CheckNaNInput(tb, h, func() pauseguard.Processor { return &stuck{} }) }); len(f) == 0 {
		t.Error("a processor whose state stays NaN passed")
	}
}

// stuck accumulates its input: one NaN and it is NaN for good.
type stuck struct{ sum float32 }

func (s *stuck) Prepare(pauseguard.Config) error { s.sum = 0; return nil }
func (s *stuck) Process(channels [][]float32) error {
	for i, v := range channels[0] {
		s.sum += v
		channels[0][i] = s.sum * 1e-3
	}
	return nil
}

// A processor that keeps a slice sees it overwritten by the next call, as with the host.
type keeper struct{ kept []float32 }

func (k *keeper) Prepare(pauseguard.Config) error { return nil }
func (k *keeper) Process(channels [][]float32) error {
	if k.kept == nil {
		k.kept = channels[0]
	}
	return nil
}

func TestRunReusesOneBufferAndGivesTheParameters(t *testing.T) {
	h := New(48000, 1, 4)
	k := &keeper{}
	if _, err := h.Run(k, [][]float32{{1, 2, 3, 4, 5, 6, 7, 8}}); err != nil {
		t.Fatal(err)
	}
	if k.kept[0] != 5 {
		t.Errorf("a kept slice holds %v: the buffer was not reused", k.kept[0])
	}
	h.Set("macro1", 0.25)
	if got := h.Config.Params.Get("macro1", 1); got != 0.25 {
		t.Errorf("macro1 is %v", got)
	}
	if got := h.Config.Params.Get("macro2", 1); got != 1 {
		t.Errorf("an unset parameter is %v, not its fallback", got)
	}
}

// accumulator keeps a running sum per channel; with forget it saves it but loads nothing back.
type accumulator struct {
	sum    []float32
	loaded []float32
	forget bool
}

func (a *accumulator) Prepare(c pauseguard.Config) error {
	a.sum = make([]float32, c.Channels)
	copy(a.sum, a.loaded)
	return nil
}
func (a *accumulator) Process(channels [][]float32) error {
	for c, x := range channels {
		for i, v := range x {
			a.sum[c] += v
			x[i] = a.sum[c] * 1e-3
		}
	}
	return nil
}
func (a *accumulator) SaveState() ([]byte, error) { return []byte(fmt.Sprint(a.sum)), nil }
func (a *accumulator) LoadState(state []byte) error {
	if a.forget {
		return nil
	}
	a.loaded = nil
	for _, field := range strings.Fields(strings.Trim(string(state), "[]")) {
		v, err := strconv.ParseFloat(field, 32)
		if err != nil {
			return err
		}
		a.loaded = append(a.loaded, float32(v))
	}
	return nil
}

func TestCheckStateRoundTripCatchesAStateNotRestored(t *testing.T) {
	h := New(48000, 2, 32)
	if f := failures(func(tb testing.TB) { CheckStateRoundTrip(tb, h, func() pauseguard.Processor { return &accumulator{} }) }); len(f) != 0 {
		t.Errorf("a processor that restores its state: %v", f)
	}
	if f := failures(func(tb testing.TB) {
		CheckStateRoundTrip(tb, h, func() pauseguard.Processor { return &accumulator{forget: true} })
	}); len(f) == 0 {
		t.Error("a processor that does not restore its state passed")
	}
}
