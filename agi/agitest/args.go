package agitest

// parseArgs splits a command line as Asterisk's res_agi.c parse_args does: words
// separated by spaces or tabs, double quotes group, a backslash makes the next character
// literal, and "" is an empty argument.
func parseArgs(s string) []string {
	var args []string
	var cur []byte
	quoted, escaped, inWord := false, false, false
	flush := func() {
		if inWord {
			args = append(args, string(cur))
		}
		cur, inWord = cur[:0], false
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
			cur = append(cur, c)
			inWord, escaped = true, false
		}
	}
	flush()
	return args
}
