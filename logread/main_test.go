package logread

import (
	"testing"

	"github.com/taikit/taikit/internal/testref"
)

func TestMain(m *testing.M) { testref.Main(m) }
