package proxy

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"
)

// inbound is a client request as the code below the Gin handler glue sees
// it: the request, the response writer and the path after /v1. Only
// server.go and models.go touch *gin.Context.
type inbound struct {
	req    *http.Request
	w      http.ResponseWriter
	suffix string // path after /v1
}

func newInbound(c *gin.Context) *inbound {
	return &inbound{req: c.Request, w: c.Writer, suffix: c.Param("path")}
}

func (in *inbound) ctx() context.Context { return in.req.Context() }

// setHeader sets a response header; an empty value deletes it, as Gin's
// Context.Header does.
func (in *inbound) setHeader(key, value string) {
	if value == "" {
		in.w.Header().Del(key)
		return
	}
	in.w.Header().Set(key, value)
}
