//go:build !linux

package ship

import "net"

// quickACK is Linux's TCP_QUICKACK; elsewhere it cannot be had.
func quickACK(net.Conn) bool { return false }
