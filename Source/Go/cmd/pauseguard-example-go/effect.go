package main

import (
	"math"

	"pauseguard.dev/pauseguard"
)

type node struct {
	next    *node
	payload [48]byte
}

// effect is y[n] = a x[n] + b x[n-1], times the host's Output knob, with a live heap and garbage.
type effect struct {
	a, b              float64
	liveMB, garbageKB float64

	params     *pauseguard.Params
	previous   []float64 // x[n-1] per channel
	live       *node
	sink       [][]byte
	outputDB   float32
	outputGain float64
}

func (e *effect) Name() string { return "pauseguard-example-go" }

func (e *effect) Prepare(c pauseguard.Config) error {
	e.params = c.Params
	e.previous = make([]float64, c.Channels)
	e.outputDB, e.outputGain = 0, 1
	e.live = nil
	for i := 0; i < int(e.liveMB*1024*1024/64); i++ {
		e.live = &node{next: e.live}
	}
	return nil
}

func (e *effect) Process(channels [][]float32) error {
	if db := e.params.Get("output_db", 0); db != e.outputDB {
		e.outputDB, e.outputGain = db, math.Pow(10, float64(db)/20)
	}
	a, b := e.a*e.outputGain, e.b*e.outputGain
	for c, x := range channels {
		prev := e.previous[c]
		for i, v := range x {
			x[i] = float32(a*float64(v) + b*prev)
			prev = float64(v)
		}
		e.previous[c] = prev
	}
	e.sink = e.sink[:0]
	for made := 0.0; made < e.garbageKB*1024; made += 1024 {
		e.sink = append(e.sink, make([]byte, 1024))
	}
	return nil
}
