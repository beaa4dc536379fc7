package chain

import (
	"fmt"
	"os/user"
	"strconv"
	"syscall"

	"github.com/taikit/taikit/errtext"
)

// Account is what setuidgid and envuidgid take from an account: its user
// id and its primary group id.
type Account struct {
	Name string
	UID  uint32
	GID  uint32 // the primary group, from the password entry
}

// UnknownAccountError is an account name the system does not know.
type UnknownAccountError struct{ Name string }

func (e *UnknownAccountError) Error() string { return "unknown account " + e.Name }

// LookupAccount finds the account name as getpwnam does: by name only (a
// number is a name like any other), through the system's name service
// when the program is built with cgo and in /etc/passwd otherwise. Any
// failure to find it is an *UnknownAccountError, as daemontools reports
// every failure of getpwnam.
func LookupAccount(name string) (Account, error) {
	u, err := user.Lookup(name)
	if err != nil || u.Username != name {
		return Account{}, &UnknownAccountError{Name: name}
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return Account{}, &UnknownAccountError{Name: name}
	}
	return Account{Name: name, UID: uint32(uid), GID: uint32(gid)}, nil
}

// Become makes this process (every thread of it) run as the account: its
// group list becomes the primary group alone, dropping every
// supplementary group the process had, then the group id and the user id
// change, in that order, since only root may change groups. Errors are
// *errtext.Error worded as setuidgid's: "unable to setgid" for the groups,
// "unable to setuid" for the user.
func (a Account) Become() error {
	if err := syscall.Setgroups([]int{int(a.GID)}); err != nil {
		return &errtext.Error{Op: "unable to setgid", Err: err, NoPath: true}
	}
	if err := syscall.Setgid(int(a.GID)); err != nil {
		return &errtext.Error{Op: "unable to setgid", Err: err, NoPath: true}
	}
	if err := syscall.Setuid(int(a.UID)); err != nil {
		return &errtext.Error{Op: "unable to setuid", Err: err, NoPath: true}
	}
	return nil
}

// EnvChanges returns envuidgid's changes: $GID, then $UID, as decimal
// numbers.
func (a Account) EnvChanges() *EnvChanges {
	c := new(EnvChanges)
	c.Set("GID", fmt.Sprint(a.GID))
	c.Set("UID", fmt.Sprint(a.UID))
	return c
}
