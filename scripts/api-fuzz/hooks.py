"""Schemathesis hooks for Sealpost's admin API (loaded by scripts/api-fuzz/run).

`POST /api/admin/mail-flow/simulate` and `POST /api/admin/messages` take a raw message
(`message/rfc822`), which no generic tool can build from a JSON Schema: this teaches Schemathesis to
send real messages: headers and body drawn at random, the sender sometimes in the demo tenant's
own domain. (What the parser makes of arbitrary bytes is the MIME fuzz target's job:
fuzz/fuzz_targets.)
"""

import re

import schemathesis
from hypothesis import strategies as st

_header_text = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40
)
_local = st.from_regex(r"\A[a-z0-9+-]{1,8}(\.[a-z0-9+-]{1,8}){0,2}\Z")
_domain = st.sampled_from(["contoso.example", "fabrikam.example", "example.com"])
_address = st.builds(lambda l, d: f"{l}@{d}", _local, _domain)


@st.composite
def _message(draw):
    lines = [
        f"From: {draw(_address)}",
        f"To: {', '.join(draw(st.lists(_address, min_size=1, max_size=3)))}",
        f"Subject: {draw(_header_text)}",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
    ]
    body = draw(st.text(max_size=200)).replace("\r", "")
    text = "\r\n".join(lines) + "\r\n\r\n" + body.replace("\n", "\r\n") + "\r\n"
    return text.encode("utf-8")


schemathesis.openapi.media_type("message/rfc822", _message())


# The demo's tenant has three root keys (scripts/api-fuzz/run configures them). A policy naming
# two keys the document allows but the server lacks is refused (409 unknown_root_key), so without
# this the fuzzer would never make one: a valid pair of names becomes a pair of those keys (still
# valid, so positive and negative cases keep their meaning), and a replacement names them too.
_KEYS = ["fuzz-a", "fuzz-b", "fuzz-c"]
_KEY_NAME = re.compile(r"\A[A-Za-z0-9._-]{1,64}\Z")


def _key(name):
    return isinstance(name, str) and bool(_KEY_NAME.match(name)) and name != "local"


def _pick(seed, offset=0):
    return _KEYS[(sum(map(ord, seed)) + offset) % len(_KEYS)]


# Likewise a sender outside the tenant's domains is refused (409 sender_not_in_tenant): half the
# valid senders of messages and drafts move into the demo tenant's domain, so messages are sent
# (their notices go to the demo's development mailbox) and drafts are filled and sent.
# Only an address the document calls valid moves (an invalid one stays invalid, so a negative
# case keeps its meaning): `rules::EMAIL` and no two dots in a row.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_VALID = re.compile(
    rf"\A{_ATEXT}(?:[A-Za-z0-9!#$%&'*+/=?^_`{{|}}~.-]{{0,62}}{_ATEXT})?@(?:{_LABEL}\.)+{_LABEL}\Z"
)


def _in_tenant(address):
    if (
        isinstance(address, str)
        and len(address) <= 254
        and ".." not in address
        and _VALID.match(address)
        and sum(map(ord, address)) % 2
    ):
        return address.split("@")[0] + "@contoso.example"
    return address


@schemathesis.hook
def map_body(ctx, body):
    op = ctx.operation
    if op is None or not isinstance(body, dict):
        return body
    if "from" in body and ("/drafts" in op.path or op.path.endswith("/messages")):
        return {**body, "from": _in_tenant(body["from"])}
    if "data-encryption-policies" not in op.path:
        return body
    keys = body.get("root_keys")
    if (
        isinstance(keys, list)
        and len(keys) == 2
        and all(_key(k) for k in keys)
        and keys[0] != keys[1]
    ):
        body = {**body, "root_keys": [_pick(keys[0]), _pick(keys[0], 1)]}
    replace = body.get("replace")
    if isinstance(replace, dict) and _key(replace.get("old")) and _key(replace.get("new")):
        body = {**body, "replace": {**replace, "old": _pick(replace["old"]), "new": _pick(replace["new"], 1)}}
    return body
