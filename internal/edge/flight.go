package edge

import "context"

// A flight is one fetch of a slice or of an object's metadata, shared by
// every request that needs it meanwhile. It is completed exactly once.
type flight struct {
	done    chan struct{}
	val     any
	err     error
	waiters int // requests waiting for it; guarded by Handler.mu
}

// registerFlight returns the flight in progress for key, or registers a new
// one (created) that the caller must complete.
func (h *Handler) registerFlight(key string) (fl *flight, created bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if fl := h.flights[key]; fl != nil {
		return fl, false
	}
	fl = &flight{done: make(chan struct{})}
	h.flights[key] = fl
	return fl, true
}

// completeFlight publishes a flight's result and unlists it.
func (h *Handler) completeFlight(key string, fl *flight, val any, err error) {
	h.mu.Lock()
	if h.flights[key] == fl {
		delete(h.flights, key)
	}
	h.mu.Unlock()
	fl.val, fl.err = val, err
	close(fl.done)
}

// doFlight runs fn in the background for key unless a flight for key is in
// progress, and waits for the result (or ctx). fn runs in a goroutine the
// Handler owns, so it completes even if every waiter gave up (C09).
func (h *Handler) doFlight(ctx context.Context, key string, fn func(fl *flight) (any, error)) (any, error) {
	fl, created := h.registerFlight(key)
	if created {
		if !h.goBackground(func() {
			v, err := fn(fl)
			h.completeFlightOnce(key, fl, v, err)
		}) {
			h.completeFlight(key, fl, nil, errClosed)
		}
	}
	return h.waitFlight(ctx, fl)
}

// completeFlightOnce completes fl unless fn already did.
func (h *Handler) completeFlightOnce(key string, fl *flight, val any, err error) {
	select {
	case <-fl.done:
	default:
		h.completeFlight(key, fl, val, err)
	}
}

// waitFlight waits for fl's result, counting the caller as a waiter.
func (h *Handler) waitFlight(ctx context.Context, fl *flight) (any, error) {
	h.mu.Lock()
	fl.waiters++
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		fl.waiters--
		h.mu.Unlock()
	}()
	select {
	case <-fl.done:
		return fl.val, fl.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
