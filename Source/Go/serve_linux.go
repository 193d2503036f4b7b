//go:build linux

package pauseguard

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// ErrNotStartedByHost is Serve's error in a program the host did not start.
var ErrNotStartedByHost = errors.New("PAUSEGUARD_FD is not set: this program is started by PauseGuard " +
	"(pauseguard soak --process PROGRAM, or the plugin's Program... button); in a test, use package pauseguardtest")

// Serve answers the host's requests with p until the host says quit (nil) or ctx is done
// (ctx.Err()). The host's prepare and process requests call p's methods on the goroutine that
// called Serve, locked to its thread. If the host dies, Serve ends the program (os.Exit):
// nothing it starts may outlive it.
func Serve(ctx context.Context, p Processor) error {
	fd, err := strconv.Atoi(os.Getenv("PAUSEGUARD_FD"))
	if err != nil {
		return ErrNotStartedByHost
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return fmt.Errorf("the shared memory (fd %d): %w", fd, err)
	}
	mem, err := syscall.Mmap(fd, 0, int(st.Size), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		return fmt.Errorf("cannot map the shared memory: %w", err)
	}
	defer syscall.Munmap(mem)
	if len(mem) < int(unsafe.Sizeof(block{})) {
		return fmt.Errorf("the shared memory is too small (%d bytes)", len(mem))
	}
	b := (*block)(unsafe.Pointer(&mem[0]))
	if b.magic != magic {
		return fmt.Errorf("the shared memory is not PauseGuard's (magic %#x)", b.magic)
	}
	if uint64(b.audioOffset)+4*uint64(b.maxChannels)*uint64(b.maxFrames) > uint64(len(mem)) {
		return errors.New("the shared memory is smaller than its audio area")
	}
	exitWithHost(int(b.hostPid))
	runtime.LockOSThread() // the futex waits block this thread, not the others
	defer runtime.UnlockOSThread()
	normal := func() {}
	defer func() { normal() }()
	s := newServer(b, mem, p)
	defer s.collector.stop()
	var seen uint32
	greeted := false
	for {
		seq := atomic.LoadUint32(&b.requestSeq)
		if seq == seen {
			if err := ctx.Err(); err != nil {
				return err
			}
			futexWait(&b.requestSeq, seen, 50*time.Millisecond)
			continue
		}
		if !greeted {
			// The first request: the host has set this program's limits (RLIMIT_RTTIME) by now.
			greeted = true
			_, normal = realtimeThread()
		}
		seen = seq
		quit := s.answer()
		atomic.StoreUint32(&b.responseSeq, seq)
		futexWake(&b.responseSeq)
		if quit {
			return nil
		}
	}
}

// Main serves p until the host says quit, or the program gets SIGINT or SIGTERM; it exits with a
// message on stderr (which the host shows) if serving fails.
func Main(p Processor) {
	ctx, stop := notifyContext()
	defer stop()
	if err := Serve(ctx, p); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(os.Stderr, filepath.Base(os.Args[0])+":", err)
		os.Exit(1)
	}
}

// server answers one request at a time from the block.
type server struct {
	b         *block
	audio     []float32
	channels  [][]float32
	processor Processor
	params    *Params
	collector collector
}

func newServer(b *block, mem []byte, p Processor) *server {
	s := &server{b: b, processor: p, channels: make([][]float32, 0, b.maxChannels)}
	s.audio = unsafe.Slice((*float32)(unsafe.Pointer(&mem[b.audioOffset])), int(b.maxChannels)*int(b.maxFrames))
	s.params = &Params{table: &b.parameters, count: &b.parameterCount}
	if d, ok := p.(Declarer); ok {
		s.params.Declare(d.Parameters())
	}
	s.collector.startGCPercent = 100
	return s
}

