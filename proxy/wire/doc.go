// Package wire holds the OpenAI wire shapes aligngate needs and the one SSE
// encoder and decoder the proxy uses. It knows no Gin and no routing: the
// handlers in package proxy share it so every error body and every event is
// written the same way.
package wire
