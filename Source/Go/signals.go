package pauseguard

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// notifyContext is done when the program gets SIGINT or SIGTERM.
func notifyContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}
