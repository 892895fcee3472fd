package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"golang.org/x/crypto/bcrypt"

	"github.com/idv-project/idv/agi/agitest"
)

// browser starts headless Chromium (Debian's, as .ci/run installs it).
func browser(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is not installed; .ci/run installs it")
		}
		t.Skip("chromium not installed (apt-get install chromium)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true), chromedp.WindowSize(1280, 900),
		chromedp.UserDataDir(t.TempDir()))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	// The first context starts the browser; tabs are opened from it.
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(bcancel)
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	return bctx
}

// tab opens a tab signed in as user (HTTP basic auth on every request it makes).
func tab(t *testing.T, actx context.Context, user, pass string) context.Context {
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	headers := chromedp.Action[chromedp.Void](func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		if _, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{}); err != nil {
			return chromedp.Void{}, err
		}
		_, err := cdp.Call(ctx, tg, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Authorization": auth}})
		return chromedp.Void{}, err
	})
	if err := chromedp.Do(ctx, headers); err != nil {
		t.Fatal(err)
	}
	return ctx
}

// pausedRequests hands on the ids of the tab's requests that the browser holds (those
// matching the patterns given to fetch.Enable), for the test to answer or let through.
func pausedRequests(t *testing.T, ctx context.Context) chan fetch.RequestID {
	t.Helper()
	paused := make(chan fetch.RequestID, 64)
	if err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*fetch.EventRequestPaused); ok {
			paused <- e.RequestID
		}
	}); err != nil {
		t.Fatal(err)
	}
	return paused
}

// waitText waits (up to a minute) for the element to show text containing want.
func waitText(t *testing.T, ctx context.Context, sel, want string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	js := fmt.Sprintf(`(() => { const e = document.querySelector(%q); return !!e && e.textContent.includes(%q); })()`, sel, want)
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		body, _ := chromedp.Run(context.WithoutCancel(ctx), chromedp.TextContent("body"))
		t.Fatalf("%s never showed %q: %v\npage:\n%s", sel, want, err, body)
	}
}

func shot(t *testing.T, ctx context.Context, dir, name string) {
	if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
		os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
	}
}

// signInUsers is the [web] keys of a site that asks to sign in: boss, the supervisor,
// and the agents named, agent N on PJSIP/agentN; each one's password is NAME-pass.
func signInUsers(agents ...string) string {
	hash := func(name string) string {
		h, _ := bcrypt.GenerateFromPassword([]byte(name+"-pass"), bcrypt.MinCost)
		return string(h)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "open = false\n[[web.user]]\nname = \"boss\"\npassword_bcrypt = %q\nrole = \"supervisor\"", hash("boss"))
	for i, a := range agents {
		fmt.Fprintf(&b, "\n[[web.user]]\nname = %q\npassword_bcrypt = %q\nrole = \"agent\"\nagent = \"PJSIP/agent%d\"", a, hash(a), i+1)
	}
	return b.String()
}

// integrationUser is a [[web.user]] of role integration, password NAME-pass.
func integrationUser(name string) string {
	h, _ := bcrypt.GenerateFromPassword([]byte(name+"-pass"), bcrypt.MinCost)
	return fmt.Sprintf("\n[[web.user]]\nname = %q\npassword_bcrypt = %q\nrole = \"integration\"", name, h)
}

