module github.com/taikit/taikit

go 1.24
