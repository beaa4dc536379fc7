//go:build linux && !(mips || mipsle || mips64 || mips64le)

package chain

// Resource limits package syscall does not define, with their values on
// every Linux architecture but MIPS (see rlimit_mipsfamily_linux.go).
const (
	rlimitRSS     = 5 // RLIMIT_RSS: resident set size
	rlimitNPROC   = 6 // RLIMIT_NPROC: processes of the real user
	rlimitMEMLOCK = 8 // RLIMIT_MEMLOCK: bytes locked in memory
)
