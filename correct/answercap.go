package correct

// capTokens is the cap on one generation of j: the configured and
// requested caps, and the client's cap on the answer, whichever is least.
func (j *job) capTokens() int {
	c := j.maxCap
	if j.answerCap > 0 && (c == 0 || j.answerCap < c) {
		c = j.answerCap
	}
	return c
}

// hitCap reports whether the generation stopped at its token cap.
func (g *generation) hitCap() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.finish == "length"
}

// spend takes the tokens of emitted text off the answer budget of a
// stream; it reports whether the budget is spent. Without a cap it never is.
func (st *streamer) spend(res result, text string) bool {
	if st.budget < 0 {
		return false
	}
	n := res.tokensOut
	if n == 0 && st.j.model != nil {
		n = countTokens(st.j.model, text)
	}
	st.budget -= n
	return st.budget <= 0
}
