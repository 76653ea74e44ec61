#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""rp_web_browser.py - drives the bank site of "splitkey-rp serve" in headless
Chromium through chromedriver's W3C WebDriver HTTP API (urllib only), and
plays the person's device with splitkey-client:

  1. log in: type the person id, read the verification code the page shows,
     check the device lists a session with the same code, approve it with
     PIN1, and wait for the page's logged-in state;
  2. sign the contract: the page shows the code, the device approves with
     PIN2, the page says the contract is signed;
  3. a refusal: sign again, the device refuses, the page says so;
  4. the page's headers: a Content-Security-Policy, no inline script.

Environment: SITE (the site's URL), CLIENT (splitkey-client), DEV (the
device state), PIN1, PIN2 (PIN files), PERSON, CHROMEDRIVER, CHROMIUM,
WORK (a temporary directory), SHOT (optional: a PNG of the final page).
Waits poll the page with no time limit of their own (ctest's TIMEOUT
bounds the test).
"""
import base64
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

SITE = os.environ["SITE"]
CLIENT = os.environ["CLIENT"]
DEV = os.environ["DEV"]
PIN1 = os.environ["PIN1"]
PIN2 = os.environ["PIN2"]
PERSON = os.environ["PERSON"]
WORK = os.environ["WORK"]

failures = 0
checks = 0


def check(what, ok, detail=""):
    global failures, checks
    checks += 1
    if ok:
        print("ok: " + what)
    else:
        failures += 1
        print("FAIL: %s %s" % (what, detail), file=sys.stderr)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Driver:
    """The few W3C WebDriver commands the test needs."""

    def __init__(self, base):
        self.base = base
        self.sid = None

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req) as r:
                return json.loads(r.read().decode() or "{}").get("value")
        except urllib.error.HTTPError as e:
            raise RuntimeError("%s %s: %s" % (method, path, e.read().decode()[:500]))

    def start(self, chromium):
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--no-first-run",
                         "--user-data-dir=" + os.path.join(WORK, "chrome-profile"),
                         "--window-size=1000,900"],
            }}}}
        v = self.call("POST", "/session", caps)
        self.sid = v["sessionId"]

    def s(self, path, body=None, method=None):
        return self.call(method or ("GET" if body is None else "POST"),
                         "/session/%s%s" % (self.sid, path), body)

    def go(self, url):
        self.s("/url", {"url": url})

    def find(self, css):
        v = self.s("/element", {"using": "css selector", "value": css})
        return list(v.values())[0]

    def text(self, css):
        return self.s("/element/%s/text" % self.find(css))

    def js(self, script, *args):
        return self.s("/execute/sync", {"script": script, "args": list(args)})

    def type(self, css, value):
        self.s("/element/%s/value" % self.find(css), {"text": value})

    def click(self, css):
        self.s("/element/%s/click" % self.find(css), {})

    def wait(self, what, fn):
        """Polls fn() until it returns something true; returns it."""
        while True:
            v = fn()
            if v:
                return v
            time.sleep(0.1)

    def screenshot(self, path):
        with open(path, "wb") as f:
            f.write(base64.b64decode(self.s("/screenshot")))

    def quit(self):
        if self.sid:
            try:
                self.call("DELETE", "/session/" + self.sid)
            except Exception:
                pass


def device_session(code):
    """Waits until the device lists a waiting session with this code."""
    while True:
        out = subprocess.run([CLIENT, "sessions", "--state", DEV], capture_output=True,
                             text=True).stdout
        for line in out.splitlines():
            f = line.split()
            if len(f) >= 4 and f[3] == code:
                return f[0], line
        time.sleep(0.1)


def device(verb, sid, pin=None):
    cmd = [CLIENT, verb, sid, "--state", DEV] + (["--pin-file", pin] if pin else [])
    r = subprocess.run(cmd, capture_output=True, text=True)
    return r.returncode, r.stdout + r.stderr


def visible_code(d):
    """The verification code once the page shows it."""
    return d.wait("the code", lambda: d.js(
        "const b = document.getElementById('vc-box');"
        "return b.hidden ? '' : document.getElementById('vc').textContent;"))


def outcome(d):
    return d.wait("the outcome", lambda: d.js(
        "const o = document.getElementById('outcome');"
        "return o.textContent ? [o.className, o.textContent] : null;"))


def main():
    # the page's headers, straight from the site
    with urllib.request.urlopen(SITE) as r:
        csp = r.headers.get("Content-Security-Policy", "")
        html = r.read().decode()
    check("the page has a Content-Security-Policy", "default-src 'none'" in csp, csp)
    check("... which allows no inline script", "unsafe-inline" not in csp, csp)
    check("the page loads nothing from elsewhere",
          "http://" not in html and "https://" not in html)

    port = free_port()
    log = open(os.path.join(WORK, "chromedriver.log"), "w")
    cd = subprocess.Popen([os.environ["CHROMEDRIVER"], "--port=%d" % port],
                          stdout=log, stderr=subprocess.STDOUT)
    d = Driver("http://127.0.0.1:%d" % port)
    try:
        d.wait("chromedriver", lambda: _ready(d))
        d.start(os.environ["CHROMIUM"])
        d.go(SITE)
        check("the bank's page opens", "Splitkey Bank" in d.s("/title"))
        # (hidden until the login: WebDriver's element text would be empty)
        check("the contract is on the page", "Loan agreement" in d.wait(
            "contract", lambda: d.js("return document.getElementById('contract').textContent;")))
        check("the account is hidden before the login",
              d.js("return document.getElementById('account').hidden;") is True)

        # --- 1. log in
        d.type("#person", PERSON)
        d.click("#login")
        code = visible_code(d)
        check("the page shows a 4-digit verification code", len(code) == 4 and code.isdigit(),
              code)
        sid, line = device_session(code)
        check("the device lists the login with the same code", "auth" in line, line)
        rc, out = device("approve", sid, PIN1)
        check("the person approves the login with PIN1", rc == 0, out)
        cls, text = outcome(d)
        check("the page says the person is logged in", cls == "ok" and PERSON in text, text)
        check("the account is shown", PERSON in d.text("#welcome"))
        cookies = d.s("/cookie")
        bank = [c for c in cookies if c.get("name") == "sk_bank"]
        check("the login cookie is HttpOnly", bank and bank[0].get("httpOnly") is True,
              str(cookies))

        # --- 2. sign the contract
        d.click("#sign")
        code = visible_code(d)
        sid, line = device_session(code)
        check("the device lists the signature with the page's code", "sign" in line, line)
        rc, out = device("approve", sid, PIN2)
        check("the person signs with PIN2", rc == 0, out)
        cls, text = outcome(d)
        check("the page says the contract is signed",
              cls == "ok" and "Contract signed by " + PERSON in text, text)

        # --- 3. the person refuses
        d.wait("buttons enabled", lambda: d.js(
            "return !document.getElementById('sign').disabled;"))
        d.js("document.getElementById('outcome').textContent = '';")
        d.click("#sign")
        code = visible_code(d)
        sid, line = device_session(code)
        rc, out = device("refuse", sid)
        check("the person refuses on the device", rc == 0, out)
        cls, text = outcome(d)
        check("the page says the person refused", cls == "bad" and "refused" in text, text)

        # --- 4. a reload keeps the login (cookie), logout drops it
        d.go(SITE)
        check("a reload keeps the login", PERSON in d.wait(
            "welcome", lambda: d.js("return document.getElementById('welcome').textContent;")))
        if os.environ.get("SHOT"):
            d.screenshot(os.environ["SHOT"])
    finally:
        d.quit()
        cd.terminate()
        cd.wait()
        log.close()
    print("%d passed, %d failed" % (checks - failures, failures))
    return 1 if failures else 0


def _ready(d):
    try:
        return d.call("GET", "/status").get("ready")
    except Exception:
        return False


if __name__ == "__main__":
    sys.exit(main())
