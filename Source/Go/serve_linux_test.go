//go:build linux

package pauseguard

import (
	"context"
	"errors"
	"os"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// fakeHost is the host's side of the protocol in this process: a memfd block and the requests.
type fakeHost struct {
	b     *block
	audio []float32
}

func newFakeHost(t *testing.T, channels, frames int) *fakeHost {
	t.Helper()
	size := (int(unsafe.Sizeof(block{}))+63)&^63 + 4*channels*frames
	file, err := os.CreateTemp(t.TempDir(), "block") // (the host uses a memfd: any file maps alike)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { file.Close() })
	if err := file.Truncate(int64(size)); err != nil {
		t.Fatal(err)
	}
	fd := file.Fd()
	mem, err := syscall.Mmap(int(fd), 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Munmap(mem) })
	b := (*block)(unsafe.Pointer(&mem[0]))
	b.magic, b.versionMajor, b.versionMinor = magic, VersionMajor, VersionMinor
	b.audioOffset = uint32((unsafe.Sizeof(block{}) + 63) &^ 63)
	b.maxChannels, b.maxFrames, b.hostPid = uint32(channels), uint32(frames), uint32(os.Getppid())
	t.Setenv("PAUSEGUARD_FD", strconv.Itoa(int(fd)))
	h := &fakeHost{b: b}
	h.audio = unsafe.Slice((*float32)(unsafe.Pointer(&mem[b.audioOffset])), channels*frames)
	return h
}

// request posts a command and waits for its answer (2 s at the most).
func (h *fakeHost) request(t *testing.T, command uint32) {
	t.Helper()
	h.b.command = command
	seq := atomic.AddUint32(&h.b.requestSeq, 1)
	futexWake(&h.b.requestSeq)
	for deadline := time.Now().Add(2 * time.Second); atomic.LoadUint32(&h.b.responseSeq) != seq; {
		if time.Now().After(deadline) {
			t.Fatalf("no answer to command %d", command)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

func (h *fakeHost) message() string {
	n := 0
	for n < len(h.b.message) && h.b.message[n] != 0 {
		n++
	}
	return string(h.b.message[:n])
}

// halver halves its input, and fails when the host's "fail" parameter is 1.
type halver struct {
	params   *Params
	prepared Config
}

func (h *halver) Name() string { return "halver" }
func (h *halver) Prepare(c Config) error {
	h.params, h.prepared = c.Params, c
	if c.SampleRate < 8000 {
		return errors.New("a sample rate below 8 kHz")
	}
	return nil
}
func (h *halver) Process(channels [][]float32) error {
	if h.params.Get("fail", 0) == 1 {
		return errors.New("asked to fail")
	}
	for _, x := range channels {
		for i := range x {
			x[i] *= 0.5
		}
	}
	return nil
}

func TestServeAnswersTheHostAndReportsErrorsWithTheirMessage(t *testing.T) {
	h := newFakeHost(t, 2, 64)
	p := &halver{}
	done := make(chan error, 1)
	go func() { done <- Serve(context.Background(), p) }()

	h.request(t, cmdHello)
	if h.b.status != statusOK || h.b.childMajor != VersionMajor || h.b.childMinor != VersionMinor || h.message() != "halver" {
		t.Fatalf("hello: status %d, version %d.%d, name %q", h.b.status, h.b.childMajor, h.b.childMinor, h.message())
	}
	h.b.sampleRate, h.b.channels, h.b.frames = 4000, 2, 64
	h.request(t, cmdPrepare)
	if h.b.status != statusFailed || h.message() != "a sample rate below 8 kHz" {
		t.Errorf("a failed prepare: status %d, message %q", h.b.status, h.message())
	}
	h.b.sampleRate = 48000
	h.request(t, cmdPrepare)
	if h.b.status != statusOK || p.prepared.Channels != 2 || p.prepared.MaxFrames != 64 || p.prepared.SampleRate != 48000 {
		t.Errorf("prepare: status %d, config %+v", h.b.status, p.prepared)
	}
	h.audio[0], h.audio[1], h.audio[64] = 1, -1, 0.5 // channel 0 frames 0 and 1, channel 1 frame 0
	h.b.frames = 2
	h.request(t, cmdProcess)
	if h.b.status != statusOK || h.audio[0] != 0.5 || h.audio[1] != -0.5 || h.audio[64] != 0.25 {
		t.Errorf("process: status %d, samples %v %v %v", h.b.status, h.audio[0], h.audio[1], h.audio[64])
	}
	(&Params{table: &h.b.parameters, count: &h.b.parameterCount}).Set("fail", 1)
	h.request(t, cmdProcess)
	if h.b.status != statusFailed || h.message() != "asked to fail" {
		t.Errorf("a failed process: status %d, message %q", h.b.status, h.message())
	}
	h.request(t, cmdStats)
	if h.b.stats.HeapBytes == 0 {
		t.Error("stats: no heap")
	}
	h.request(t, cmdQuit)
	if err := <-done; err != nil {
		t.Errorf("Serve after quit: %v", err)
	}
}

func TestServeRefusesAnotherMajorAndEndsWithItsContext(t *testing.T) {
	h := newFakeHost(t, 1, 16)
	h.b.versionMajor = VersionMajor + 1
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, &halver{}) }()
	h.request(t, cmdHello)
	if h.b.status != statusVersion || h.b.childMajor != VersionMajor {
		t.Errorf("hello from a host of another major: status %d, major %d", h.b.status, h.b.childMajor)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Serve after its context ended: %v", err)
		}
	case <-time.After(time.Second):
		t.Fatal("Serve did not end with its context")
	}
}

