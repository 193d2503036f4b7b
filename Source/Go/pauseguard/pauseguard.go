// Package pauseguard runs a Go DSP in its own process for PauseGuard's latency engine, which
// starts the program and exchanges audio with it through shared memory (the protocol is
// Source/Engine/ExternalProtocol.h). A DSP is a function that replaces its channels in place:
//
//	func main() {
//		pauseguard.Run(func(channels [][]float32) {
//			for _, x := range channels {
//				for i := range x {
//					x[i] *= 0.5
//				}
//			}
//		})
//	}
//
// The engine decides when the collector runs in its dynamic strategy: it then turns Go's automatic
// collection off (debug.SetGCPercent(-1)) and asks for runtime.GC() at natural breaks. In its
// deterministic strategy the runtime collects by itself. Either way the package reports the
// runtime's own pause figures (runtime/metrics /gc/pauses:seconds) and its heap with every answer.
// Standard library only; Linux.
package pauseguard

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// The protocol version this package speaks (ExternalProtocol.h: the majors must be equal; each
// side uses what the lower minor has).
const (
	VersionMajor = 2
	VersionMinor = 1
)

const (
	magic          = 0x31584750
	cmdHello       = 1
	cmdPrepare     = 2
	cmdProcess     = 3
	cmdCollect     = 4
	cmdStats       = 5
	cmdQuit        = 6
	cmdCollector   = 7
	flagHostGC     = 1
	flagConcurrent = 2
	statusOK       = 0
	statusFailed   = -1
	statusVersion  = -2
	statusUnknown  = -3
)

// block mirrors pg::external::ExternalBlock (its offsets are asserted in ExternalProtocol.h).
type block struct {
	magic                                                   uint32
	versionMajor, versionMinor                              uint16
	audioOffset, maxChannels, maxFrames, hostPid            uint32
	_                                                       [40]byte
	requestSeq, command, channels, frames, flags, reserved1 uint32
	sampleRate                                              float64
	_                                                       [32]byte
	responseSeq                                             uint32
	status                                                  int32
	childMajor, childMinor                                  uint16
	collecting                                              uint32
	stats                                                   Stats
	message                                                 [256]byte
	parameterCount, reserved3                               uint32
	parameters                                              [maxParameters]parameter
}

const maxParameters = 16

type parameter struct {
	name  [28]byte // NUL-terminated
	value float32
}

// Stats are the runtime's own figures, as the engine receives them.
type Stats struct {
	HeapBytes      uint64  // live heap objects
	Collections    uint64  // completed collection cycles
	PauseCount     uint64  // stop-the-world pauses
	PauseP50       float64 // seconds, over every pause so far
	PauseP99       float64
	PauseMax       float64
	CollectSeconds float64 // the last collection the engine asked for
}

// Prepared is what the engine said in its prepare command.
type Prepared struct {
	SampleRate   float64
	Channels     int
	MaxFrames    int
	HostCollects bool // Go's automatic collection is off: the engine runs runtime.GC()
}

// Options for RunWith. Name is reported to the engine; Prepare, if set, is called on every prepare
// command (before the first process call, and again when the host's settings change).
type Options struct {
	Name    string
	Prepare func(Prepared)
}

// Run serves the engine with process until it says quit (or goes away), then returns.
func Run(process func(channels [][]float32)) {
	RunWith(Options{}, process)
}

// RunWith is Run with a name and a prepare callback.
func RunWith(options Options, process func(channels [][]float32)) {
	if err := serve(options, process); err != nil {
		fmt.Fprintln(os.Stderr, "pauseguard:", err)
		os.Exit(2)
	}
}

