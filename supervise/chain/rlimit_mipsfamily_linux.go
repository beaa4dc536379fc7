//go:build linux && (mips || mipsle || mips64 || mips64le)

package chain

// Resource limits package syscall does not define, with their values on
// MIPS, which numbers them differently from other Linux architectures.
const (
	rlimitRSS     = 7 // RLIMIT_RSS
	rlimitNPROC   = 8 // RLIMIT_NPROC
	rlimitMEMLOCK = 9 // RLIMIT_MEMLOCK
)
