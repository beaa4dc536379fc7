package chain

// oPath is O_PATH, a descriptor that only names a file, which package
// syscall does not define (golang.org/x/sys/unix does; one constant does
// not justify a dependency). Its value is the same on every Linux
// architecture Go supports.
const oPath = 0x200000
