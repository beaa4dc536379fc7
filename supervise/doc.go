// Package supervise runs one service the way daemontools' supervise does,
// and reads and drives such services the way svc, svstat and svok do.
//
// A service directory holds an executable run (and optionally down, check,
// finish, backoff, which slows a crash loop: see Backoff, and needs/, which
// holds run back until the services it names are up and ready: see
// NeedsDir). Its
// supervisor keeps run running and publishes its state in the directory
// supervise/ inside it:
//
//	supervise/lock     locked while a supervisor runs (flock), mode 0600
//	supervise/control  FIFO, 0600: each byte written is a command (see Command)
//	supervise/ok       FIFO, 0600: opened for reading while a supervisor runs
//	supervise/status   the 18-byte daemontools record (see Status)
//	supervise/extra    taikit's additions: readiness, restarts, last exit, backoff, needs (see Extra)
//
// The first four are exactly daemontools' 0.76 layout, so daemontools'
// svc, svstat and svok work on a taikit supervisor and taikit's on
// daemontools' supervise. supervise/extra is a separate file that
// daemontools' programs never open.
//
// Clients use ReadStatus, ReadExtra, Control and Running; Describe words a
// service's state as svstat does. A Supervisor runs one service.
package supervise
