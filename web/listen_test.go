package web_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/idv-project/idv/live"
	"github.com/idv-project/idv/web"
)

// serve runs srv's http.Server (after edit) on a loopback port until the test ends.
func serve(t *testing.T, srv *web.Server, edit func(*http.Server)) (addr string, hs *http.Server) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs = srv.HTTP()
	if edit != nil {
		edit(hs)
	}
	go hs.Serve(srv.Listener(ln))
	t.Cleanup(func() { hs.Close() })
	return ln.Addr().String(), hs
}

// keepAlive opens a connection and gets /healthz on it, leaving it open.
func keepAlive(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	fmt.Fprint(c, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
	r := bufio.NewReader(c)
	ok(t, r)
	return c, r
}

// ok reads a response, which must be 200.
func ok(t *testing.T, r *bufio.Reader) {
	t.Helper()
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET /healthz: %s", resp.Status)
	}
}

// TestServerDeadlines: the web server bounds a request's reading and writing and an idle
// connection's life (it once had only a deadline for the headers).
func TestServerDeadlines(t *testing.T) {
	hs := (&web.Server{}).HTTP()
	if hs.ReadHeaderTimeout <= 0 || hs.ReadTimeout <= 0 || hs.WriteTimeout <= 0 || hs.IdleTimeout != web.DefaultIdleTimeout {
		t.Errorf("deadlines: header %v, read %v, write %v, idle %v", hs.ReadHeaderTimeout, hs.ReadTimeout, hs.WriteTimeout, hs.IdleTimeout)
	}
}

// TestIdleConnectionsAreClosed: a keep-alive connection left idle is closed by the server
// after IdleTimeout, giving its file descriptor back.
func TestIdleConnectionsAreClosed(t *testing.T) {
	addr, _ := serve(t, &web.Server{Access: web.Access{Open: true}, Log: zerolog.Nop(), IdleTimeout: 50 * time.Millisecond}, nil)
	c, r := keepAlive(t, addr)
	c.SetReadDeadline(time.Now().Add(time.Minute)) // a guard: the test fails rather than hangs
	if _, err := r.ReadByte(); !errors.Is(err, io.EOF) {
		t.Errorf("reading the idle connection: %v, want EOF (closed by the server)", err)
	}
}

// logLines sends each line logged to a channel.
type logLines chan string

func (l logLines) Write(p []byte) (int, error) { l <- string(p); return len(p), nil }

// TestConnectionsPastTheCapWait: with MaxConnections open, the server accepts no more
// (and says so in the log) until one closes; the waiting client is then served.
func TestConnectionsPastTheCapWait(t *testing.T) {
	logs := make(logLines, 10)
	srv := &web.Server{Access: web.Access{Open: true}, Log: zerolog.New(logs), MaxConnections: 2}
	// Sockets are counted as they are accepted and closed, beneath the cap (the server's
	// ConnState hook reports a close after the slot is given back, so it cannot count).
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sockets := &countingListener{Listener: ln}
	hs := srv.HTTP()
	go hs.Serve(srv.Listener(sockets))
	t.Cleanup(func() { hs.Close() })
	addr := ln.Addr().String()
	first, _ := keepAlive(t, addr)
	keepAlive(t, addr)
	select {
	case line := <-logs:
		if !strings.Contains(line, "web.max_connections") {
			t.Errorf("log: %s", line)
		}
	case <-time.After(time.Minute): // a guard: the test fails rather than hangs
		t.Fatal("with 2 connections open the server kept accepting")
	}
	third, err := net.Dial("tcp", addr) // the kernel's backlog holds it
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	fmt.Fprint(third, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
	first.Close()
	third.SetReadDeadline(time.Now().Add(time.Minute))
	ok(t, bufio.NewReader(third))
	if most := sockets.peak(); most != 2 {
		t.Errorf("%d connections open at once, want at most 2", most)
	}
}

// countingListener counts the sockets it accepted that are not closed yet, and the most
// at once.
type countingListener struct {
	net.Listener
	mu         sync.Mutex
	open, most int
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	l.open++
	l.most = max(l.most, l.open)
	l.mu.Unlock()
	return &countedConn{Conn: c, l: l}, nil
}

func (l *countingListener) peak() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.most
}

type countedConn struct {
	net.Conn
	l    *countingListener
	once sync.Once
}

func (c *countedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.l.mu.Lock()
		c.l.open--
		c.l.mu.Unlock()
	})
	return err
}

// TestLiveStreamOutlivesTheDeadlines: the live views' stream goes on past the server's
// read and write deadlines, which would otherwise cut it.
func TestLiveStreamOutlivesTheDeadlines(t *testing.T) {
	hub := live.New(nil, time.UTC)
	srv := &web.Server{Access: web.Access{Open: true}, Log: zerolog.Nop(), Live: hub}
	// Pushes are at least 250 ms apart: each one after the first is past both deadlines.
	addr, _ := serve(t, srv, func(hs *http.Server) { hs.ReadTimeout, hs.WriteTimeout = 50*time.Millisecond, 50*time.Millisecond })
	resp, err := http.Get("http://" + addr + "/api/live")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	for i := range 3 {
		line, err := r.ReadString('\n')
		if err != nil || !strings.HasPrefix(line, "data: {") {
			t.Fatalf("push %d: %q %v", i+1, line, err)
		}
		r.ReadString('\n') // the blank line after each event
		hub.CallStarted(fmt.Sprint("call", i), "default", "idv")
	}
}

// TestOneClientCannotHoldEveryConnection: past web.max_connections_per_client, a client's
// next connection is answered 503 at once (and the log says so), while another address
// is served and a trusted proxy, which carries many users, has no such cap.
func TestOneClientCannotHoldEveryConnection(t *testing.T) {
	logs := make(logLines, 10)
	srv := &web.Server{Access: web.Access{Open: true}, Log: zerolog.New(logs), MaxConnections: 8, MaxConnectionsPerClient: 2}
	addr, _ := serve(t, srv, nil)
	keepAlive(t, addr)
	keepAlive(t, addr)
	third, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	third.SetReadDeadline(time.Now().Add(time.Minute)) // a guard: the test fails rather than hangs
	resp, err := http.ReadResponse(bufio.NewReader(third), nil)
	if err != nil {
		t.Fatalf("the third connection of one address: %v, want a 503", err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "web.max_connections_per_client") {
		t.Errorf("the third connection of one address: %s %q", resp.Status, body)
	}
	select {
	case line := <-logs:
		if !strings.Contains(line, "max_connections_per_client") || !strings.Contains(line, `"client":"127.0.0.1"`) {
			t.Errorf("log: %s", line)
		}
	case <-time.After(time.Minute):
		t.Fatal("the refusal was not logged")
	}
	// Another address of the loopback network is another client.
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}
	other, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	fmt.Fprint(other, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
	other.SetReadDeadline(time.Now().Add(time.Minute))
	ok(t, bufio.NewReader(other))

	proxied := &web.Server{Access: web.Access{Open: true, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}},
		Log: zerolog.Nop(), MaxConnections: 8, MaxConnectionsPerClient: 2}
	paddr, _ := serve(t, proxied, nil)
	for range 3 {
		keepAlive(t, paddr)
	}
}