// TestPagesInChromium drives the pages in a real browser while a call runs through idv:
// the dashboard counts change, the agent's pop shows the badge, ID and name, another
// agent sees nothing, the wrap-up is stored, a report downloads.
func TestPagesInChromium(t *testing.T) {
	actx := browser(t)
	testWeb = signInUsers("ann", "bob")
	defer func() { testWeb = "open = true" }()
	h := newHarness(t, "")
	base := "http://" + h.svc.WebAddr().String()
	shots := os.Getenv("IDV_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}

	boss, ann, bob := tab(t, actx, "boss", "boss-pass"), tab(t, actx, "ann", "ann-pass"), tab(t, actx, "bob", "bob-pass")
	for _, c := range []struct {
		ctx context.Context
		url string
	}{{boss, base + "/#/dashboard"}, {ann, base + "/"}, {bob, base + "/"}} {
		if err := chromedp.Do(c.ctx, chromedp.Navigate(c.url)); err != nil {
			t.Fatal(err)
		}
	}
	waitText(t, boss, "#in-ivr .n", "0")
	waitText(t, ann, "#idle", "Waiting for a call")
	waitText(t, bob, "#idle", "Waiting for a call")

	keypad := make(chan rune, 8)
	inQueue := make(chan map[string]string)
	release := make(chan struct{})
	result := make(chan *agitest.Result, 1)
	go func() {
		res, err := agitest.Caller{ANI: "+81312345678", Keypad: keypad, Language: "en",
			InQueue: func(_ string, vars map[string]string) { inQueue <- vars; <-release }}.Call(context.Background(), h.addr)
		if err != nil {
			t.Error(err)
		}
		result <- res
	}()
	// The caller is asked for the PIN: the dashboard shows one call verifying.
	waitText(t, boss, `[data-step="verify"] .n`, "1")
	waitText(t, boss, "#in-ivr .n", "1")
	shot(t, boss, shots, "dashboard-call-in-ivr")
	for _, k := range "1234#" {
		keypad <- k
	}
	vars := <-inQueue
	// Asterisk runs the queue member gosub on agent1's channel: AGI(agi://…/agent).
	if _, err := (agitest.Caller{Script: "agent", Channel: "PJSIP/agent1-00000007", Vars: vars}).Call(context.Background(), h.addr); err != nil {
		t.Fatal(err)
	}
	waitText(t, ann, "#pop-name", "佐藤 花子")
	waitText(t, ann, "#pop-id", "100234")
	waitText(t, ann, "#pop .badge", "Identified and verified")
	if status, _ := chromedp.Run(ann, chromedp.AttributeValue("#pop .badge", "data-status")); status.Value != "VERIFIED" {
		t.Errorf("badge status %q", status.Value)
	}
	waitText(t, boss, "#with-agents .n", "1")
	shot(t, ann, shots, "agent-pop")
	shot(t, boss, shots, "dashboard-call-with-agent")
	// Bob sees no pop, and cannot fetch the call either.
	bobPage, _ := chromedp.Run(bob, chromedp.TextContent("#main"))
	bobFetch, _ := chromedp.Run(bob, chromedp.Evaluate[string](fmt.Sprintf(`fetch('/api/interactions/%s').then(r => String(r.status))`,
		vars["IDV_INTERACTION"]), chromedp.EvalAwaitPromise))
	if strings.Contains(bobPage, "佐藤") || bobFetch != "404" {
		t.Errorf("agent2 sees agent1's call: page %q, fetch %s", bobPage, bobFetch)
	}
	shot(t, bob, shots, "other-agent")

	close(release) // the agent hangs up: the call leaves the queue, ann wraps up
	res := <-result
	if res.Var("IDV_STATUS") != "VERIFIED" {
		t.Errorf("call ended %v", res.Vars)
	}
	waitText(t, ann, "#wrap", "Wrap-up")
	shot(t, ann, shots, "agent-wrap-up")
	if err := chromedp.Do(ann, chromedp.SetValue(`#wrap select`, "follow-up"), chromedp.Click(`#wrap button`)); err != nil {
		t.Fatal(err)
	}
	waitText(t, ann, "#idle", "Waiting for a call")
	in, ierr := h.svc.Store.Interaction(context.Background(), vars["IDV_INTERACTION"])
	if ierr != nil || in.WrapUp != "follow-up" || in.Agent != "PJSIP/agent1" {
		t.Errorf("record agent %q wrap-up %q (%v)", in.Agent, in.WrapUp, ierr)
	}
	waitText(t, boss, `[data-tiles="today"] [data-k="verified"] .n`, "1")
	shot(t, boss, shots, "dashboard-after")

	// Japanese, then the reports page and a download.
	today := time.Now().Format("2006-01-02")
	if err := chromedp.Do(boss, chromedp.Navigate(base+"/#/reports"), chromedp.Click("#lang")); err != nil {
		t.Fatal(err)
	}
	waitText(t, boss, "#nav", "レポート")
	dl, err := chromedp.Run(boss, chromedp.Evaluate[string](fmt.Sprintf(`fetch('/api/reports/outcomes?from=%s&to=%s&format=csv').then(async r => r.status + ' ' + r.headers.get('content-type') + ' ' + (await r.text()).includes('default,1,1'))`, today, today),
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if dl != "200 text/csv; charset=utf-8 true" {
		t.Errorf("report download: %s", dl)
	}
	shot(t, boss, shots, "reports-ja")
	if err := chromedp.Do(boss, chromedp.Navigate(base+"/#/interaction/"+vars["IDV_INTERACTION"])); err != nil {
		t.Fatal(err)
	}
	waitText(t, boss, "#timeline", "番号で検索") // the CRM lookup by_phone, in Japanese
	shot(t, boss, shots, "interaction-detail-ja")
}

// TestPagesEscapeCRMValues: a customer name that is HTML reaches the agent's screen as
// text, not as markup.
func TestPagesEscapeCRMValues(t *testing.T) {
	actx := browser(t)
	evil := `<img id=pwn src=x onerror="document.title='pwned'">Eve`
	crm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"customers":[{"id":"666","name":` + jsonString(evil) + `,"verify_required":false}]}`))
	}))
	defer crm.Close()
	h := newHarness(t, crm.URL)
	ann := tab(t, actx, "x", "y") // the harness's web is open on loopback: everyone is a supervisor
	base := "http://" + h.svc.WebAddr().String()
	if err := chromedp.Do(ann, chromedp.Navigate(base+"/#/agent?agent=PJSIP/agent1")); err != nil {
		t.Fatal(err)
	}
	waitText(t, ann, "#idle", "Waiting for a call")
	inQueue := make(chan map[string]string)
	release := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		agitest.Caller{ANI: "+81312345678", InQueue: func(_ string, v map[string]string) { inQueue <- v; <-release }}.Call(context.Background(), h.addr)
	}()
	vars := <-inQueue
	agitest.Caller{Script: "agent", Channel: "PJSIP/agent1-0000000c", Vars: vars}.Call(context.Background(), h.addr)
	waitText(t, ann, "#pop-name", "Eve")
	name, _ := chromedp.Run(ann, chromedp.TextContent("#pop-name"))
	injected, _ := chromedp.Run(ann, chromedp.Evaluate[bool](`!!document.getElementById('pwn') || document.title === 'pwned'`))
	close(release)
	<-done
	// idv sanitises quotes for the channel variable; the page shows the rest as text.
	if injected || !strings.Contains(name, "<img id=pwn") {
		t.Errorf("pop name %q, markup injected %v", name, injected)
	}
}

// TestReportsPageInChromium: the reports page as a supervisor uses it. The date pickers
// (and the interactions page's) default to the browser's local date, not UTC's: the
// browser is put in a zone whose date differs from UTC's right now. In Japanese the
// reports and their CSV sections are titled in Japanese and download in Japanese; a
// relative period is read in report.timezone (Asia/Tokyo here) and sends no dates; a line
// that does not exist is refused on the page, naming it.
func TestReportsPageInChromium(t *testing.T) {
	actx := browser(t)
	h := newHarness(t, "", "[report]\ntimezone = \"Asia/Tokyo\"")
	h.call(agitest.Caller{ANI: "+81312345678", Keys: "1234#"})
	base := "http://" + h.svc.WebAddr().String()
	shots := os.Getenv("IDV_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	// UTC+14 is a day ahead of UTC from 10:00 UTC, UTC-11 a day behind until 11:00 UTC.
	zone := "Pacific/Kiritimati"
	if time.Now().UTC().Hour() < 10 {
		zone = "Pacific/Pago_Pago"
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	boss := tab(t, actx, "x", "y") // the harness's web is open on loopback
	tz := chromedp.Action[chromedp.Void](func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, tg, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: zone})
		return chromedp.Void{}, err
	})
	if err := chromedp.Do(boss, tz, chromedp.Navigate(base+"/#/reports")); err != nil {
		t.Fatal(err)
	}
	waitText(t, boss, "#reports", "ID&V outcomes")
	localDay, utcDay := time.Now().In(loc).Format("2006-01-02"), time.Now().UTC().Format("2006-01-02")
	for _, page := range []string{"reports", "interactions"} {
		if err := chromedp.Do(boss, chromedp.Navigate(base+"/#/"+page)); err != nil {
			t.Fatal(err)
		}
		waitText(t, boss, "#main form", "")
		from, _ := chromedp.Run(boss, chromedp.Value(`#main form input[name="from"]`))
		to, _ := chromedp.Run(boss, chromedp.Value(`#main form input[name="to"]`))
		if from != localDay || to != localDay {
			t.Errorf("%s page in %s: dates %s – %s, want the local day %s (UTC's is %s)", page, zone, from, to, localDay, utcDay)
		}
	}

	// In Japanese.
	if err := chromedp.Do(boss, chromedp.Navigate(base+"/#/reports"), chromedp.Click("#lang")); err != nil {
		t.Fatal(err)
	}
	waitText(t, boss, "#reports", "本人確認の結果")
	waitText(t, boss, "#reports", "時間帯別")
	fetchLink := func(sel string) string {
		t.Helper()
		got, err := chromedp.Run(boss, chromedp.Evaluate[string](fmt.Sprintf(`fetch(document.querySelector(%q).href).then(async r =>
			r.status + " " + r.headers.get("content-disposition") + "\n" + (await r.text()).split("\r\n")[0])`, sel), chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	today := time.Now().In(loc).Format("2006-01-02")
	got := fetchLink(`a.dl[data-report="outcomes"][data-section="by-line"]`)
	if want := "200 attachment; filename=outcomes-by-line_" + today + "_" + today + ".csv\n回線,通話数,本人確認済み,特定のみ,未特定,スキップ,エラー,本人確認率,うち途中切断"; got != want {
		t.Errorf("outcomes CSV by line:\n%s\nwant\n%s", got, want)
	}
	shot(t, boss, shots, "reports-ja")

	// Yesterday, in report.timezone: no dates are sent, and the file names Tokyo's day.
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	yesterday := time.Now().In(tokyo).AddDate(0, 0, -1).Format("2006-01-02")
	if _, err := chromedp.Run(boss, chromedp.Evaluate[bool](`(() => { const f = document.getElementById("rf"); f.range.value = "yesterday";
		f.dispatchEvent(new Event("input", { bubbles: true })); return true; })()`)); err != nil {
		t.Fatal(err)
	}
	href, _ := chromedp.Run(boss, chromedp.AttributeValue(`a.dl[data-report="outcomes"][data-format="pdf"]`, "href"))
	disabled, _ := chromedp.Run(boss, chromedp.Evaluate[bool](`document.querySelector('#rf input[name="from"]').disabled`))
	if !strings.Contains(href.Value, "range=yesterday") || strings.Contains(href.Value, "from=") || !strings.Contains(href.Value, "lang=ja") || !disabled {
		t.Errorf("with yesterday chosen the link is %q (dates disabled: %v)", href.Value, disabled)
	}
	if got := fetchLink(`a.dl[data-report="detail"]`); !strings.HasPrefix(got, "200 attachment; filename=detail_"+yesterday+"_"+yesterday+".pdf") {
		t.Errorf("detail for yesterday: %s, want Tokyo's yesterday, %s", got, yesterday)
	}

	// A line that does not exist: the page says so.
	if err := chromedp.Do(boss, chromedp.SendKeys(`#rf input[name="line"]`, "retial"), chromedp.Click(`a.dl[data-report="outcomes"][data-format="pdf"]`)); err != nil {
		t.Fatal(err)
	}
	waitText(t, boss, "#report-error", `line "retial" is not known`)
	shot(t, boss, shots, "reports-unknown-line")
}

// TestPagesFitAPhone: at a phone's width (390 px) every page of the supervisor's fits
// the screen, in both languages: the header wraps, a wide table scrolls inside its own
// box, and the language button stays on the screen (the page used to scroll sideways,
// hiding the tables' last columns and the button).
func TestPagesFitAPhone(t *testing.T) {
	actx := browser(t)
	h := newHarness(t, "")
	for _, c := range []agitest.Caller{{ANI: "+81312345678", Keys: "1234#"}, {ANI: "anonymous", Keys: "100235#"},
		{ANI: "+81312345678", Keys: "1111#2222#3333#"}} {
		h.call(c)
	}
	base := "http://" + h.svc.WebAddr().String()
	ctx := tab(t, actx, "", "")
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844), chromedp.Navigate(base+"/#/dashboard")); err != nil {
		t.Fatal(err)
	}
	for _, lang := range []string{"en", "ja"} {
		if lang == "ja" {
			if err := chromedp.Do(ctx, chromedp.Click("#lang")); err != nil {
				t.Fatal(err)
			}
		}
		// Each page with what shows it has drawn its content.
		for _, p := range []struct{ hash, drawn string }{{"dashboard", ".tile"}, {"interactions", "tr.click"},
			{"agents", "#main h1"}, {"reports", "#rf"}} {
			if err := chromedp.Do(ctx, chromedp.Navigate(base+"/#/"+p.hash), chromedp.WaitVisible(p.drawn)); err != nil {
				t.Fatalf("%s %s: %v", lang, p.hash, err)
			}
			fits := evalString(t, ctx, `(() => { const w = window.innerWidth, b = document.querySelector("#lang").getBoundingClientRect();
				return document.documentElement.scrollWidth <= w && b.right <= w ? "fits" : "page " + document.documentElement.scrollWidth + " px, language button to " + b.right + " px, screen " + w + " px"; })()`)
			if dir := os.Getenv("IDV_SCREENSHOTS"); dir != "" {
				shot(t, ctx, dir, "phone-"+p.hash+"-"+lang)
			}
			if fits != "fits" {
				wide := evalString(t, ctx, `[...document.querySelectorAll("#main *")].filter((e) => e.getBoundingClientRect().right > window.innerWidth).slice(0, 8).map((e) => e.tagName + "#" + e.id + "." + e.className + " " + Math.round(e.getBoundingClientRect().width)).join(", ")`)
				t.Errorf("%s %s at 390 px: %s (wider: %s)", lang, p.hash, fits, wide)
			}
		}
	}
}
