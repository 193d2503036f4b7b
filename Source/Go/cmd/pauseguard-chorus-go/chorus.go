package main

import (
	"math"

	"pauseguard.dev/pauseguard"
)

// The chorus's knobs (the host's macro knobs 1 to 3).
var knobs = []pauseguard.ParameterSpec{
	{Name: "rate", Unit: "Hz", Min: 0.1, Max: 5, Default: 0.8},
	{Name: "depth", Unit: "ms", Min: 0, Max: 10, Default: 3},
	{Name: "mix", Unit: "%", Min: 0, Max: 100, Default: 50},
}

const (
	baseDelay = 0.012 // s: the delay the LFO swings around
	maxDepth  = 0.010 // s
)

type chorus struct {
	params     *pauseguard.Params
	sampleRate float64
	lines      [][]float32 // per channel, a ring of the last input
	write      int
	phase      float64      // the LFO's, in cycles
	restored   *chorusState // a state LoadState gave, until Prepare takes it
}

func newChorus() *chorus { return &chorus{} }

func (c *chorus) Name() string { return "pauseguard-chorus-go" }

func (c *chorus) Parameters() []pauseguard.ParameterSpec { return knobs }

func (c *chorus) Prepare(cfg pauseguard.Config) error {
	c.params, c.sampleRate = cfg.Params, cfg.SampleRate
	size := int(cfg.SampleRate*(baseDelay+maxDepth)) + 2
	if c.takeRestored(cfg.Channels, size) {
		return nil
	}
	c.lines = make([][]float32, cfg.Channels)
	for i := range c.lines {
		c.lines[i] = make([]float32, size)
	}
	c.write, c.phase = 0, 0
	return nil
}

// values reads every knob, in seconds and fractions (a new map every block).
func (c *chorus) values() map[string]float64 {
	v := make(map[string]float64, len(knobs))
	for _, k := range knobs {
		v[k.Name] = float64(c.params.Get(k.Name, k.Default))
	}
	v["depth"] /= 1000
	v["mix"] /= 100
	return v
}

func (c *chorus) Process(channels [][]float32) error {
	v := c.values()
	n := len(channels[0])
	size := len(c.lines[0])
	for ch, x := range channels {
		// This block's delay for each frame, in samples (a new slice per block and channel).
		delays := make([]float64, n)
		offset := float64(ch) * 0.25
		for i := range delays {
			lfo := math.Sin(2 * math.Pi * (c.phase + offset + v["rate"]*float64(i)/c.sampleRate))
			delays[i] = (baseDelay + v["depth"]*0.5*(1+lfo)) * c.sampleRate
		}
		line := c.lines[ch]
		for i, dry := range x {
			w := (c.write + i) % size
			line[w] = dry
			pos := float64(w) - delays[i]
			for pos < 0 {
				pos += float64(size)
			}
			k := int(pos)
			frac := float32(pos - float64(k))
			wet := line[k%size]*(1-frac) + line[(k+1)%size]*frac
			x[i] = float32(1-v["mix"])*dry + float32(v["mix"])*wet
		}
	}
	c.write = (c.write + n) % size
	c.phase = math.Mod(c.phase+v["rate"]*float64(n)/c.sampleRate, 1)
	return nil
}
