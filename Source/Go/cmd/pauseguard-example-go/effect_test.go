package main

import (
	"math"
	"testing"

	"pauseguard.dev/pauseguard"
	"pauseguard.dev/pauseguard/pauseguardtest"
)

func newEffect() pauseguard.Processor { return &effect{a: 0.5, b: 0.25, liveMB: 0.1, garbageKB: 4} }

func TestTheFilterIsExactInBlocksOfAnySize(t *testing.T) {
	h := pauseguardtest.New(48000, 2, 256)
	pauseguardtest.CheckBlockSizes(t, h, newEffect)
	pauseguardtest.CheckNaNInput(t, h, newEffect)
	in := pauseguardtest.Noise(2, 1000, 1)
	out, err := h.Run(newEffect(), in, 1, 255, 7)
	if err != nil {
		t.Fatal(err)
	}
	for c := range in {
		for i := range in[c] {
			want := 0.5 * float64(in[c][i])
			if i > 0 {
				want += 0.25 * float64(in[c][i-1])
			}
			if out[c][i] != float32(want) {
				t.Fatalf("channel %d, frame %d: %v, not %v", c, i, out[c][i], float32(want))
			}
		}
	}
}

func TestTheOutputKnobScalesTheOutput(t *testing.T) {
	h := pauseguardtest.New(48000, 1, 64)
	in := [][]float32{{1, 0, 0, 0}}
	h.Set("output_db", -20)
	out, err := h.Run(newEffect(), in)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(float64(out[0][0])-0.05) > 1e-6 || math.Abs(float64(out[0][1])-0.025) > 1e-6 {
		t.Errorf("at -20 dB the impulse gives %v", out[0][:2])
	}
}
