//go:build linux

package pauseguard

import (
	"runtime"
	"syscall"
	"testing"
	"time"
)

// canUseRealtime says whether this process may use SCHED_FIFO here (root, or RLIMIT_RTPRIO).
func canUseRealtime(t *testing.T) bool {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	tid := syscall.Gettid()
	if setScheduler(tid, schedFIFO, 1) != nil {
		return false
	}
	setScheduler(tid, schedOther, 0)
	return true
}

// lockedRealtimeThread locks the test to its thread (the caller unlocks) and returns the thread's
// id; it skips the test where SCHED_FIFO is not allowed.
func lockedRealtimeThread(t *testing.T) int {
	t.Helper()
	if !canUseRealtime(t) {
		t.Skip("this system does not allow SCHED_FIFO to this process")
	}
	runtime.LockOSThread()
	return syscall.Gettid()
}

// policies maps each of the process's threads to its policy and priority.
func policies() map[int][2]int {
	all := map[int][2]int{}
	forEachThread(func(tid int) {
		policy, priority := threadPolicy(tid)
		all[tid] = [2]int{policy, priority}
	})
	return all
}

func TestTheProcessingThreadTakesTheHostsPriorityTheRuntimeTheLowestAndSIGXCPUEndsBoth(t *testing.T) {
	tid := lockedRealtimeThread(t)
	defer runtime.UnlockOSThread()

	t.Setenv("PAUSEGUARD_RT_PRIORITY", "")
	if priority, stop := realtimeThread(); priority != 0 {
		t.Fatalf("no priority asked: got %d", priority)
	} else {
		stop()
	}
	for other, p := range policies() {
		if p[0] != schedOther {
			t.Fatalf("no priority asked: thread %d has policy %d", other, p[0])
		}
	}

	t.Setenv("PAUSEGUARD_RT_PRIORITY", "5")
	priority, stop := realtimeThread()
	defer stop()
	if priority != 5 {
		t.Fatalf("priority 5 asked: got %d", priority)
	}
	// A thread the runtime starts from now on inherits the runtime's priority.
	started := make(chan [2]int)
	go func() {
		runtime.LockOSThread() // (this goroutine keeps its thread: the runtime needs another)
		policy, priority := threadPolicy(syscall.Gettid())
		started <- [2]int{policy, priority}
		select {} // the locked thread ends with the test binary
	}()
	if p := <-started; p != [2]int{schedFIFO, runtimePriority} {
		t.Fatalf("a thread started later: policy %d priority %d, want FIFO %d", p[0], p[1], runtimePriority)
	}
	for other, p := range policies() {
		want := [2]int{schedFIFO, runtimePriority}
		if other == tid {
			want = [2]int{schedFIFO, 5}
		}
		if p != want {
			t.Fatalf("thread %d: policy %d priority %d, want %v (processing thread %d)", other, p[0], p[1], want, tid)
		}
	}

	// What the kernel sends at RLIMIT_RTTIME's soft limit: every thread back to normal.
	syscall.Kill(syscall.Getpid(), syscall.SIGXCPU)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		realtime := 0
		for _, p := range policies() {
			if p[0] != schedOther {
				realtime++
			}
		}
		if realtime == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d threads still real-time after SIGXCPU", realtime)
		}
	}
}

func TestStopPutsEveryThreadBackAtTheNormalPolicy(t *testing.T) {
	lockedRealtimeThread(t)
	defer runtime.UnlockOSThread()
	t.Setenv("PAUSEGUARD_RT_PRIORITY", "5")
	_, stop := realtimeThread()
	stop()
	for other, p := range policies() {
		if p[0] != schedOther {
			t.Fatalf("thread %d: policy %d after stop", other, p[0])
		}
	}
}

func TestTheCollectorSwitchNeverWaitsOnTheRequestPath(t *testing.T) {
	entered := make(chan int, 4)
	release := make(chan struct{})
	c := &collector{startGCPercent: 100}
	c.setGCPercent = func(percent int) int { // as debug.SetGCPercent(-1) during a mark phase: it waits
		entered <- percent
		<-release
		return 80
	}
	defer c.stop()
	returned := make(chan struct{})
	go func() {
		c.setHostCollects(true)
		<-entered // the applier is now held inside SetGCPercent(-1)
		c.setHostCollects(false)
		c.setHostCollects(true)
		c.setHostCollects(false)
		close(returned)
	}()
	select {
	case <-returned:
	case <-time.After(10 * time.Second):
		t.Fatal("setHostCollects waited for the runtime")
	}
	close(release)
	// The applier ends on the last wish: collection back on, at the GOGC read when it was turned off.
	select {
	case percent := <-entered:
		if percent != 80 {
			t.Fatalf("collection turned back on at GOGC %d, want 80", percent)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the last wish was not applied")
	}
}
