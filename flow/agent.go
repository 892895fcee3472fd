package flow

// AgentState is what an agent is doing, as the live views show it. ARI reports most
// states from the agent's device; wrap-up is idv's own (the call ended, the agent has not
// picked a wrap-up code yet). The values are what the pages receive and translate, so
// they keep their spaces.
type AgentState string

// States of an agent.
const (
	AgentRinging AgentState = "ringing"   // a queue call rings them
	AgentIdle    AgentState = "idle"      // free for a call
	AgentOnCall  AgentState = "on a call" // in use, busy or holding
	AgentWrapUp  AgentState = "wrap-up"   // their call ended; they owe a wrap-up code
	AgentOffline AgentState = "offline"   // the device is unavailable
)
