package ship

import (
	"net"
	"syscall"
)

// quickACK has the kernel acknowledge what c has received now, and for a
// while without delay (TCP_QUICKACK, which does not last); it says
// whether it could.
func quickACK(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
	}); err != nil || serr != nil {
		return false
	}
	return true
}
