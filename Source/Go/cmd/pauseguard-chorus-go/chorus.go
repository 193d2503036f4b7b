package main

import (
	"math"

	"pauseguard.dev/pauseguard"
)

// setting is one of the chorus's knobs: the host's macro knob (0 to 1) mapped to min..max.
type setting struct {
	knob          string
	min, max, def float64
}

var settings = map[string]setting{
	"rate":  {"macro1", 0.1, 5, 0.8},     // Hz
	"depth": {"macro2", 0, 0.010, 0.003}, // s
	"mix":   {"macro3", 0, 1, 0.5},
}

const baseDelay = 0.012 // s: the delay the LFO swings around

type chorus struct {
	params     *pauseguard.Params
	sampleRate float64
	lines      [][]float32 // per channel, a ring of the last input
	write      int
	phase      float64 // the LFO's, in cycles
}

func newChorus() *chorus { return &chorus{} }

func (c *chorus) Name() string { return "pauseguard-chorus-go" }

func (c *chorus) Prepare(cfg pauseguard.Config) error {
	c.params, c.sampleRate = cfg.Params, cfg.SampleRate
	size := int(cfg.SampleRate*(baseDelay+settings["depth"].max)) + 2
	c.lines = make([][]float32, cfg.Channels)
	for i := range c.lines {
		c.lines[i] = make([]float32, size)
	}
	c.write, c.phase = 0, 0
	return nil
}

// values reads every setting from its knob (a knob the host does not give is at its default).
func (c *chorus) values() map[string]float64 {
	v := make(map[string]float64, len(settings))
	for name, s := range settings {
		knob := float64(c.params.Get(s.knob, float32((s.def-s.min)/(s.max-s.min))))
		v[name] = s.min + (s.max-s.min)*math.Max(0, math.Min(1, knob))
	}
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
