// Package wire is the OpenAI wire format as aligngate reads and writes it:
// the request, response and chunk shapes, error bodies, the order-keeping
// JSON object used to rewrite answers, the one SSE decoder and the one SSE
// writer. The proxy's handlers and the remote correction backend share it,
// so every event is read by the same rules and written the same way.
//
// It is a leaf: it imports nothing of aligngate and knows no Gin, no
// routing and no correction.
package wire
