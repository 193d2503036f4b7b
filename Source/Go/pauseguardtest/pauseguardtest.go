// Package pauseguardtest runs a pauseguard.Processor in a Go test, without PauseGuard: the host's
// prepare, its varying frame counts, one reused buffer (as the host's shared memory: a Processor
// that keeps a slice sees it overwritten), and its parameters. It builds on any platform.
//
//	func TestMyEffect(t *testing.T) {
//		h := pauseguardtest.New(48000, 2, 256)
//		h.Set("macro1", 0.25)
//		out, err := h.Run(&myEffect{}, pauseguardtest.Noise(2, 4800, 1), 1, 64, 256)
//		...
//		pauseguardtest.CheckBlockSizes(t, h, func() pauseguard.Processor { return &myEffect{} })
//		pauseguardtest.CheckNaNInput(t, h, func() pauseguard.Processor { return &myEffect{} })
//		pauseguardtest.CheckStateRoundTrip(t, h, func() pauseguard.Processor { return &myEffect{} })
//	}
package pauseguardtest

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"pauseguard.dev/pauseguard"
)

// Host stands in for PauseGuard.
type Host struct {
	Config pauseguard.Config // the prepare request's settings; Config.Params are the knobs
	buffer []float32         // channels x MaxFrames, planar, reused by every call
	knobs  []knob            // as Set gave them, set again once a Declarer's are known
}

type knob struct {
	name  string
	value float32
}

// New is a host at this sample rate, channel count and largest block.
func New(sampleRate float64, channels, maxFrames int) *Host {
	return &Host{Config: pauseguard.Config{SampleRate: sampleRate, Channels: channels, MaxFrames: maxFrames,
		Params: pauseguard.NewParams()}}
}

// Set turns the host's knob called name (pauseguard.Params.Get reads it in the next call); a
// Declarer's own parameter is given in its range, and set through its macro knob.
func (h *Host) Set(name string, value float32) {
	h.knobs = append(h.knobs, knob{name, value})
	if !h.Config.Params.Set(name, value) {
		panic("pauseguardtest: more parameters than the host has room for")
	}
}

// Run prepares p, then runs in through it in blocks of the given sizes (cycled; a size above
// MaxFrames is cut into pieces, as the host does), and returns the output. in is not changed.
func (h *Host) Run(p pauseguard.Processor, in [][]float32, blockSizes ...int) ([][]float32, error) {
	if d, ok := p.(pauseguard.Declarer); ok {
		h.Config.Params.Declare(d.Parameters())
		for _, k := range h.knobs {
			h.Config.Params.Set(k.name, k.value)
		}
	}
	if err := p.Prepare(h.Config); err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}
	return h.Process(p, in, blockSizes...)
}

// Process runs in through a prepared p, as Run does without the prepare.
func (h *Host) Process(p pauseguard.Processor, in [][]float32, blockSizes ...int) ([][]float32, error) {
	if len(in) != h.Config.Channels {
		return nil, fmt.Errorf("%d channels given, %d prepared", len(in), h.Config.Channels)
	}
	if len(blockSizes) == 0 {
		blockSizes = []int{h.Config.MaxFrames}
	}
	out := make([][]float32, len(in))
	for c := range in {
		out[c] = make([]float32, 0, len(in[c]))
	}
	h.buffer = make([]float32, h.Config.Channels*h.Config.MaxFrames)
	channels := make([][]float32, h.Config.Channels)
	for pos, k := 0, 0; pos < len(in[0]); k++ {
		n := min(blockSizes[k%len(blockSizes)], h.Config.MaxFrames, len(in[0])-pos)
		if n < 1 {
			return nil, fmt.Errorf("a block of %d frames", blockSizes[k%len(blockSizes)])
		}
		for c := range channels {
			start := c * h.Config.MaxFrames
			channels[c] = h.buffer[start : start+n : start+n]
			copy(channels[c], in[c][pos:pos+n])
		}
		if err := p.Process(channels); err != nil {
			return nil, fmt.Errorf("process (frames %d to %d): %w", pos, pos+n, err)
		}
		for c := range channels {
			out[c] = append(out[c], channels[c]...)
		}
		pos += n
	}
	return out, nil
}

// Noise is channels x frames of reproducible white noise in [-0.5, 0.5).
func Noise(channels, frames int, seed int64) [][]float32 {
	r := rand.New(rand.NewSource(seed))
	x := make([][]float32, channels)
	for c := range x {
		x[c] = make([]float32, frames)
		for i := range x[c] {
			x[c][i] = r.Float32() - 0.5
		}
	}
	return x
}

