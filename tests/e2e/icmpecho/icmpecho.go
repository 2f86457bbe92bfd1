// SPDX-License-Identifier: MIT
//
// icmpecho - a small Go measurement program for the notify path tests
// (tests/e2e/static.sh): Go makes its system calls itself, so no
// LD_PRELOAD reaches it; only seccomp user notification can give it a raw
// socket.  Built in the test, CGO_ENABLED=0 (static), from Debian's
// golang-go and golang-golang-x-net-dev, offline (GOPATH, no modules).
//
//	icmpecho 4      one echo round trip to 127.0.0.1 over icmp.ListenPacket("ip4:icmp")
//	icmpecho 6      the same to ::1 over icmp.ListenPacket("ip6:ipv6-icmp")
//	icmpecho eperm  icmp.ListenPacket("ip4:udp") (a raw UDP socket, which the
//	                test's policy does not allow) must fail with EPERM
//	icmpecho hopopts        on a raw ICMPv6 socket, setsockopt(IPV6_HOPOPTS) with
//	                a padding-only header must succeed and read back the same
//	icmpecho hopopts-eperm  the same setsockopt must fail with EPERM
//	icmpecho interfaces     net.Interfaces() (a netlink SOCK_RAW socket,
//	                which the confinement must leave alone) must list lo
//
// Exit status 0 says the check held; the output says what happened.
package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

func roundTrip(network, dst string, request, reply icmp.Type, proto int) error {
	c, err := icmp.ListenPacket(network, "")
	if err != nil {
		return fmt.Errorf("listen %s: %w", network, err)
	}
	defer c.Close()
	id := os.Getpid() & 0xffff
	msg := icmp.Message{Type: request, Body: &icmp.Echo{ID: id, Seq: 1, Data: []byte("rawbroker")}}
	b, err := msg.Marshal(nil) // ICMPv6: the kernel fills the checksum
	if err != nil {
		return err
	}
	if _, err := c.WriteTo(b, &net.IPAddr{IP: net.ParseIP(dst)}); err != nil {
		return fmt.Errorf("send to %s: %w", dst, err)
	}
	if err := c.SetReadDeadline(time.Now().Add(3 * time.Second)); err != nil {
		return err
	}
	buf := make([]byte, 1500)
	for {
		// A raw socket on lo also sees our own request: wait for the reply.
		n, peer, err := c.ReadFrom(buf)
		if err != nil {
			return fmt.Errorf("receive: %w", err)
		}
		m, err := icmp.ParseMessage(proto, buf[:n])
		if err != nil || m.Type != reply {
			continue
		}
		if e, ok := m.Body.(*icmp.Echo); ok && e.ID == id && e.Seq == 1 {
			fmt.Printf("ok %s: echo reply from %v\n", network, peer)
			return nil
		}
	}
}

// hopOpts sets IPV6_HOPOPTS (8 bytes: next header, length 0, PadN of 4)
// on a raw ICMPv6 socket and reads it back.
func hopOpts() error {
	fd, err := syscall.Socket(syscall.AF_INET6, syscall.SOCK_RAW|syscall.SOCK_CLOEXEC, syscall.IPPROTO_ICMPV6)
	if err != nil {
		return fmt.Errorf("socket: %w", err)
	}
	defer syscall.Close(fd)
	hdr := []byte{0, 0, 1, 4, 0, 0, 0, 0}
	if err := syscall.SetsockoptString(fd, syscall.IPPROTO_IPV6, syscall.IPV6_HOPOPTS, string(hdr)); err != nil {
		return fmt.Errorf("setsockopt IPV6_HOPOPTS: %w", err)
	}
	got := make([]byte, 64)
	n := uint32(len(got))
	if _, _, e := syscall.Syscall6(syscall.SYS_GETSOCKOPT, uintptr(fd), syscall.IPPROTO_IPV6,
		syscall.IPV6_HOPOPTS, uintptr(unsafe.Pointer(&got[0])), uintptr(unsafe.Pointer(&n)), 0); e != 0 {
		return fmt.Errorf("getsockopt IPV6_HOPOPTS: %w", e)
	}
	if !bytes.Equal(got[:n], hdr) {
		return fmt.Errorf("IPV6_HOPOPTS reads back % x, not % x", got[:n], hdr)
	}
	fmt.Printf("ok: IPV6_HOPOPTS set and read back (% x)\n", got[:n])
	return nil
}

// interfaces lists the interfaces as Go does, over route netlink.
func interfaces() error {
	ifs, err := net.Interfaces()
	if err != nil {
		return fmt.Errorf("net.Interfaces: %w", err)
	}
	for _, i := range ifs {
		if i.Name == "lo" {
			fmt.Printf("ok: %d interfaces, lo among them\n", len(ifs))
			return nil
		}
	}
	return fmt.Errorf("net.Interfaces: no lo among %d", len(ifs))
}

func main() {
	var err error
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: icmpecho 4|6|eperm|interfaces|hopopts|hopopts-eperm")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "4":
		err = roundTrip("ip4:icmp", "127.0.0.1", ipv4.ICMPTypeEcho, ipv4.ICMPTypeEchoReply, 1)
	case "6":
		err = roundTrip("ip6:ipv6-icmp", "::1", ipv6.ICMPTypeEchoRequest, ipv6.ICMPTypeEchoReply, 58)
	case "eperm":
		var c net.PacketConn
		c, err = icmp.ListenPacket("ip4:udp", "")
		if err == nil {
			c.Close()
			err = errors.New("a raw UDP socket was granted")
		} else if errors.Is(err, syscall.EPERM) {
			fmt.Printf("ok: %v\n", err)
			err = nil
		}
	case "interfaces":
		err = interfaces()
	case "hopopts":
		err = hopOpts()
	case "hopopts-eperm":
		err = hopOpts()
		if errors.Is(err, syscall.EPERM) {
			fmt.Printf("ok: %v\n", err)
			err = nil
		} else if err == nil {
			err = errors.New("IPV6_HOPOPTS was set")
		}
	default:
		err = fmt.Errorf("unknown check %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "icmpecho:", err)
		os.Exit(1)
	}
}
