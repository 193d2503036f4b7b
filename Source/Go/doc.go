// Package pauseguard serves a Go DSP to PauseGuard, a latency engine that keeps the Go
// collector's pauses out of the audio. PauseGuard (the plugin, or its CLI) starts the program as
// a child process and exchanges audio with it through shared memory; the protocol is
// Source/Engine/ExternalProtocol.h in PauseGuard's sources.
//
// A DSP is a Processor:
//
//	type gain struct{ params *pauseguard.Params }
//
//	func (g *gain) Prepare(c pauseguard.Config) error { g.params = c.Params; return nil }
//
//	func (g *gain) Process(channels [][]float32) error {
//		k := g.params.Get("macro1", 0.5)
//		for _, x := range channels {
//			for i := range x {
//				x[i] *= k
//			}
//		}
//		return nil
//	}
//
//	func main() { pauseguard.Main(&gain{}) }
//
// The rules a Processor follows:
//
//   - Frames. Each Process call has the prepared channel count, and a frame count that varies
//     from call to call, from 1 to Config.MaxFrames: never assume a block size.
//   - Memory. The slices point into memory shared with the host, valid only during the call:
//     replace the samples in place, and never keep a slice (copy what you need). Do not append to
//     them.
//   - Time. A Process call has 0.5 s at the most, and Prepare and the other requests 2 s; one that
//     takes longer is killed and restarted, and the delayed dry signal plays meanwhile. To be
//     heard without dropouts, a call must of course take much less than its audio's duration.
//   - Prepare may be called again (a new sample rate, block size or channel count): start afresh.
//   - Errors. An error returned by Prepare or Process reaches the user with its message; the
//     program is then stopped and restarted after a backoff. A panic is a crash (also restarted).
//   - Output. Non-finite and subnormal samples are replaced by 0 by the host.
//
// The collector. In the engine's dynamic strategy the engine turns Go's automatic collection
// off (debug.SetGCPercent(-1), applied on a goroutine of its own, since it waits for a running
// cycle's marking) and starts cycles itself at natural breaks; in its deterministic
// strategy the runtime collects by itself. Either way the package reports the runtime's own
// pause figures (runtime/metrics /gc/pauses:seconds) and its heap.
//
// Priority. Prepare and Process run on Serve's goroutine, locked to its thread. Where the system
// allows it, that thread runs at the real-time priority of the host's pool threads that wait for
// it (PAUSEGUARD_RT_PRIORITY), and the runtime's other threads, which a collection phase waits
// for, at the lowest real-time priority: ordinary processes do not delay the audio. The host limits
// that time (RLIMIT_RTTIME): a thread that runs about 2 s at a real-time priority without blocking
// gets SIGXCPU, and every thread goes back to the normal policy; at twice that the kernel kills the
// program. Keep long work off the program's goroutines for that reason.
//
// Package pauseguardtest runs a Processor in a Go test, without the host. Serving the host needs
// Linux; the rest of the package builds anywhere.
package pauseguard
