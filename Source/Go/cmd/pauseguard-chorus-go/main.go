// pauseguard-chorus-go: a stereo chorus for PauseGuard, written the way Go invites: each block
// reads its settings into a map and computes its delay times into a fresh slice, so the collector
// has garbage to collect.
//
// It declares three parameters, which the plugin shows as its macro knobs 1 to 3:
//
//	rate   0.1 to 5 Hz     (default 0.8 Hz)
//	depth  0 to 10 ms      (default 3 ms)
//	mix    0 to 100 %      (default 50 %)
//
// The two channels' LFOs are a quarter of a cycle apart.
package main

import "pauseguard.dev/pauseguard"

func main() { pauseguard.Main(newChorus()) }
