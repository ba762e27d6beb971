"""What every check uses: failing a check, waiting, JSON over HTTP, and the Spanish-only rule."""

import json
import re
import time
import urllib.error
import urllib.request

# English words no Spanish page contains: function words (nearly every English sentence has
# several, and none of them is also a Spanish word) plus the payment flow's own nouns, which
# an untranslated hint or error would carry. Matched case-blind as whole words of the visible
# text (letters only), so "Santander" is not "and", "Tienda" is not "the" and an institution id
# like cl_banco_nuevo splits into Spanish words. Tests/FintocSandboxTests/CheckoutPageTests.swift
# checks the same list over plain HTTP.
ENGLISH_WORDS = {
    "the", "an", "your", "you", "to", "and", "of", "with", "is", "are", "was", "this", "that", "page", "for", "from",
    "not", "please", "in", "on", "at", "by", "or", "it", "be", "can", "must", "has", "been", "already", "again",
    "payment", "bank", "account", "password", "phone", "test", "mode", "invalid", "unknown", "expired", "choose", "log",
}

class CheckFailed(Exception):
    pass


def expect(condition, message):
    if not condition:
        raise CheckFailed(message)


def wait_until(predicate, seconds, what):
    """Polls `predicate` until it answers something true; fails after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise CheckFailed(f"timed out after {seconds} s waiting for {what}")


def http_json(method, url, body=None, headers=None, timeout=15):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def expect_spanish(frame, what):
    """The page (or the widget's frame) is Spanish: lang="es" and no English word shown."""
    lang = frame.evaluate("document.documentElement.lang")
    text = frame.evaluate("document.title + '\\n' + document.body.innerText")
    words = {word.lower() for word in re.findall(r"[^\W\d_]+", text)}
    english = sorted(words & ENGLISH_WORDS)
    expect(lang == "es", f"{what}: lang is {lang!r}, expected 'es'")
    expect(not english, f"{what}: English words shown: {english}")
