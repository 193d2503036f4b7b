package main

import (
	"math"
	"testing"

	"pauseguard.dev/pauseguard"
	"pauseguard.dev/pauseguard/pauseguardtest"
)

func newProcessor() pauseguard.Processor { return newChorus() }

func TestTheChorusIsTheSameInBlocksOfAnySizeAndSurvivesNaN(t *testing.T) {
	h := pauseguardtest.New(48000, 2, 256)
	pauseguardtest.CheckBlockSizes(t, h, newProcessor)
	pauseguardtest.CheckNaNInput(t, h, newProcessor)
}

func TestItsKnobs(t *testing.T) {
	h := pauseguardtest.New(48000, 1, 512)
	in := pauseguardtest.Noise(1, 4800, 2)

	h.Set("mix", 0) // the dry signal
	out, err := h.Run(newChorus(), in)
	if err != nil {
		t.Fatal(err)
	}
	for i := range in[0] {
		if out[0][i] != in[0][i] {
			t.Fatalf("mix 0, frame %d: %v, not %v", i, out[0][i], in[0][i])
		}
	}

	// Mix 1, depth 0: the input delayed by 12 ms exactly (576 samples).
	h.Set("mix", 100)
	h.Set("depth", 0)
	out, err = h.Run(newChorus(), in)
	if err != nil {
		t.Fatal(err)
	}
	for i := 576; i < len(in[0]); i++ {
		if math.Abs(float64(out[0][i]-in[0][i-576])) > 1e-6 {
			t.Fatalf("mix 1, depth 0, frame %d: %v, not %v", i, out[0][i], in[0][i-576])
		}
	}

	// Depth: the delay swings, so the output is no longer the fixed delay.
	h.Set("depth", 10)
	out, err = h.Run(newChorus(), in)
	if err != nil {
		t.Fatal(err)
	}
	var moved float64
	for i := 1200; i < len(in[0]); i++ {
		moved = math.Max(moved, math.Abs(float64(out[0][i]-in[0][i-576])))
	}
	if moved < 0.01 {
		t.Errorf("depth 10 ms changed the output by %v only", moved)
	}
}

func TestItsStateGoesWithTheSession(t *testing.T) {
	pauseguardtest.CheckStateRoundTrip(t, pauseguardtest.New(48000, 2, 256), newProcessor)
	if err := newChorus().LoadState([]byte("rubbish")); err == nil {
		t.Error("a state that is not a chorus's was taken")
	}
}
