module github.com/taikit/taikit

go 1.25

require (
	github.com/gobwas/glob v1.1.0
	github.com/google/renameio/v2 v2.0.2
	github.com/klauspost/compress v1.20.3
)

require golang.org/x/sys v0.40.0
