package agitest

// parseArgs splits a command line as Asterisk's res_agi.c parse_args does: words
// separated by spaces or tabs, double quotes group, a backslash makes the next character
// literal, and "" is an empty argument.
func parseArgs(s string) []string {
	// The words' bytes go into one buffer made a string once, and each word is a slice of
	// it: two allocations per command line, not one per word.
	buf := make([]byte, 0, len(s))
	var ends []int
	quoted, escaped, inWord := false, false, false
	flush := func() {
		if inWord {
			ends = append(ends, len(buf))
		}
		inWord = false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' && !escaped:
			quoted = !quoted
			inWord = true
		case (c == ' ' || c == '\t') && !quoted && !escaped:
			flush()
		case c == '\\' && !escaped:
			escaped = true
		default:
			buf = append(buf, c)
			inWord, escaped = true, false
		}
	}
	flush()
	if len(ends) == 0 {
		return nil
	}
	words, all, start := make([]string, len(ends)), string(buf), 0
	for i, end := range ends {
		words[i] = all[start:end]
		start = end
	}
	return words
}
