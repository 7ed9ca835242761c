package proxy

import (
	"context"
	"errors"
	"net"
	"net/http"

	"github.com/aligngate/aligngate/correct"
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
		// The transport's error names hosts and addresses: it goes to
		// the log (fail, streamFailed), never to the client.
		return wire.NewError(http.StatusBadGateway, wire.TypeUpstream, "upstream_unreachable",
			"The upstream could not be reached.")
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
	if errors.Is(err, errBodyTimeout) {
		return bodyTimeout()
	}
	return badRequest("invalid_body", "", "Could not read the request body: "+err.Error())
}

func tooLarge(limit int64) *wire.Error {
	return wire.NewError(http.StatusRequestEntityTooLarge, wire.TypeInvalidRequest, "request_too_large",
		"The request body exceeds the limit of "+itoa(limit)+" bytes.")
}

// fallbackStatus maps a correction's fallback reason to the status a
// fail-closed request is answered with: busy 429 (with Retry-After),
// timeout and budget 504, too_long 413, error and empty 502.
func fallbackStatus(reason string) int {
	switch reason {
	case correct.FallbackBusy:
		return http.StatusTooManyRequests
	case correct.FallbackTimeout, correct.FallbackBudget:
		return http.StatusGatewayTimeout
	case correct.FallbackTooLong:
		return http.StatusRequestEntityTooLarge
	default:
		return http.StatusBadGateway
	}
}

// correctionError is the answer to a failed correction under fail-closed:
// a stable code and a short message. The error itself, which may quote
// the backend's output or address, is for the log (correctionFailed).
func correctionError(err error) *wire.Error {
	var fe *correct.FallbackError
	if !errors.As(err, &fe) {
		return wire.NewError(http.StatusBadGateway, wire.TypeServer, "correction_error", "The correction failed.")
	}
	e := wire.NewError(fallbackStatus(fe.Reason), wire.TypeServer, "correction_"+fe.Reason,
		"The answer could not be corrected ("+fe.Reason+").")
	if fe.Reason == correct.FallbackBusy {
		e.Type = wire.TypeRateLimit
		e.RetryAfter = 1
	}
	return e
}

// correctionFailed logs a failed fail-closed correction and returns the
// client's answer to it.
func (s *Server) correctionFailed(err error) *wire.Error {
	s.logger.Warn("correction failed (fail-closed)", "err", err)
	return correctionError(err)
}
