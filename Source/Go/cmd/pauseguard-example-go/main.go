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
	"os"

	"pauseguard.dev/pauseguard"
)

func main() {
	e := &effect{}
	flag.Float64Var(&e.liveMB, "live-heap-mb", 16, "live heap built at prepare, in MB")
	flag.Float64Var(&e.garbageKB, "garbage-kb", 64, "garbage made per call, in KB")
	kind := flag.String("effect", "filter", "filter (y = 0.5 x + 0.25 x[n-1]) or identity (y = x)")
	gain := flag.Float64("gain", 1, "output gain")
	flag.Parse()
	switch *kind {
	case "filter":
		e.a, e.b = 0.5**gain, 0.25**gain
	case "identity":
		e.a, e.b = *gain, 0
	default:
		fmt.Fprintf(os.Stderr, "pauseguard-example-go: -effect is filter or identity, not %q\n", *kind)
		os.Exit(2)
	}
	pauseguard.Main(e)
}
