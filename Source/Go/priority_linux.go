//go:build linux

package pauseguard

import (
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
	"unsafe"
)

// The host asks for the processing thread's priority in PAUSEGUARD_RT_PRIORITY: the real-time
// (SCHED_FIFO) priority of its own pool threads, which wait for this thread's answers. At a lower
// priority, any ordinary process that keeps the cores busy would make the host wait.
//
// The runtime's other threads (its collector's workers, the one that stops and restarts the world,
// and those it starts later, which inherit it) run at the lowest real-time priority: a process call
// that waits for a collection phase would otherwise wait for them behind every ordinary process.
//
// A program cannot starve the machine with it: the host limits the real-time time a thread may run
// without blocking (RLIMIT_RTTIME). At the soft limit the kernel sends SIGXCPU, and every thread
// of the program goes back to the normal policy; at the hard limit the kernel kills the program.
const (
	schedOther       = 0
	schedFIFO        = 1
	schedResetOnFork = 0x40000000 // a thread the processing thread starts does not inherit its priority
	runtimePriority  = 1          // the runtime's other threads: above every ordinary process
)

// realtimeThread raises the calling thread (locked to its goroutine) to the priority the host asked
// for, and the runtime's other threads to runtimePriority; it puts them all back to the normal
// policy when the kernel says one ran too long. It returns the priority it got (0: normal, because
// none was asked for or the system does not allow it) and a stop function, which puts them back.
func realtimeThread() (priority int, stop func()) {
	asked, err := strconv.Atoi(os.Getenv("PAUSEGUARD_RT_PRIORITY"))
	if err != nil || asked <= 0 {
		return 0, func() {}
	}
	tid := syscall.Gettid()
	if setScheduler(tid, schedFIFO|schedResetOnFork, asked) != nil {
		return 0, func() {} // not allowed here: every thread stays at the normal policy
	}
	forEachThread(func(other int) {
		if other != tid {
			setScheduler(other, schedFIFO, runtimePriority)
		}
	})
	signals := make(chan os.Signal, 1)
	done := make(chan struct{})
	signal.Notify(signals, syscall.SIGXCPU)
	go func() {
		select {
		case <-signals:
			allNormal()
			fmt.Fprintln(os.Stderr, "pauseguard: a thread ran too long without a pause at real-time priority; the program runs at the normal priority from now on")
		case <-done:
		}
	}()
	return asked, func() {
		signal.Stop(signals)
		close(done)
		allNormal()
	}
}

// allNormal puts every thread of the program back to the normal policy. A thread the runtime
// starts meanwhile, from one not yet put back, inherits the real-time policy, and may join the
// list only after a pass has read it (its clone was under way): so it passes again until two
// passes, a millisecond apart, find every thread normal.
func allNormal() {
	clean := 0
	for pass := 0; pass < 200 && clean < 2; pass++ {
		changed := false
		forEachThread(func(tid int) {
			if policy, _ := threadPolicy(tid); policy != schedOther && setScheduler(tid, schedOther, 0) == nil {
				changed = true
			}
		})
		if changed {
			clean = 0
			continue
		}
		clean++
		if clean < 2 {
			time.Sleep(time.Millisecond)
		}
	}
}

// forEachThread calls f with the id of each of the process's threads.
func forEachThread(f func(tid int)) {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return
	}
	for _, task := range tasks {
		if tid, err := strconv.Atoi(task.Name()); err == nil {
			f(tid)
		}
	}
}

// setScheduler sets a thread's policy (sched_setscheduler: on Linux, per thread).
func setScheduler(tid, policy, priority int) error {
	param := struct{ priority int32 }{int32(priority)}
	_, _, errno := syscall.RawSyscall(syscall.SYS_SCHED_SETSCHEDULER, uintptr(tid), uintptr(policy), uintptr(unsafe.Pointer(&param)))
	if errno != 0 {
		return errno
	}
	return nil
}

// threadPolicy is a thread's scheduling policy and priority (sched_getscheduler, sched_getparam).
func threadPolicy(tid int) (policy, priority int) {
	p, _, _ := syscall.RawSyscall(syscall.SYS_SCHED_GETSCHEDULER, uintptr(tid), 0, 0)
	var param struct{ priority int32 }
	syscall.RawSyscall(syscall.SYS_SCHED_GETPARAM, uintptr(tid), uintptr(unsafe.Pointer(&param)), 0)
	return int(p) &^ schedResetOnFork, int(param.priority)
}
