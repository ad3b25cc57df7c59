package devcluster

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"
)

// echoName accepts connections and writes name to each, then closes it.
func echoName(t *testing.T, name string) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = c.Write([]byte(name + "\n"))
			_ = c.Close()
		}
	}()
	return ln
}

func ask(t *testing.T, addr string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return "error: " + err.Error()
	}
	return strings.TrimSpace(line)
}

func TestProxyRoundRobinSkipsDeadBackend(t *testing.T) {
	a, b := echoName(t, "a"), echoName(t, "b")
	defer a.Close()
	p, err := NewProxy([]string{a.Addr().String(), b.Addr().String()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var got []string
	for range 4 {
		got = append(got, ask(t, p.Addr()))
	}
	if strings.Join(got, "") != "abab" {
		t.Fatalf("answers %v, want a b a b", got)
	}
	_ = b.Close() // b is gone: every connection goes to a
	for i := range 3 {
		if g := ask(t, p.Addr()); g != "a" {
			t.Fatalf("connection %d after b closed answered %q", i, g)
		}
	}
	if c := p.Conns(); c[0] != 5 || c[1] != 2 {
		t.Errorf("connections per backend %v, want [5 2]", c)
	}
}

func TestProxyCloseEndsOpenConnections(t *testing.T) {
	// A backend that never answers: the proxied connection stays open.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	held := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			held <- c
		}
	}()
	p, err := NewProxy([]string{ln.Addr().String()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	select {
	case bc := <-held:
		defer bc.Close()
	case <-time.After(5 * time.Second):
		t.Fatal("the proxy did not connect to the backend")
	}
	closed := make(chan error, 1)
	go func() { closed <- p.Close() }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return with a connection open")
	}
	_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil || strings.Contains(err.Error(), "timeout") {
		t.Errorf("the client's connection is still open after Close: %v", err)
	}
}
