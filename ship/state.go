package ship

import "github.com/taikit/taikit/ship/state"

// The state file lives in package state, which readers of it (svstatd)
// can link without the sinks' clients; these names keep ship's API whole.
type (
	// Position is how far a directory has been shipped: everything up to
	// it was acknowledged by the server.
	Position = state.Position
	// State is the file that keeps each directory's Position.
	State = state.State
)

// ErrStateSyntax is returned for a state file that logship did not write.
var ErrStateSyntax = state.ErrStateSyntax

// OpenState reads the state file at path; see [state.Open].
func OpenState(path string) (*State, error) { return state.Open(path) }
