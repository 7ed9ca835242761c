package proxy

import (
	"context"
	"errors"
	"net"
	"net/http"

	"github.com/aligngate/aligngate/wire"
)

// statusClientClosed is nginx's "client closed request": logged, never sent.
const statusClientClosed = 499

// upstreamError maps a failed upstream exchange to the answer the client
// gets: 504 for every kind of timeout, 499 when the client itself left,
// otherwise 502. It is the one place that decides these statuses.
func upstreamError(ctx context.Context, err error) *wire.Error {
	var ne net.Error
	switch {
	case errors.Is(err, errIdle):
		return wire.NewError(http.StatusGatewayTimeout, wire.TypeUpstream, "upstream_timeout",
			"The upstream stopped sending data for longer than the idle timeout.")
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return wire.NewError(http.StatusGatewayTimeout, wire.TypeUpstream, "upstream_timeout",
			"The upstream did not answer in time.")
	case ctx.Err() != nil:
		return wire.NewError(statusClientClosed, wire.TypeInvalidRequest, "client_closed", "client closed the request")
	default:
		return wire.NewError(http.StatusBadGateway, wire.TypeUpstream, "upstream_unreachable",
			"The upstream could not be reached: "+err.Error())
	}
}

func badRequest(code, param, msg string) *wire.Error {
	e := wire.NewError(http.StatusBadRequest, wire.TypeInvalidRequest, code, msg)
	if param != "" {
		e.WithParam(param)
	}
	return e
}

// bodyError maps a failure to read the client's body.
func bodyError(err error, limit int64) *wire.Error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return tooLarge(limit)
	}
	return badRequest("invalid_body", "", "Could not read the request body: "+err.Error())
}

func tooLarge(limit int64) *wire.Error {
	return wire.NewError(http.StatusRequestEntityTooLarge, wire.TypeInvalidRequest, "request_too_large",
		"The request body exceeds the limit of "+itoa(limit)+" bytes.")
}