// CheckBlockSizes fails t if a fresh Processor's output in blocks of 1, 2, 3, 7, 64, MaxFrames
// - 1 and MaxFrames frames, or in a mix of them, differs from its output in blocks of MaxFrames:
// the host's frame count varies from call to call.
func CheckBlockSizes(t testing.TB, h *Host, newProcessor func() pauseguard.Processor) {
	t.Helper()
	in := Noise(h.Config.Channels, 3*h.Config.MaxFrames+17, 7)
	want, err := h.Run(newProcessor(), in)
	if err != nil {
		t.Fatalf("in blocks of %d: %v", h.Config.MaxFrames, err)
	}
	max := h.Config.MaxFrames
	for _, sizes := range [][]int{{1}, {2}, {3}, {7}, {64}, {max - 1}, {max}, {1, max, 3, max - 1, 64}} {
		got, err := h.Run(newProcessor(), in, sizes...)
		if err != nil {
			t.Errorf("in blocks of %v: %v", sizes, err)
			continue
		}
		if c, i := firstDifference(want, got); c >= 0 {
			t.Errorf("in blocks of %v: channel %d, frame %d is %v, in blocks of %d it is %v", sizes, c, i, got[c][i], max, want[c][i])
		}
	}
}

// CheckNaNInput fails t if a fresh Processor fails or panics on NaN and infinite input, or if
// its output is not finite again after one second of ordinary input. (The host sanitises what
// it gives a program; a Processor's own state may still go wrong.)
func CheckNaNInput(t testing.TB, h *Host, newProcessor func() pauseguard.Processor) {
	t.Helper()
	p := newProcessor()
	bad := Noise(h.Config.Channels, 64, 3)
	for c := range bad {
		bad[c][1], bad[c][2], bad[c][3] = float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))
	}
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("Process panicked on NaN input: %v", r)
		}
	}()
	if _, err := h.Run(p, bad); err != nil {
		t.Errorf("NaN input: %v", err)
		return
	}
	second := int(h.Config.SampleRate)
	out, err := h.Process(p, Noise(h.Config.Channels, second+h.Config.MaxFrames, 4))
	if err != nil {
		t.Errorf("after NaN input: %v", err)
		return
	}
	for c := range out {
		for i := second; i < len(out[c]); i++ {
			if v := float64(out[c][i]); math.IsNaN(v) || math.IsInf(v, 0) {
				t.Errorf("one second after NaN input, channel %d, frame %d is still %v", c, i, v)
				return
			}
		}
	}
}

// CheckStateRoundTrip fails t if a Processor (a pauseguard.Stater) restored from another's saved
// state, as a reopened session or a restart restores it, does not go on exactly as the one that
// saved it: both run the same audio before and after the save, the restored one loaded before its
// Prepare, as the host does.
func CheckStateRoundTrip(t testing.TB, h *Host, newProcessor func() pauseguard.Processor) {
	t.Helper()
	first := newProcessor()
	saver, ok := first.(pauseguard.Stater)
	if !ok {
		t.Fatalf("%T keeps no state (it is not a pauseguard.Stater)", first)
	}
	before, after := Noise(h.Config.Channels, 2*h.Config.MaxFrames+5, 5), Noise(h.Config.Channels, 2*h.Config.MaxFrames+5, 6)
	if _, err := h.Run(first, before); err != nil {
		t.Fatalf("before the save: %v", err)
	}
	state, err := saver.SaveState()
	if err != nil {
		t.Fatalf("SaveState: %v", err)
	}
	if len(state) > 65536 {
		t.Errorf("a state of %d bytes: the host has room for 64 KB", len(state))
	}
	want, err := h.Process(first, after)
	if err != nil {
		t.Fatalf("after the save: %v", err)
	}
	second := newProcessor()
	if err := second.(pauseguard.Stater).LoadState(state); err != nil {
		t.Fatalf("LoadState: %v", err)
	}
	got, err := h.Run(second, after)
	if err != nil {
		t.Fatalf("restored: %v", err)
	}
	if c, i := firstDifference(want, got); c >= 0 {
		t.Errorf("restored from the saved state: channel %d, frame %d is %v, not %v", c, i, got[c][i], want[c][i])
	}
}

func firstDifference(a, b [][]float32) (channel, frame int) {
	for c := range a {
		for i := range a[c] {
			if i >= len(b[c]) || a[c][i] != b[c][i] {
				return c, i
			}
		}
	}
	return -1, -1
}

func min(values ...int) int {
	m := values[0]
	for _, v := range values[1:] {
		if v < m {
			m = v
		}
	}
	return m
}