// answer handles the request in the block and fills the response (but responseSeq); true: quit.
func (s *server) answer() (quit bool) {
	b := s.b
	b.status = statusOK
	b.message[0] = 0
	command := atomic.LoadUint32(&b.command)
	var err error
	switch command {
	case cmdHello:
		b.childMajor, b.childMinor = VersionMajor, VersionMinor
		if b.versionMajor != VersionMajor {
			b.status = statusVersion
		}
		setMessage(b, s.name())
		if d, ok := s.processor.(Declarer); ok && b.versionMinor >= 2 {
			declare(b, d.Parameters())
		}
	case cmdPrepare:
		err = s.prepare()
	case cmdProcess:
		err = s.process()
	case cmdCollect:
		s.collector.collect(b.flags&flagConcurrent != 0)
	case cmdCollector:
		s.collector.setHostCollects(b.flags&flagHostGC != 0)
	case cmdSaveState:
		err = s.saveState()
	case cmdLoadState:
		err = s.loadState()
	case cmdStats:
	case cmdQuit:
		quit = true
	default:
		b.status = statusUnknown
		setMessage(b, "unknown command")
	}
	if err != nil {
		b.status = statusFailed
		setMessage(b, err.Error())
	}
	// From minor 1 a process answer refreshes only the cheap figures: the host asks for the
	// pause figures now and then.
	if command == cmdProcess && b.versionMinor >= 1 {
		readHeap(&b.stats)
	} else {
		readStats(&b.stats)
	}
	b.stats.CollectSeconds = time.Duration(s.collector.lastSeconds.Load()).Seconds()
	b.collecting = s.collector.running.Load()
	return quit
}

func (s *server) name() string {
	if n, ok := s.processor.(Namer); ok {
		return n.Name()
	}
	return filepath.Base(os.Args[0])
}

func (s *server) prepare() error {
	b := s.b
	c := Config{SampleRate: b.sampleRate, Channels: int(b.channels), MaxFrames: int(b.frames),
		HostCollects: b.flags&flagHostGC != 0, Params: s.params}
	if c.Channels > int(b.maxChannels) || c.MaxFrames > int(b.maxFrames) {
		return errors.New("prepare asks for more than the shared memory holds")
	}
	s.collector.setHostCollects(c.HostCollects)
	return s.processor.Prepare(c)
}

func (s *server) process() error {
	b := s.b
	n, nch := int(b.frames), int(b.channels)
	if nch > int(b.maxChannels) || n > int(b.maxFrames) {
		return errors.New("process asks for more than the shared memory holds")
	}
	s.channels = s.channels[:0]
	for c := 0; c < nch; c++ {
		start := c * int(b.maxFrames)
		s.channels = append(s.channels, s.audio[start:start+n:start+n])
	}
	return s.processor.Process(s.channels)
}

// stateArea is the audio area as bytes: a state travels there.
func (s *server) stateArea() []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(&s.audio[0])), 4*len(s.audio))
}

func (s *server) saveState() error {
	s.b.stateBytes = 0
	st, ok := s.processor.(Stater)
	if !ok {
		return nil
	}
	state, err := st.SaveState()
	if err != nil {
		return err
	}
	if len(state) > len(s.stateArea()) {
		return fmt.Errorf("a state of %d bytes: more than the %d the host has room for", len(state), len(s.stateArea()))
	}
	s.b.stateBytes = uint32(copy(s.stateArea(), state))
	return nil
}

func (s *server) loadState() error {
	st, ok := s.processor.(Stater)
	if !ok || int(s.b.stateBytes) > len(s.stateArea()) {
		return nil
	}
	return st.LoadState(append([]byte(nil), s.stateArea()[:s.b.stateBytes]...))
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

func futexWait(addr *uint32, expected uint32, timeout time.Duration) {
	ts := syscall.NsecToTimespec(int64(timeout))
	syscall.Syscall6(syscall.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), 0 /* FUTEX_WAIT */, uintptr(expected),
		uintptr(unsafe.Pointer(&ts)), 0, 0)
}

func futexWake(addr *uint32) {
	syscall.Syscall6(syscall.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), 1 /* FUTEX_WAKE */, uintptr(1<<31-1), 0, 0, 0)
}
