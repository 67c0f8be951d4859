"""An independent DKIM verifier for the tests: dkimpy checks every DKIM-Signature of a message.

    python3 dkim_verify.py MESSAGE_FILE NAME RECORD [NAME RECORD ...]

The DNS answers come from the arguments (NAME is `selector._domainkey.domain`, RECORD its TXT
value), not from the network. Prints one line per signature; exits 0 only when there is at least
one signature and every one verifies.
"""

import re
import sys

import dkim

message = open(sys.argv[1], "rb").read()
records = {}
args = sys.argv[2:]
for i in range(0, len(args), 2):
    records[args[i].lower().rstrip(".")] = args[i + 1].encode()


def lookup(name, timeout=5):
    if isinstance(name, bytes):
        name = name.decode()
    return records.get(name.lower().rstrip("."))


count = len(re.findall(rb"^DKIM-Signature:", message, re.IGNORECASE | re.MULTILINE))
if count == 0:
    print("no DKIM-Signature")
    sys.exit(1)
ok = True
verifier = dkim.DKIM(message)
for idx in range(count):
    good = verifier.verify(idx=idx, dnsfunc=lookup)
    algorithm = verifier.signature_fields.get(b"a", b"?").decode()
    selector = verifier.signature_fields.get(b"s", b"?").decode()
    print(f"{selector} {algorithm} {'pass' if good else 'fail'}")
    ok = ok and good
sys.exit(0 if ok else 1)
