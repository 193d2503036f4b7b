// pauseguard-example-go: a Go effect for PauseGuard that allocates the way Go code does. It
// computes y[n] = 0.5 x[n] + 0.25 x[n-1] per channel (the engine's tests check it sample by
// sample), keeps a live heap of small linked objects for the collector to mark, and makes garbage
// in every call.
//
//	-live-heap-mb M   live heap built at prepare (default 16)
//	-garbage-kb K     garbage made per call (default 64)
//	-effect E         filter (the default, as above) or identity (y[n] = x[n], for delay measurements)
//	-gain G           the output times G (default 1)
//
// An engine's output_db parameter (0 dB if none is given) scales the output
// too, automation included: the host's parameters reach the program (pauseguard.Parameter).
package main

import (
	"flag"
	"fmt"
	"math"
	"os"

	"pauseguard/pauseguard"
)

type node struct {
	next    *node
	payload [48]byte
}

func main() {
	liveMB := flag.Float64("live-heap-mb", 16, "live heap built at prepare, in MB")
	garbageKB := flag.Float64("garbage-kb", 64, "garbage made per call, in KB")
	effect := flag.String("effect", "filter", "filter (y = 0.5 x + 0.25 x[n-1]) or identity (y = x)")
	gain := flag.Float64("gain", 1, "output gain")
	flag.Parse()
	if *effect != "filter" && *effect != "identity" {
		fmt.Fprintf(os.Stderr, "pauseguard-example-go: -effect is filter or identity, not %q\n", *effect)
		os.Exit(2)
	}
	a, b := 0.5**gain, 0.25**gain
	if *effect == "identity" {
		a, b = *gain, 0
	}

	var live *node
	var previous []float64
	var sink [][]byte
	prepare := func(p pauseguard.Prepared) {
		previous = make([]float64, p.Channels)
		live = nil
		for i := 0; i < int(*liveMB*1024*1024/64); i++ {
			live = &node{next: live}
		}
	}
	outputDB := float32(0)
	outputGain := 1.0
	process := func(channels [][]float32) {
		if db := pauseguard.Parameter("output_db", 0); db != outputDB {
			outputDB, outputGain = db, math.Pow(10, float64(db)/20)
		}
		a, b := a*outputGain, b*outputGain
		for c, x := range channels {
			prev := previous[c]
			for i, v := range x {
				x[i] = float32(a*float64(v) + b*prev)
				prev = float64(v)
			}
			previous[c] = prev
		}
		sink = sink[:0]
		for made := 0.0; made < *garbageKB*1024; made += 1024 {
			sink = append(sink, make([]byte, 1024))
		}
	}
	pauseguard.RunWith(pauseguard.Options{Name: "pauseguard-example-go", Prepare: prepare}, process)
	_ = live
}
