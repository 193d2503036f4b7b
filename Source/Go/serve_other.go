//go:build !linux

package pauseguard

import (
	"context"
	"errors"
	"fmt"
	"os"
)

// ErrNotStartedByHost is Serve's error where the host cannot start programs.
var ErrNotStartedByHost = errors.New("PauseGuard runs DSP programs on Linux only; in a test, use package pauseguardtest")

// Serve needs Linux (memfd and futex): elsewhere it returns ErrNotStartedByHost.
func Serve(ctx context.Context, p Processor) error { return ErrNotStartedByHost }

// Main serves p (Linux only): elsewhere it exits with a message.
func Main(p Processor) {
	fmt.Fprintln(os.Stderr, ErrNotStartedByHost)
	os.Exit(1)
}
