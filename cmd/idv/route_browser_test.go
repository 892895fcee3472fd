package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"

	"github.com/idv-project/idv/agi/agitest"
)

// A late answer for a page the user has left never draws over the page shown now. The
// supervisor searches the interactions for one customer and, before the answer comes,
// for another; the browser holds both requests and lets the second through first, then
// the first: the list shows the second customer's call alone, and the late answer is
// dropped.
func TestALateAnswerDoesNotDrawOverTheNextPage(t *testing.T) {
	actx := browser(t)
	h := newHarness(t, "")
	_, first := h.call(agitest.Caller{ANI: "+81312345678", Keys: "1234#"})
	_, second := h.call(agitest.Caller{ANI: "anonymous", Keys: "100235#"})
	if first.CustomerID == "" || second.CustomerID == "" || first.CustomerID == second.CustomerID {
		t.Fatalf("want two customers, got %q and %q", first.CustomerID, second.CustomerID)
	}
	base := "http://" + h.svc.WebAddr().String()
	boss := tab(t, actx, "x", "y") // the harness's web is open on loopback
	paused := pausedRequests(t, boss)
	held := func() fetch.RequestID {
		t.Helper()
		select {
		case id := <-paused:
			return id
		case <-time.After(time.Minute):
			t.Fatal("the interactions list was never asked for")
			return ""
		}
	}
	let := func(id fetch.RequestID) {
		t.Helper()
		if _, err := chromedp.Call(boss, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: id}); err != nil {
			t.Fatal(err)
		}
	}
	// The list drawn once, with nothing left in flight; then searched twice, the answers
	// held.
	if err := chromedp.Do(boss, chromedp.Navigate(base+"/#/interactions")); err != nil {
		t.Fatal(err)
	}
	waitText(t, boss, "#count", "1–2 of 2")
	if _, err := chromedp.Call(boss, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: "*/api/interactions?*"}}}); err != nil {
		t.Fatal(err)
	}
	evalString(t, boss, fmt.Sprintf(`location.hash = "#/interactions?q=%s", ""`, first.CustomerID))
	late := held()
	evalString(t, boss, fmt.Sprintf(`location.hash = "#/interactions?q=%s", ""`, second.CustomerID))
	let(held())
	waitText(t, boss, "#interactions", second.CustomerID)
	let(late)
	// Wait until the page has read the late answer: dropped, or (the defect) drawn.
	if _, err := chromedp.Run(boss, chromedp.Poll[bool](fmt.Sprintf(`window.idvStaleAnswers > 0 || document.querySelector("#interactions").textContent.includes(%q)`, first.CustomerID),
		chromedp.WithPollingInterval(20*time.Millisecond))); err != nil {
		t.Fatal(err)
	}
	got := evalString(t, boss, `[document.querySelector("input[name=q]").value, document.querySelector("#count").innerText,
		document.querySelector("#interactions").innerText.replace(/\s+/g, " "), "dropped: " + (window.idvStaleAnswers || 0)].join(" | ")`)
	if strings.Contains(got, first.CustomerID) || !strings.Contains(got, second.CustomerID) || !strings.HasSuffix(got, " | dropped: 1") {
		t.Errorf("the answer for %s drew over the search for %s: %s", first.CustomerID, second.CustomerID, got)
	}
}
