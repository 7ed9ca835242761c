package proxy

import (
	"github.com/gin-gonic/gin"
)

// guide serves a chat request in stream mode on an upstream driven by
// guide: the paper's loop, asking the upstream for one sentence at a time
// after the corrected prefix.
func (s *Server) guide(c *gin.Context, j *job, stream bool) {
	// TODO(guide): implemented in a following commit; follow meanwhile.
	if stream {
		s.followStream(c, j)
		return
	}
	s.correctWhole(c, j)
}
