package loadtest

import (
	"bufio"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// metricsRSS reads process_resident_memory_bytes from a Prometheus endpoint: the
// memory of a server the load test did not start, and so cannot read from /proc.
func metricsRSS(url string) func() (int64, error) {
	client := &http.Client{Timeout: 2 * time.Second}
	return func() (int64, error) {
		resp, err := client.Get(url)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "process_resident_memory_bytes "); ok {
				f, err := strconv.ParseFloat(v, 64)
				return int64(f), err
			}
		}
		return 0, errors.New("no process_resident_memory_bytes in " + url)
	}
}