func TestServeWithoutTheHostSaysSo(t *testing.T) {
	t.Setenv("PAUSEGUARD_FD", "")
	if err := Serve(context.Background(), &halver{}); !errors.Is(err, ErrNotStartedByHost) {
		t.Errorf("Serve without PAUSEGUARD_FD: %v", err)
	}
}

// scaler declares one knob, amount (0 to 2), and multiplies by it.
type scaler struct{ params *Params }

func (s *scaler) Parameters() []ParameterSpec {
	return []ParameterSpec{{Name: "amount", Unit: "x", Min: 0, Max: 2, Default: 1}}
}
func (s *scaler) Prepare(c Config) error { s.params = c.Params; return nil }
func (s *scaler) Process(channels [][]float32) error {
	for _, x := range channels {
		for i := range x {
			x[i] *= s.params.Get("amount", -1)
		}
	}
	return nil
}

func TestADeclarersKnobsGoWithHelloAndAreReadThroughTheMacroKnobs(t *testing.T) {
	h := newFakeHost(t, 1, 16)
	done := make(chan error, 1)
	go func() { done <- Serve(context.Background(), &scaler{}) }()
	h.request(t, cmdHello)
	d := h.b.declared[0]
	if h.b.declaredCount != 1 || string(d.name[:7]) != "amount\x00" || string(d.unit[:2]) != "x\x00" || d.min != 0 || d.max != 2 || d.defaultValue != 1 {
		t.Fatalf("declared: %d, %+v", h.b.declaredCount, d)
	}
	h.b.sampleRate, h.b.channels, h.b.frames = 48000, 1, 16
	h.request(t, cmdPrepare)
	h.audio[0] = 1
	h.b.frames = 1
	h.request(t, cmdProcess) // no macro1 from the host: the default
	if h.audio[0] != 1 {
		t.Errorf("without the knob: %v, not the default 1", h.audio[0])
	}
	(&Params{table: &h.b.parameters, count: &h.b.parameterCount}).Set("macro1", 0.25)
	h.request(t, cmdProcess)
	if h.audio[0] != 0.5 {
		t.Errorf("macro1 at 0.25: %v, not 0.5", h.audio[0])
	}
	h.request(t, cmdQuit)
	<-done
}

// memo keeps a state: the bytes it was last given, or "fresh".
type memo struct {
	halver
	state []byte
}

func (m *memo) SaveState() ([]byte, error) {
	if m.state == nil {
		return []byte("fresh"), nil
	}
	return m.state, nil
}
func (m *memo) LoadState(state []byte) error {
	if string(state) == "bad" {
		return errors.New("a bad state")
	}
	m.state = state
	return nil
}

func TestServeSavesAndLoadsAStatersStateInTheAudioArea(t *testing.T) {
	h := newFakeHost(t, 1, 16)
	done := make(chan error, 1)
	go func() { done <- Serve(context.Background(), &memo{}) }()
	h.request(t, cmdHello)
	area := unsafe.Slice((*byte)(unsafe.Pointer(&h.audio[0])), 64)
	h.request(t, cmdSaveState)
	if h.b.status != statusOK || string(area[:h.b.stateBytes]) != "fresh" {
		t.Errorf("saveState: status %d, state %q", h.b.status, area[:h.b.stateBytes])
	}
	h.b.stateBytes = uint32(copy(area, "kept"))
	h.request(t, cmdLoadState)
	copy(area, "xxxx") // (the Stater keeps a copy)
	h.request(t, cmdSaveState)
	if string(area[:h.b.stateBytes]) != "kept" {
		t.Errorf("the state loaded, saved again: %q", area[:h.b.stateBytes])
	}
	h.b.stateBytes = uint32(copy(area, "bad"))
	h.request(t, cmdLoadState)
	if h.b.status != statusFailed || h.message() != "a bad state" {
		t.Errorf("a refused state: status %d, message %q", h.b.status, h.message())
	}
	h.request(t, cmdQuit)
	<-done
}
