module github.com/taikit/taikit

go 1.26.0

require (
	github.com/gobwas/glob v1.1.0
	github.com/google/renameio/v2 v2.0.2
	github.com/klauspost/compress v1.20.3
)

require (
	github.com/nats-io/nats.go v1.56.0
	github.com/redis/go-redis/v9 v9.23.0
	golang.org/x/sys v0.48.0
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/nats-io/nkeys v0.4.16 // indirect
	github.com/nats-io/nuid v1.0.1 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	golang.org/x/crypto v0.57.0 // indirect
)
