module github.com/taikit/taikit

go 1.25

require github.com/klauspost/compress v1.20.3 // indirect
