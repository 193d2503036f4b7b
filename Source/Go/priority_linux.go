//go:build linux

package pauseguard

import (
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"unsafe"
)

// The host asks for the processing thread's priority in PAUSEGUARD_RT_PRIORITY: the real-time
// (SCHED_FIFO) priority of its own pool threads, which wait for this thread's answers. At a lower
// priority, any ordinary process that keeps the cores busy would make the host wait.
//
// A program cannot starve the machine with it: the host limits the real-time time the program may
// run without blocking (RLIMIT_RTTIME). At the soft limit the kernel sends SIGXCPU, and the thread
// goes back to the normal policy; at the hard limit the kernel kills the program.
const (
	schedOther       = 0
	schedFIFO        = 1
	schedResetOnFork = 0x40000000 // what the program starts does not inherit the priority
)

// realtimeThread raises the calling thread (locked to its goroutine) to the priority the host asked
// for, and demotes it when the kernel says it ran too long. It returns the priority it got (0:
// normal, because none was asked for or the system does not allow it) and a stop function.
func realtimeThread() (priority int, stop func()) {
	asked, err := strconv.Atoi(os.Getenv("PAUSEGUARD_RT_PRIORITY"))
	if err != nil || asked <= 0 {
		return 0, func() {}
	}
	tid := syscall.Gettid()
	if setScheduler(tid, schedFIFO|schedResetOnFork, asked) != nil {
		return 0, func() {} // not allowed here: the thread stays at the normal policy
	}
	signals := make(chan os.Signal, 1)
	done := make(chan struct{})
	signal.Notify(signals, syscall.SIGXCPU)
	go func() {
		select {
		case <-signals:
			setScheduler(tid, schedOther, 0)
			fmt.Fprintln(os.Stderr, "pauseguard: the processing thread ran too long without a pause at real-time priority; it runs at the normal priority from now on")
		case <-done:
		}
	}()
	return asked, func() {
		signal.Stop(signals)
		close(done)
		setScheduler(tid, schedOther, 0)
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

// threadPolicy is a thread's scheduling policy (sched_getscheduler).
func threadPolicy(tid int) int {
	policy, _, _ := syscall.RawSyscall(syscall.SYS_SCHED_GETSCHEDULER, uintptr(tid), 0, 0)
	return int(policy) &^ schedResetOnFork
}