func serve(options Options, process func(channels [][]float32)) error {
	fd, err := strconv.Atoi(os.Getenv("PAUSEGUARD_FD"))
	if err != nil {
		return fmt.Errorf("PAUSEGUARD_FD is not set: this program is started by PauseGuard")
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return fmt.Errorf("the shared memory (fd %d): %v", fd, err)
	}
	mem, err := syscall.Mmap(fd, 0, int(st.Size), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		return fmt.Errorf("cannot map the shared memory: %v", err)
	}
	defer syscall.Munmap(mem)
	if len(mem) < int(unsafe.Sizeof(block{})) {
		return fmt.Errorf("the shared memory is too small (%d bytes)", len(mem))
	}
	b := (*block)(unsafe.Pointer(&mem[0]))
	current = b
	defer func() { current = nil }()
	if b.magic != magic {
		return fmt.Errorf("the shared memory is not PauseGuard's (magic %#x)", b.magic)
	}
	audioEnd := uint64(b.audioOffset) + 4*uint64(b.maxChannels)*uint64(b.maxFrames)
	if audioEnd > uint64(len(mem)) {
		return fmt.Errorf("the shared memory is smaller than its audio area")
	}
	audio := unsafe.Slice((*float32)(unsafe.Pointer(&mem[b.audioOffset])), int(b.maxChannels)*int(b.maxFrames))

	exitWithHost(int(b.hostPid))
	runtime.LockOSThread() // the futex waits block this thread, not the others
	channels := make([][]float32, 0, b.maxChannels)
	var seen uint32
	for {
		seq := atomic.LoadUint32(&b.requestSeq)
		if seq == seen {
			futexWait(&b.requestSeq, seen, 100*time.Millisecond)
			continue
		}
		seen = seq
		b.status = statusOK
		b.message[0] = 0
		quit := false
		command := atomic.LoadUint32(&b.command)
		switch command {
		case cmdHello:
			b.childMajor, b.childMinor = VersionMajor, VersionMinor
			if b.versionMajor != VersionMajor {
				b.status = statusVersion
			}
			name := options.Name
			if name == "" {
				name = os.Args[0]
			}
			setMessage(b, name)
		case cmdPrepare:
			p := Prepared{b.sampleRate, int(b.channels), int(b.frames), b.flags&flagHostGC != 0}
			if p.Channels > int(b.maxChannels) || p.MaxFrames > int(b.maxFrames) {
				b.status = statusFailed
				setMessage(b, "prepare asks for more than the shared memory holds")
				break
			}
			setHostCollects(p.HostCollects)
			if options.Prepare != nil {
				options.Prepare(p)
			}
		case cmdProcess:
			n, nch := int(b.frames), int(b.channels)
			if nch > int(b.maxChannels) || n > int(b.maxFrames) {
				b.status = statusFailed
				setMessage(b, "process asks for more than the shared memory holds")
				break
			}
			channels = channels[:0]
			for c := 0; c < nch; c++ {
				start := c * int(b.maxFrames)
				channels = append(channels, audio[start:start+n:start+n])
			}
			process(channels)
		case cmdCollect:
			if b.flags&flagConcurrent == 0 {
				t0 := time.Now()
				runtime.GC()
				lastCollect.Store(uint64(time.Since(t0)))
			} else if collecting.CompareAndSwap(0, 1) {
				go func() { // beside the next process calls, as Go's own cycles run
					t0 := time.Now()
					runtime.GC()
					lastCollect.Store(uint64(time.Since(t0)))
					collecting.Store(0)
				}()
			}
		case cmdCollector:
			setHostCollects(b.flags&flagHostGC != 0)
		case cmdStats:
		case cmdQuit:
			quit = true
		default:
			b.status = statusUnknown
			setMessage(b, "unknown command")
		}
		// From minor 1 a process answer refreshes only the cheap figures: the host asks for the
		// pause figures now and then.
		if command == cmdProcess && b.versionMinor >= 1 {
			readHeap(&b.stats)
		} else {
			readStats(&b.stats)
		}
		b.stats.CollectSeconds = time.Duration(lastCollect.Load()).Seconds()
		b.collecting = collecting.Load()
		atomic.StoreUint32(&b.responseSeq, seq)
		futexWake(&b.responseSeq)
		if quit {
			return nil
		}
	}
}

// exitWithHost ends the program when the host that started it is gone: its parent is then
// another process. It checks at once (the host may have died while this program started), then
// every 20 ms.
func exitWithHost(host int) {
	if os.Getppid() != host {
		os.Exit(3)
	}
	go func() {
		for range time.Tick(20 * time.Millisecond) {
			if os.Getppid() != host {
				os.Exit(3)
			}
		}
	}()
}

