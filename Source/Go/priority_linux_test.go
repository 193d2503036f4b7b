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

func TestTheProcessingThreadTakesTheHostsPriorityAndDropsItOnSIGXCPU(t *testing.T) {
	tid := lockedRealtimeThread(t)
	defer runtime.UnlockOSThread()

	t.Setenv("PAUSEGUARD_RT_PRIORITY", "")
	if priority, stop := realtimeThread(); priority != 0 || threadPolicy(tid) != schedOther {
		t.Fatalf("no priority asked: got %d, policy %d", priority, threadPolicy(tid))
	} else {
		stop()
	}

	t.Setenv("PAUSEGUARD_RT_PRIORITY", "5")
	priority, stop := realtimeThread()
	defer stop()
	if priority != 5 || threadPolicy(tid) != schedFIFO {
		t.Fatalf("priority 5 asked: got %d, policy %d", priority, threadPolicy(tid))
	}
	// What the kernel sends at RLIMIT_RTTIME's soft limit.
	syscall.Kill(syscall.Getpid(), syscall.SIGXCPU)
	for deadline := time.Now().Add(5 * time.Second); threadPolicy(tid) != schedOther; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("still SCHED_FIFO after SIGXCPU")
		}
	}
}

func TestStopPutsTheThreadBackAtTheNormalPolicy(t *testing.T) {
	tid := lockedRealtimeThread(t)
	defer runtime.UnlockOSThread()
	t.Setenv("PAUSEGUARD_RT_PRIORITY", "5")
	_, stop := realtimeThread()
	stop()
	if threadPolicy(tid) != schedOther {
		t.Fatalf("policy %d after stop", threadPolicy(tid))
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
