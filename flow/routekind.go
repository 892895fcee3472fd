package flow

// String is the kind's word in a route's text form: "queue", "goto" or "continue". It is
// also the label metrics count routes by.
func (k RouteKind) String() string {
	switch k {
	case RouteQueue:
		return "queue"
	case RouteGoto:
		return "goto"
	case RouteContinue:
		return "continue"
	}
	return "unknown"
}
