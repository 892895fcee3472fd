package live

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/idv-project/idv/flow"
)

// ARIEndpoints is a Roster's Endpoints over ARI's REST interface at baseURL (e.g.
// http://127.0.0.1:8088/ari): GET /endpoints, each endpoint named like the agents are
// (PJSIP/agent1) in the state it stands in — offline, idle, or on a call when it has
// channels. Endpoints whose state Asterisk does not know are left out.
func ARIEndpoints(baseURL, user, password string, client *http.Client) func(ctx context.Context) (map[string]flow.AgentState, error) {
	if client == nil {
		client = http.DefaultClient
	}
	return func(ctx context.Context) (map[string]flow.AgentState, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(baseURL, "/")+"/endpoints", nil)
		if err != nil {
			return nil, err
		}
		req.SetBasicAuth(user, password)
		resp, err := client.Do(req)
		if err != nil {
			return nil, fmt.Errorf("ARI endpoints: %w", err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("ARI endpoints: %s", resp.Status)
		}
		var endpoints []struct {
			Technology string   `json:"technology"`
			Resource   string   `json:"resource"`
			State      string   `json:"state"`
			Channels   []string `json:"channel_ids"`
		}
		if err := json.NewDecoder(io.LimitReader(resp.Body, 8<<20)).Decode(&endpoints); err != nil {
			return nil, fmt.Errorf("ARI endpoints: %w", err)
		}
		out := map[string]flow.AgentState{}
		for _, e := range endpoints {
			name := e.Technology + "/" + e.Resource
			switch {
			case e.State == "offline":
				out[name] = flow.AgentOffline
			case e.State == "online" && len(e.Channels) > 0:
				out[name] = flow.AgentOnCall
			case e.State == "online":
				out[name] = flow.AgentIdle
			}
		}
		return out, nil
	}
}
