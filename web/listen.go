package web

import (
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// The web server's deadlines. A request's headers must arrive within ReadHeaderTimeout
// and the whole request within ReadTimeout; its answer must be written within
// WriteTimeout of the headers (a report over a long period included). The live streams
// lift the write deadline of their own answers.
const (
	ReadHeaderTimeout  = 10 * time.Second
	ReadTimeout        = 30 * time.Second
	WriteTimeout       = 5 * time.Minute
	DefaultIdleTimeout = 60 * time.Second
)

// HTTP is the http.Server that serves s.Handler within the deadlines above, closing a
// keep-alive connection idle for s.IdleTimeout.
func (s *Server) HTTP() *http.Server {
	idle := s.IdleTimeout
	if idle <= 0 {
		idle = DefaultIdleTimeout
	}
	return &http.Server{Handler: s.Handler(), ReadHeaderTimeout: ReadHeaderTimeout, ReadTimeout: ReadTimeout,
		WriteTimeout: WriteTimeout, IdleTimeout: idle}
}

// Listener wraps ln so that at most s.MaxConnections connections are open at once (no
// cap when 0): Accept waits for one to close, and the others wait in the kernel's
// backlog, holding none of idv's file descriptors, which FastAGI needs for calls. The
// first wait in a minute is logged.
func (s *Server) Listener(ln net.Listener) net.Listener {
	if s.MaxConnections <= 0 {
		return ln
	}
	log := s.Log.Sample(&zerolog.BurstSampler{Burst: 1, Period: time.Minute})
	return &limitListener{Listener: ln, slots: make(chan struct{}, s.MaxConnections), done: make(chan struct{}),
		full: func() {
			log.Warn().Int("max_connections", s.MaxConnections).Str("listen", ln.Addr().String()).
				Msg("web connections at web.max_connections: new ones wait until one closes")
		}}
}

type limitListener struct {
	net.Listener
	slots     chan struct{} // an open connection holds one
	done      chan struct{} // closed by Close
	closeOnce sync.Once
	full      func()
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	default:
		l.full()
		select {
		case l.slots <- struct{}{}:
		case <-l.done:
			return nil, &net.OpError{Op: "accept", Net: l.Addr().Network(), Addr: l.Addr(), Err: net.ErrClosed}
		}
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &limitConn{Conn: c, release: func() { <-l.slots }}, nil
}

func (l *limitListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// limitConn gives its slot back when closed.
type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// CloseWrite half-closes the connection as the server does before closing it after an
// error, so that the client reads the answer rather than a reset.
func (c *limitConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
