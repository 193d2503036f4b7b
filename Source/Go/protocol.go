package pauseguard

// The shared block's layout and constants, as ExternalProtocol.h defines them (layout_test.go
// checks them against the header).

// The protocol version this package speaks: the majors must be equal; each side uses what the
// lower minor has.
const (
	VersionMajor = 2
	VersionMinor = 2
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
	cmdSaveState   = 8
	cmdLoadState   = 9
	flagHostGC     = 1
	flagConcurrent = 2
	statusOK       = 0
	statusFailed   = -1
	statusVersion  = -2
	statusUnknown  = -3
)

// block mirrors pg::external::ExternalBlock.
type block struct {
	magic                                                    uint32
	versionMajor, versionMinor                               uint16
	audioOffset, maxChannels, maxFrames, hostPid             uint32
	_                                                        [40]byte
	requestSeq, command, channels, frames, flags, stateBytes uint32
	sampleRate                                               float64
	_                                                        [32]byte
	responseSeq                                              uint32
	status                                                   int32
	childMajor, childMinor                                   uint16
	collecting                                               uint32
	stats                                                    Stats
	message                                                  [256]byte
	parameterCount, reserved3                                uint32
	parameters                                               [maxParameters]parameter
	declaredCount, reserved4                                 uint32
	declared                                                 [maxDeclared]declaredParameter
}

// maxDeclared is how many parameters a program may declare (ExternalProtocol.h).
const maxDeclared = 8

// declaredParameter mirrors pg::external::DeclaredParameter.
type declaredParameter struct {
	name                   [24]byte // NUL-terminated
	unit                   [8]byte
	min, max, defaultValue float32
	reserved               uint32
}

// declare writes the processor's parameters into the block (the hello answer).
func declare(b *block, specs []ParameterSpec) {
	b.declaredCount = 0
	for i, s := range specs {
		if i == maxDeclared {
			break
		}
		d := &b.declared[i]
		*d = declaredParameter{min: s.Min, max: s.Max, defaultValue: s.Default}
		d.name[copy(d.name[:len(d.name)-1], s.Name)] = 0
		d.unit[copy(d.unit[:len(d.unit)-1], s.Unit)] = 0
		b.declaredCount++
	}
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

func setMessage(b *block, text string) {
	n := copy(b.message[:len(b.message)-1], text)
	b.message[n] = 0
}