// The block being served: Parameter reads the host's parameters from it.
var current *block

// Parameter is the host's parameter called name as it is now (its knob, or its automation), or
// fallback if the host gives none by that name. Call it from the process or prepare function
// only: the host writes the parameters between requests. It does not allocate.
func Parameter(name string, fallback float32) float32 {
	b := current
	if b == nil {
		return fallback
	}
	n := int(b.parameterCount)
	if n > maxParameters {
		n = maxParameters
	}
	for i := 0; i < n; i++ {
		p := &b.parameters[i]
		if cNameEquals(p.name[:], name) {
			return p.value
		}
	}
	return fallback
}

func cNameEquals(stored []byte, name string) bool {
	if len(name) >= len(stored) {
		name = name[:len(stored)-1] // the host cuts long names
	}
	for i := 0; i < len(name); i++ {
		if stored[i] != name[i] {
			return false
		}
	}
	return stored[len(name)] == 0
}

// setHostCollects turns Go's automatic collection off (the engine runs runtime.GC()) or back on,
// at the GOGC the program was started with.
func setHostCollects(host bool) {
	if host {
		if percent := debug.SetGCPercent(-1); percent >= 0 {
			startGCPercent = percent
		}
	} else {
		debug.SetGCPercent(startGCPercent)
	}
}

var startGCPercent = 100

// A collection the engine asked for: one running beside the process calls, and the last one's duration.
var collecting atomic.Uint32
var lastCollect atomic.Uint64

func setMessage(b *block, text string) {
	n := copy(b.message[:len(b.message)-1], text)
	b.message[n] = 0
}

var heapSamples = []metrics.Sample{
	{Name: "/memory/classes/heap/objects:bytes"},
	{Name: "/gc/cycles/total:gc-cycles"},
}

var pauseSamples = []metrics.Sample{{Name: "/gc/pauses:seconds"}}

// readHeap fills the heap's figures, cheap to read, from runtime/metrics.
func readHeap(s *Stats) {
	metrics.Read(heapSamples)
	if heapSamples[0].Value.Kind() == metrics.KindUint64 {
		s.HeapBytes = heapSamples[0].Value.Uint64()
	}
	if heapSamples[1].Value.Kind() == metrics.KindUint64 {
		s.Collections = heapSamples[1].Value.Uint64()
	}
}

// readStats fills s from runtime/metrics: the heap's figures and the pauses' histogram.
func readStats(s *Stats) {
	readHeap(s)
	metrics.Read(pauseSamples)
	if pauseSamples[0].Value.Kind() != metrics.KindFloat64Histogram {
		return
	}
	h := pauseSamples[0].Value.Float64Histogram()
	var total uint64
	for _, c := range h.Counts {
		total += c
	}
	s.PauseCount = total
	s.PauseP50, s.PauseP99, s.PauseMax = 0, 0, 0
	if total == 0 {
		return
	}
	// Each bucket's upper bound (the histogram's buckets are ranges): a pause is at most that.
	var seen uint64
	for i, c := range h.Counts {
		if c == 0 {
			continue
		}
		seen += c
		upper := h.Buckets[i+1]
		if upper > 1e9 { // the last bucket is unbounded: its lower bound
			upper = h.Buckets[i]
		}
		if s.PauseP50 == 0 && seen*2 >= total {
			s.PauseP50 = upper
		}
		if s.PauseP99 == 0 && seen*100 >= total*99 {
			s.PauseP99 = upper
		}
		s.PauseMax = upper
	}
}

func futexWait(addr *uint32, expected uint32, timeout time.Duration) {
	ts := syscall.NsecToTimespec(int64(timeout))
	syscall.Syscall6(syscall.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), 0 /* FUTEX_WAIT */, uintptr(expected),
		uintptr(unsafe.Pointer(&ts)), 0, 0)
}

func futexWake(addr *uint32) {
	syscall.Syscall6(syscall.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), 1 /* FUTEX_WAKE */, uintptr(1<<31-1), 0, 0, 0)
}
