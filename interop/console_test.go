package interop

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/calfed/calfed/internal/testenv"
)

// browser starts a headless Chromium (Debian's chromium) for the test,
// or ends the test through testenv when there is none.
func browser(t *testing.T) context.Context {
	t.Helper()
	path := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		testenv.Missing(t, testenv.Chromium, "no chromium on PATH", "apt-get install chromium, or run ./test.sh, which installs it")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.WindowSize(1400, 1000),
		chromedp.Flag("disable-gpu", true), chromedp.UserDataDir(t.TempDir()))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		testenv.Missing(t, testenv.Chromium, fmt.Sprintf("%s does not start: %v", path, err), "apt-get install chromium")
	}
	return ctx
}

// artefacts is where the browser tests keep their screenshots:
// $CALFED_ARTEFACTS/console, or a directory of their own that the test
// names in its log.
func artefacts(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("CALFED_ARTEFACTS")
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "calfed-artefacts-"); err != nil {
			t.Fatal(err)
		}
	}
	dir = filepath.Join(dir, "console")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots of the console in %s", dir)
	return dir
}

// The console in a real browser, on organisation A's admin listener: sign
// in with the keyboard, list the partners, run orgrel test from the
// partner's page (every step passes against B), disable B, confirmed, and
// see B's next request refused, then check our domain's readiness. A
// screenshot of each page is kept.
func TestConsoleInBrowser(t *testing.T) {
	ctx := browser(t)
	dir := artefacts(t)
	const token = "interop-console-token-0123456789abcdef"
	f, admin := newTwoOrgs(t, token)
	a, b := f.a, f.b
	// Both relationships in force on both servers before testing them.
	b.freebusy(t, "bob@b.example", "alice@a.example", func(x answer2) bool { return x.ResponseCode == "NoError" })
	a.freebusy(t, "alice@a.example", "bob@b.example", func(x answer2) bool { return x.ResponseCode == "NoError" })

	// do runs the steps; text reads an element's text; shot keeps a
	// screenshot of the whole page.
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second) // a bound on a broken page, not a timing
		defer cancel()
		if err := chromedp.Do(sctx, steps...); err != nil {
			dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			page, _ := chromedp.Run(dctx, chromedp.OuterHTML(chromedp.CSS("html")))
			t.Fatalf("%s: %v\n%s", what, err, page)
		}
	}
	text := func(sel chromedp.CSS) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Text(sel))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return v
	}
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100 makes a PNG
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
		}
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
	}

	// Sign in, by keyboard only.
	do("the login page", chromedp.Navigate(admin+"/console/"), chromedp.WaitVisible(chromedp.ID("name")))
	shot("1-login")
	do("sign in", chromedp.Focus(chromedp.ID("name")), chromedp.KeyEvent("Federation Engineer"), chromedp.KeyEvent(kb.Tab),
		chromedp.KeyEvent(token), chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.CSS("table caption")))
	shot("2-partners")
	location, _ := chromedp.Run(ctx, chromedp.Location())
	if got := text("main"); !strings.HasSuffix(location, "/console/") || !strings.Contains(got, "enabled") || !strings.Contains(got, "AvailabilityOnly") || !strings.Contains(got, "b.example") {
		t.Errorf("partners page at %s:\n%s", location, got)
	}

	// orgrel test from the partner's page.
	do("the partner's page", chromedp.Click(chromedp.CSS(`a[href="/console/partners/B"]`)), chromedp.WaitVisible(chromedp.ID("user")))
	shot("3-partner")
	do("orgrel test", chromedp.SendKeys(chromedp.ID("user"), "alice@a.example"), chromedp.SendKeys(chromedp.ID("partner_user"), "bob@b.example"),
		chromedp.Click(`//button[text()="Run orgrel test"]`), chromedp.WaitVisible(chromedp.ID("result")))
	shot("4-orgrel-test")
	if got := text("#result"); !strings.Contains(got, "orgrel test B: every step passed") || !strings.Contains(got, "free/busy query") || strings.Contains(got, "FAIL") {
		t.Errorf("orgrel test from the page:\n%s", got)
	}

	// Disable B, confirmed.
	do("disable", chromedp.Click(`//button[text()="Disable B…"]`), chromedp.WaitVisible(chromedp.ID("question")))
	shot("5-confirm")
	if got := text("#question"); !strings.Contains(got, "Disable B?") {
		t.Errorf("confirmation: %s", got)
	}
	do("confirm", chromedp.Click(`//button[text()="Yes, disable"]`), chromedp.WaitVisible(chromedp.CSS(".notice")))
	shot("6-disabled")
	if got := text("main"); !strings.Contains(got, "B disabled, audited under your name; applied by 1 of 1 servers") || !strings.Contains(got, "Enable B") || !strings.Contains(got, "Federation Engineer via console") || !strings.Contains(got, "orgrel.disable") {
		t.Errorf("after disabling:\n%s", got)
	}
	// B's next request is refused: A's Autodiscover no longer knows alice
	// for B, and A's EWS, asked directly, gives no free/busy access.
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := b.try("freebusy", "-as", "bob@b.example", "alice@a.example", "-start", "2026-03-24", "-o", "json")
		if err != nil && strings.Contains(err.Error(), "InvalidUser") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after disabling B in the console, B's request is still answered: %s %v", out, err)
		}
		time.Sleep(50 * time.Millisecond) // pacing the retries, not timing anything
	}
	b.cli(t, "orgrel", "set", "A", "-target-sharing-epr", a.base+"/EWS/Exchange.asmx")
	b.freebusy(t, "bob@b.example", "alice@a.example", func(x answer2) bool { return x.ResponseCode == "ErrorNoFreeBusyAccess" })

	// The partners list shows it disabled; our domain's readiness.
	do("the partners", chromedp.Click(`//a[text()="Partners"]`), chromedp.WaitVisible(chromedp.CSS("table caption")))
	shot("7-partners-disabled")
	if got := text("tbody"); !strings.Contains(got, "disabled") {
		t.Errorf("partners list after disabling:\n%s", got)
	}
	do("readiness", chromedp.Click(`//a[text()="Our domains"]`), chromedp.WaitVisible(chromedp.ID("url")),
		chromedp.SendKeys(chromedp.ID("url"), a.base+"/autodiscover/autodiscover.svc"),
		chromedp.Click(`//button[text()="Check readiness"]`), chromedp.WaitVisible(chromedp.CSS(".result")))
	shot("8-domains")
	if got := text(".result"); !strings.Contains(got, "doctor a.example: every step passed") {
		t.Errorf("readiness of a.example:\n%s", got)
	}
}
