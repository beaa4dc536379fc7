// Package ship sends log directories to a central store without losing or
// repeating a line: the core of the logship command.
//
// A Shipper reads one directory with package logread (archives in order,
// compressed or not, then "current", then follows it across rotations)
// and hands its lines, a batch at a time, to a Sink. The position reached
// is saved (a State file) only after the Sink says the server has
// acknowledged everything before it, so a shipper killed at any moment
// starts again at the first line not acknowledged: at-least-once delivery.
//
// Every record carries a stable key: the host, the directory's name and
// the record's number in that directory's stream (Record.Seq), counted in
// the State beside the reader's cursor. A line read again after a restart
// gets the number it had before, whichever file holds it now ("current"
// then, an archive since), which an archive label and offset would not
// give. Sinks whose server can refuse a record it already holds use the
// key for it, and make delivery effectively exactly once:
//
//   - NATS JetStream (nats://): the key is the Nats-Msg-Id, and the server
//     drops a publish whose id it holds within the stream's duplicate
//     window.
//   - Redis Streams (redis://): the entry ID is derived from the line's
//     stamp and its number, increasing; an entry sent again is refused as
//     not newer than the stream's top, and the sink checks it is its own.
//   - RELP (relp://), rsyslog's acknowledged protocol, has no such check:
//     what was acknowledged after the last save of the position, at most
//     one batch, is sent again after a kill or a broken connection.
//   - Syslog over TCP or TLS (syslog+tcp://, syslog+tls://) has no
//     acknowledgement at all: a batch counts as delivered once the
//     server's TCP has acknowledged its bytes, which is all that can be
//     known.
//
// Records the NATS or Redis server already held are counted (Shipper.Held,
// from a Sink that implements HeldCounter), and each stretch of them is
// said to Shipper.Warn (*Resent): a resend is never silent either.
//
// Memory is bounded: a few read blocks (of at most 1 MiB) wait between the
// reader and the sink, whatever the backlog. A server that goes away is
// retried with capped backoff; a gap (archives pruned before they were
// shipped) is never silent: it is reported and counted in the State.
//
// The package prints nothing: warnings go to Shipper.Warn.
package ship
