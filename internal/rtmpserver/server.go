// Package rtmpserver is Strata's RTMP ingest listener: it accepts
// publishers (connect, createStream, publish), checks them against the
// publish policy, and feeds their audio, video and metadata messages to the
// live hub as FLV tags. Playback is over HTTP (see package livehttp), so an
// RTMP play is refused with a status that says where to play.
//
// The wire format (handshake, chunk stream, AMF0) comes from
// github.com/bluenviron/gortmplib's packages; the command flow is here so a
// refused publish gets an RTMP error status that says why.
package rtmpserver

import (
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/strata-cdn/strata/internal/live"
)

// DefaultReadTimeout is used when Server.ReadTimeout is zero.
const DefaultReadTimeout = 30 * time.Second

// Server accepts RTMP publishers. Set the fields, then call Serve.
type Server struct {
	// Hub receives published streams. Required.
	Hub *live.Hub
	// Policy authorises publishers.
	Policy live.Policy
	// Logger receives connection events. Nil means discard.
	Logger *slog.Logger
	// ReadTimeout cuts off a client that sends nothing for this long. If
	// zero, DefaultReadTimeout is used.
	ReadTimeout time.Duration
	// PlayHint, when set, returns where a stream can be played; it is
	// named in the status sent to a client that tries RTMP play.
	PlayHint func(key live.Key) string
	// Hooks calls the apps' on_publish and on_unpublish hooks (see
	// live.Hooks). If nil, a HookClient logging to Logger is used.
	Hooks *live.HookClient

	mu     sync.Mutex // guards the fields below
	lns    map[net.Listener]struct{}
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup // one per connection goroutine
}

// ErrServerClosed is returned by Serve after Close.
var ErrServerClosed = errors.New("rtmpserver: server closed")

func (s *Server) log() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

func (s *Server) readTimeout() time.Duration {
	if s.ReadTimeout > 0 {
		return s.ReadTimeout
	}
	return DefaultReadTimeout
}

// Serve accepts connections on ln until Close. It always returns a non-nil
// error: ErrServerClosed after Close.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	if s.lns == nil {
		s.lns = map[net.Listener]struct{}{}
		s.conns = map[net.Conn]struct{}{}
	}
	s.lns[ln] = struct{}{}
	if s.Hooks == nil {
		s.Hooks = &live.HookClient{Logger: s.Logger}
	}
	s.mu.Unlock()
	for {
		c, err := ln.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			delete(s.lns, ln)
			s.mu.Unlock()
			if closed {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return ErrServerClosed
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			defer func() {
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
				c.Close()
			}()
			s.handle(c)
		}()
	}
}

// Close stops every listener, closes every connection (ending their
// streams) and waits for the connection goroutines.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	for ln := range s.lns {
		ln.Close()
	}
	for c := range s.conns {
		c.Close()
	}
	hooks := s.Hooks
	s.mu.Unlock()
	s.wg.Wait()
	if hooks != nil {
		hooks.Wait() // deliver the on_unpublish of the streams just ended
	}
	return nil
}
