// Package statusweb serves what package observe reads of a supervision
// tree over HTTP, for svstatd: Prometheus metrics (a Collector reading the
// status files at each scrape), the same as JSON, and a live web page
// with its event stream, and, when enabled with a token, verified control
// (package control's start, stop and restart).
package statusweb
