package web

import (
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
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
//
// One client address holds at most s.MaxConnectionsPerClient of them (no cap when 0;
// the trusted proxies have none): its next connection is answered 503 at once and
// closed, so that one host, signed in or not, cannot keep the pages from everyone else
// by holding every connection open. The first refusal in a minute is logged.
func (s *Server) Listener(ln net.Listener) net.Listener {
	if s.MaxConnections <= 0 && s.MaxConnectionsPerClient <= 0 {
		return ln
	}
	full := s.Log.Sample(&zerolog.BurstSampler{Burst: 1, Period: time.Minute})
	refused := s.Log.Sample(&zerolog.BurstSampler{Burst: 1, Period: time.Minute})
	l := &limitListener{Listener: ln, done: make(chan struct{}), perClient: s.MaxConnectionsPerClient,
		trusted: s.Access.trusted, clients: map[netip.Addr]int{},
		full: func() {
			full.Warn().Int("max_connections", s.MaxConnections).Str("listen", ln.Addr().String()).
				Msg("web connections at web.max_connections: new ones wait until one closes")
		},
		refused: func(client netip.Addr) {
			refused.Warn().Int("max_connections_per_client", s.MaxConnectionsPerClient).Str("client", client.String()).
				Msg("web connections of one client at web.max_connections_per_client: its next ones are answered 503")
		}}
	if s.MaxConnections > 0 {
		l.slots = make(chan struct{}, s.MaxConnections)
	}
	return l
}

type limitListener struct {
	net.Listener
	slots     chan struct{} // an open connection holds one; nil: no cap
	done      chan struct{} // closed by Close
	closeOnce sync.Once
	full      func()
	perClient int
	trusted   func(netip.Addr) bool
	refused   func(netip.Addr)
	mu        sync.Mutex
	clients   map[netip.Addr]int // open connections per client address (perClient > 0)
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		if err := l.takeSlot(); err != nil {
			return nil, err
		}
		c, err := l.Listener.Accept()
		if err != nil {
			l.releaseSlot()
			return nil, err
		}
		client, ok := l.admit(c)
		if !ok {
			l.releaseSlot()
			l.refused(client)
			go refuse(c)
			continue
		}
		return &limitConn{Conn: c, release: func() { l.leave(client); l.releaseSlot() }}, nil
	}
}

func (l *limitListener) takeSlot() error {
	if l.slots == nil {
		return nil
	}
	select {
	case l.slots <- struct{}{}:
		return nil
	default:
	}
	l.full()
	select {
	case l.slots <- struct{}{}:
		return nil
	case <-l.done:
		return &net.OpError{Op: "accept", Net: l.Addr().Network(), Addr: l.Addr(), Err: net.ErrClosed}
	}
}

func (l *limitListener) releaseSlot() {
	if l.slots != nil {
		<-l.slots
	}
}

// admit counts c against its client's connections, unless that client holds its share
// already.
func (l *limitListener) admit(c net.Conn) (netip.Addr, bool) {
	if l.perClient <= 0 {
		return netip.Addr{}, true
	}
	ap, err := netip.ParseAddrPort(c.RemoteAddr().String())
	client := ap.Addr().Unmap()
	if err != nil || l.trusted(client) {
		return netip.Addr{}, true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.clients[client] >= l.perClient {
		return client, false
	}
	l.clients[client]++
	return client, true
}

func (l *limitListener) leave(client netip.Addr) {
	if !client.IsValid() {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.clients[client]--; l.clients[client] <= 0 {
		delete(l.clients, client)
	}
}

// tooMany is the answer to a connection past its client's share.
var tooMany = func() string {
	const body = "too many connections from this address (web.max_connections_per_client)\n"
	return "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 5\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
}()

// refusing bounds the refusals in progress; past it a connection is closed unanswered.
var refusing = make(chan struct{}, 64)

// refuse answers c 503 without reading its request, and closes it once the client has
// read the answer (or a second has passed): closing with the request unread would reset
// the connection before the client read why.
func refuse(c net.Conn) {
	defer c.Close()
	select {
	case refusing <- struct{}{}:
		defer func() { <-refusing }()
	default:
		return
	}
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := io.WriteString(c, tooMany); err != nil {
		return
	}
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	io.Copy(io.Discard, io.LimitReader(c, 64<<10))
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
