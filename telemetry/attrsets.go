package telemetry

import (
	"strconv"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// setKey identifies one combination of metric label values.
type setKey struct {
	names  [3]string // label names, "" for unused
	values [3]string
	status int // the "status" label when > 0
}

// maxSets bounds the memo; label values come from closed vocabularies
// (routes, statuses, modes, arms from config), so it is never reached in
// practice, and past it sets are simply built per call.
const maxSets = 4096

// setCache memoizes attribute sets so that recording a metric on the
// request path does not sort and hash its labels every time.
type setCache struct {
	mu sync.RWMutex
	m  map[setKey]metric.MeasurementOption
}

func (c *setCache) get(k setKey) metric.MeasurementOption {
	c.mu.RLock()
	o, ok := c.m[k]
	c.mu.RUnlock()
	if ok {
		return o
	}
	kvs := make([]attribute.KeyValue, 0, 4)
	for i, n := range k.names {
		if n != "" {
			kvs = append(kvs, attribute.String(n, k.values[i]))
		}
	}
	if k.status > 0 {
		kvs = append(kvs, attribute.String("status", strconv.Itoa(k.status)))
	}
	o = metric.WithAttributeSet(attribute.NewSet(kvs...))
	c.mu.Lock()
	if c.m == nil {
		c.m = make(map[setKey]metric.MeasurementOption)
	}
	if len(c.m) < maxSets {
		c.m[k] = o
	}
	c.mu.Unlock()
	return o
}

// labels builds a key for up to three named labels and an optional status.
func labels(status int, nv ...string) setKey {
	var k setKey
	for i := 0; i+1 < len(nv) && i/2 < len(k.names); i += 2 {
		k.names[i/2], k.values[i/2] = nv[i], nv[i+1]
	}
	k.status = status
	return k
}
