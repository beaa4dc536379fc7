// Package chain holds the logic of daemontools' chain-loading programs:
// setuidgid, envuidgid, envdir, softlimit, setlock, fghack, pgrphack and
// readproctitle. Each of them changes one thing about its own process (its
// account, environment, resource limits, a lock it holds, its session) and
// then replaces itself with the rest of its command line, so that a run
// script reads as a chain:
//
//	exec envdir ./env setuidgid www softlimit -m 50000000 ./daemon
//
// Everything here follows daemontools 0.76 byte for byte where a user could
// see it: the search of $PATH (pathexec), the order in which environment
// changes are merged, the rules turning a directory into variables, what
// softlimit's options set, and the wording of failures. The programs'
// command lines are read by the command layer (internal/cli's Getopt). Deliberate differences are
// listed in each command's man page in doc/.
//
// The package is for Linux: it reads /proc and uses Linux resource limits.
package chain
