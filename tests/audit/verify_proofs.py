#!/usr/bin/env python3
"""Independent verifier for Cartório Digital audit-log proof bundles.

Written from RFC 9162 (Certificate Transparency Version 2.0) only, without
looking at the C++ implementation, so that the two can check each other:

  * 2.1.1    Merkle Tree Hash (leaf / node / empty-tree hashing)
  * 2.1.3.2  Verifying an inclusion proof
  * 2.1.4.2  Verifying consistency between two tree heads

Uses the Python standard library plus the `openssl` command-line tool (for
the ECDSA P-256 checkpoint signatures and the public key's DER encoding).

Usage:  verify_proofs.py BUNDLE.json

Exit status:
  0  every check passed      (stdout: "ok: N checks")
  1  at least one check failed (stdout: "FAILED: k of N checks"; stderr: one
     "FAIL <check>: <reason>" line per failed check)
  2  unusable input: unreadable / non-JSON file, missing or mistyped required
     fields, out-of-range checkpoint index, a public key openssl cannot read,
     a bundle with no checks at all, or no `openssl` binary.

Bundle format:
  {
    "public_key_pem": "-----BEGIN PUBLIC KEY-----...",
    "checkpoints": [ {"origin": str, "tree_size": int, "root_hash": hex64,
                      "timestamp": int, "key_id": hex, "signature": base64,
                      "body": str}, ... ],
    "inclusion":   [ {"checkpoint": int, "leaf_index": int, "tree_size": int,
                      "leaf_fields": [str, ...], "leaf_hash": hex64 (optional),
                      "path": [hex64, ...]}, ... ],          (optional)
    "consistency": [ {"first": int, "second": int,
                      "path": [hex64, ...]}, ... ]           (optional)
  }

Malformed *values* inside otherwise well-formed items (bad hex, wrong hash
length, bad base64, ...) are reported as failed checks, not as unusable input:
a verifier must say "this proof does not verify" for a corrupted proof.
"""

import base64
import binascii
import hashlib
import json
import os
import struct
import subprocess
import sys
import tempfile

HASH_SIZE = 32  # SHA-256 output length in bytes.


# ---------------------------------------------------------------------------
# RFC 9162 section 2.1.1: Merkle Tree Hash building blocks (SHA-256).
# ---------------------------------------------------------------------------

def empty_tree_hash():
    """MTH({}) = HASH(): the hash of an empty string (RFC 9162 2.1.1)."""
    return hashlib.sha256(b"").digest()


def leaf_hash(leaf_bytes):
    """MTH({d0}) = HASH(0x00 || d0) (RFC 9162 2.1.1)."""
    return hashlib.sha256(b"\x00" + leaf_bytes).digest()


def node_hash(left, right):
    """Interior node: HASH(0x01 || left || right) (RFC 9162 2.1.1)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def leaf_bytes_from_fields(fields):
    """Project-specific leaf encoding (not from the RFC).

    uint32-BE number of fields, then for each field: uint32-BE length of its
    UTF-8 encoding followed by those bytes.  Raises UnicodeEncodeError for
    strings that are not encodable (e.g. lone surrogates from JSON "\\ud800").
    """
    out = [struct.pack(">I", len(fields))]
    for field in fields:
        data = field.encode("utf-8")
        out.append(struct.pack(">I", len(data)))
        out.append(data)
    return b"".join(out)


# ---------------------------------------------------------------------------
# RFC 9162 section 2.1.3.2: verifying an inclusion proof.
# ---------------------------------------------------------------------------

def verify_inclusion(leaf_hash_value, leaf_index, tree_size, path, root_hash):
    """Return True iff `path` proves `leaf_hash_value` is leaf number
    `leaf_index` of the tree of size `tree_size` whose root is `root_hash`.

    Follows the numbered steps of RFC 9162 2.1.3.2.  All hashes are bytes.
    """
    if any(len(p) != HASH_SIZE for p in path):
        return False
    # Step 1: leaf_index must be < tree_size.
    if leaf_index < 0 or leaf_index >= tree_size:
        return False
    # Step 2: fn = leaf_index, sn = tree_size - 1.
    fn = leaf_index
    sn = tree_size - 1
    # Step 3: r = hash.
    r = leaf_hash_value
    # Step 4: for each value p in the inclusion_path array:
    for p in path:
        # 4a: if sn is 0, stop and fail.
        if sn == 0:
            return False
        # 4b: if LSB(fn) is set, or fn == sn:
        if (fn & 1) == 1 or fn == sn:
            # 4b.i: r = HASH(0x01 || p || r)
            r = node_hash(p, r)
            # 4b.ii: if LSB(fn) is not set, right-shift fn and sn equally
            # until either LSB(fn) is set or fn is 0.
            if (fn & 1) == 0:
                while (fn & 1) == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            # Otherwise: r = HASH(0x01 || r || p)
            r = node_hash(r, p)
        # 4c: finally, right-shift both fn and sn one time.
        fn >>= 1
        sn >>= 1
    # Step 5: sn must be 0 and r must equal root_hash.
    return sn == 0 and r == root_hash


# ---------------------------------------------------------------------------
# RFC 9162 section 2.1.4.2: verifying consistency between two tree heads.
# ---------------------------------------------------------------------------

def _is_power_of_two(x):
    return x > 0 and (x & (x - 1)) == 0


def verify_consistency(first, second, first_hash, second_hash, path):
    """Return True iff `path` proves the tree of size `first` with root
    `first_hash` is a prefix of the tree of size `second` with root
    `second_hash`.

    The RFC 2.1.4.2 algorithm covers 0 < first < second.  The edge cases are
    handled explicitly here: first == second requires an empty proof (per
    SUBPROOF(m, D[m], true) = {} in RFC 9162 2.1.4.1) and equal roots;
    first == 0 or first > second is rejected.
    """
    if any(len(c) != HASH_SIZE for c in path):
        return False
    if first <= 0 or first > second:
        return False
    if first == second:
        return len(path) == 0 and first_hash == second_hash

    # Step 1: if consistency_path is empty, fail.
    if len(path) == 0:
        return False
    path = list(path)
    # Step 2: if first is an exact power of 2, prepend first_hash.
    if _is_power_of_two(first):
        path.insert(0, first_hash)
    # Step 3: fn = first - 1, sn = second - 1.
    fn = first - 1
    sn = second - 1
    # Step 4: if LSB(fn) is set, right-shift fn and sn equally until LSB(fn)
    # is not set.
    while (fn & 1) == 1:
        fn >>= 1
        sn >>= 1
    # Step 5: fr and sr both start as the first value of consistency_path.
    fr = path[0]
    sr = path[0]
    # Step 6: for each subsequent value c in consistency_path:
    for c in path[1:]:
        # 6a: if sn is 0, stop and fail.
        if sn == 0:
            return False
        # 6b: if LSB(fn) is set, or fn == sn:
        if (fn & 1) == 1 or fn == sn:
            # 6b.i / 6b.ii
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            # 6b.iii: if LSB(fn) is not set, right-shift fn and sn equally
            # until either LSB(fn) is set or fn is 0.
            if (fn & 1) == 0:
                while (fn & 1) == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            # Otherwise: sr = HASH(0x01 || sr || c)
            sr = node_hash(sr, c)
        # 6c: finally, right-shift both fn and sn one time.
        fn >>= 1
        sn >>= 1
    # Step 7: fr == first_hash, sr == second_hash and sn == 0.
    return fr == first_hash and sr == second_hash and sn == 0


# ---------------------------------------------------------------------------
# Checkpoint (signed tree head) handling.
# ---------------------------------------------------------------------------

def checkpoint_body(origin, tree_size, root_hash_bytes, timestamp):
    """The exact signed text of a checkpoint:
    origin \\n tree_size \\n base64(root) \\n timestamp \\n
    """
    return "%s\n%d\n%s\n%d\n" % (
        origin, tree_size,
        base64.b64encode(root_hash_bytes).decode("ascii"), timestamp)


class BundleError(Exception):
    """The bundle cannot be used at all (exit status 2)."""


class CheckFailure(Exception):
    """A value inside an item is malformed: the check fails."""


def decode_hash(value, what):
    """Hex string -> 32 bytes, or CheckFailure."""
    if not isinstance(value, str):
        raise CheckFailure("%s is not a hex string" % what)
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raise CheckFailure("%s is not valid hex: %r" % (what, value))
    if len(raw) != HASH_SIZE:
        raise CheckFailure("%s is %d bytes, expected %d"
                           % (what, len(raw), HASH_SIZE))
    return raw


def decode_path(values, what):
    return [decode_hash(v, "%s[%d]" % (what, i)) for i, v in enumerate(values)]


class OpenSSL:
    """Thin wrapper around the `openssl` CLI, working in a private temp dir."""

    def __init__(self, workdir, public_key_pem):
        self.workdir = workdir
        self.pubkey_path = os.path.join(workdir, "pubkey.pem")
        with open(self.pubkey_path, "w", encoding="utf-8",
                  errors="replace") as f:
            f.write(public_key_pem)
        try:
            proc = subprocess.run(
                ["openssl", "pkey", "-pubin", "-in", self.pubkey_path,
                 "-outform", "DER"],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
        except FileNotFoundError:
            raise BundleError("the `openssl` command was not found")
        if proc.returncode != 0 or not proc.stdout:
            raise BundleError("public_key_pem is not a public key openssl "
                              "can read: %s"
                              % proc.stderr.decode(errors="replace").strip())
        self.spki_der = proc.stdout
        text = subprocess.run(
            ["openssl", "pkey", "-pubin", "-in", self.pubkey_path,
             "-noout", "-text"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
        self.key_text = text.stdout.decode(errors="replace")
        self._counter = 0

    def key_id(self):
        """Lowercase hex SHA-256 of the SubjectPublicKeyInfo DER."""
        return hashlib.sha256(self.spki_der).hexdigest()

    def is_p256(self):
        return ("prime256v1" in self.key_text
                or "NIST CURVE: P-256" in self.key_text)

    def verify(self, body_bytes, signature_der):
        """ECDSA/SHA-256 signature check via `openssl dgst -verify`."""
        self._counter += 1
        sig_path = os.path.join(self.workdir, "sig%d.der" % self._counter)
        body_path = os.path.join(self.workdir, "body%d.txt" % self._counter)
        with open(sig_path, "wb") as f:
            f.write(signature_der)
        with open(body_path, "wb") as f:
            f.write(body_bytes)
        proc = subprocess.run(
            ["openssl", "dgst", "-sha256", "-verify", self.pubkey_path,
             "-signature", sig_path, body_path],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
        return (proc.returncode == 0
                and b"Verified OK" in proc.stdout), proc


# ---------------------------------------------------------------------------
# Bundle structure validation (anything wrong here -> exit 2).
# ---------------------------------------------------------------------------

def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _require(obj, key, kind, where):
    if not isinstance(obj, dict) or key not in obj:
        raise BundleError("%s: missing field %r" % (where, key))
    value = obj[key]
    ok = {
        "str": lambda v: isinstance(v, str),
        "uint": lambda v: _is_int(v) and v >= 0,
        "list": lambda v: isinstance(v, list),
        "strlist": lambda v: isinstance(v, list)
        and all(isinstance(x, str) for x in v),
    }[kind](value)
    if not ok:
        raise BundleError("%s: field %r has the wrong type (want %s)"
                          % (where, key, kind))
    return value


def validate_bundle(bundle):
    if not isinstance(bundle, dict):
        raise BundleError("top level is not a JSON object")
    _require(bundle, "public_key_pem", "str", "bundle")
    checkpoints = _require(bundle, "checkpoints", "list", "bundle")
    inclusion = bundle.get("inclusion", [])
    consistency = bundle.get("consistency", [])
    if not isinstance(inclusion, list):
        raise BundleError("bundle: 'inclusion' is not a list")
    if not isinstance(consistency, list):
        raise BundleError("bundle: 'consistency' is not a list")

    for i, cp in enumerate(checkpoints):
        where = "checkpoints[%d]" % i
        if not isinstance(cp, dict):
            raise BundleError("%s is not an object" % where)
        _require(cp, "origin", "str", where)
        _require(cp, "tree_size", "uint", where)
        _require(cp, "root_hash", "str", where)
        _require(cp, "timestamp", "uint", where)
        _require(cp, "key_id", "str", where)
        _require(cp, "signature", "str", where)
        _require(cp, "body", "str", where)

    def cp_index(item, key, where):
        idx = _require(item, key, "uint", where)
        if idx >= len(checkpoints):
            raise BundleError("%s: %r = %d but there are only %d checkpoints"
                              % (where, key, idx, len(checkpoints)))
        return idx

    for i, item in enumerate(inclusion):
        where = "inclusion[%d]" % i
        if not isinstance(item, dict):
            raise BundleError("%s is not an object" % where)
        cp_index(item, "checkpoint", where)
        _require(item, "leaf_index", "uint", where)
        _require(item, "tree_size", "uint", where)
        _require(item, "leaf_fields", "strlist", where)
        _require(item, "path", "list", where)
        if "leaf_hash" in item and not isinstance(item["leaf_hash"], str):
            raise BundleError("%s: 'leaf_hash' is not a string" % where)

    for i, item in enumerate(consistency):
        where = "consistency[%d]" % i
        if not isinstance(item, dict):
            raise BundleError("%s is not an object" % where)
        cp_index(item, "first", where)
        cp_index(item, "second", where)
        _require(item, "path", "list", where)

    if not checkpoints and not inclusion and not consistency:
        raise BundleError("bundle contains nothing to check")
    return checkpoints, inclusion, consistency


# ---------------------------------------------------------------------------
# The checks.  Each returns None on success or a failure reason string.
# ---------------------------------------------------------------------------

def check_checkpoint_body(cp):
    origin = cp["origin"]
    if origin == "" or "\n" in origin:
        return "origin is empty or contains a newline (ambiguous body)"
    root = decode_hash(cp["root_hash"], "root_hash")
    rebuilt = checkpoint_body(origin, cp["tree_size"], root, cp["timestamp"])
    if cp["body"] != rebuilt:
        return "body field %r differs from rebuilt body %r" % (cp["body"],
                                                               rebuilt)
    # RFC 9162 2.1.1: the hash of an empty tree is HASH() of an empty string.
    if cp["tree_size"] == 0 and root != empty_tree_hash():
        return "tree_size is 0 but root_hash is not SHA-256 of empty string"
    return None


def check_checkpoint_key_id(cp, ossl):
    want = ossl.key_id()
    if cp["key_id"] != want:
        return "key_id %r != sha256(SPKI DER) %r" % (cp["key_id"], want)
    return None


def check_checkpoint_signature(cp, ossl):
    root = decode_hash(cp["root_hash"], "root_hash")
    if "\n" in cp["origin"]:
        return "origin contains a newline"
    # Verify over the body *we* rebuilt, never over the bundle's "body" text.
    body = checkpoint_body(cp["origin"], cp["tree_size"], root,
                           cp["timestamp"]).encode("utf-8")
    try:
        sig = base64.b64decode(cp["signature"], validate=True)
    except (binascii.Error, ValueError):
        return "signature is not valid base64"
    if not sig:
        return "signature is empty"
    ok, proc = ossl.verify(body, sig)
    if not ok:
        detail = (proc.stdout + proc.stderr).decode(errors="replace").strip()
        detail = detail.splitlines()[0] if detail else "no output"
        return "openssl dgst -verify rejected it (%s)" % detail
    return None


def check_inclusion(item, checkpoints):
    cp = checkpoints[item["checkpoint"]]
    reasons = []
    if item["tree_size"] != cp["tree_size"]:
        reasons.append("tree_size %d != checkpoint tree_size %d"
                       % (item["tree_size"], cp["tree_size"]))
    try:
        lh = leaf_hash(leaf_bytes_from_fields(item["leaf_fields"]))
    except UnicodeEncodeError:
        return "leaf_fields contain a string that is not valid UTF-8"
    if "leaf_hash" in item:
        given = decode_hash(item["leaf_hash"], "leaf_hash")
        if given != lh:
            reasons.append("leaf_hash %s != recomputed %s"
                           % (item["leaf_hash"], lh.hex()))
    root = decode_hash(cp["root_hash"], "checkpoint root_hash")
    path = decode_path(item["path"], "path")
    # The signed checkpoint's tree_size is authoritative.
    if not verify_inclusion(lh, item["leaf_index"], cp["tree_size"], path,
                            root):
        reasons.append("RFC 9162 2.1.3.2 inclusion proof does not verify "
                       "(leaf_index %d, tree_size %d, %d path hashes)"
                       % (item["leaf_index"], cp["tree_size"], len(path)))
    return "; ".join(reasons) or None


def check_consistency(item, checkpoints):
    a = checkpoints[item["first"]]
    b = checkpoints[item["second"]]
    first, second = a["tree_size"], b["tree_size"]
    reasons = []
    if a["origin"] != b["origin"]:
        reasons.append("checkpoints are from different origins (%r, %r)"
                       % (a["origin"], b["origin"]))
    if first == 0:
        reasons.append("first tree_size is 0")
    elif first > second:
        reasons.append("first tree_size %d > second tree_size %d"
                       % (first, second))
    first_hash = decode_hash(a["root_hash"], "first root_hash")
    second_hash = decode_hash(b["root_hash"], "second root_hash")
    path = decode_path(item["path"], "path")
    if not reasons and not verify_consistency(first, second, first_hash,
                                              second_hash, path):
        if first == second:
            reasons.append("same tree_size %d needs an empty proof and equal "
                           "roots (proof has %d hashes, roots %s)"
                           % (first, len(path),
                              "equal" if first_hash == second_hash
                              else "differ"))
        else:
            reasons.append("RFC 9162 2.1.4.2 consistency proof %d -> %d does "
                           "not verify (%d path hashes)"
                           % (first, second, len(path)))
    return "; ".join(reasons) or None


def run_checks(bundle, workdir):
    """Run every check; return a list of (name, reason-or-None)."""
    checkpoints, inclusion, consistency = validate_bundle(bundle)
    ossl = OpenSSL(workdir, bundle["public_key_pem"])
    checks = []

    def record(name, fn, *args):
        try:
            reason = fn(*args)
        except CheckFailure as e:
            reason = str(e)
        except UnicodeEncodeError:
            # e.g. a lone surrogate ("\ud800") in a JSON string.
            reason = "a text field is not encodable as UTF-8"
        checks.append((name, reason))

    record("public_key", lambda: None if ossl.is_p256()
           else "public key is not an EC P-256 (prime256v1) key")
    for i, cp in enumerate(checkpoints):
        record("checkpoints[%d].body" % i, check_checkpoint_body, cp)
        record("checkpoints[%d].key_id" % i, check_checkpoint_key_id, cp, ossl)
        record("checkpoints[%d].signature" % i, check_checkpoint_signature,
               cp, ossl)
    for i, item in enumerate(inclusion):
        record("inclusion[%d] (checkpoint %d, leaf %d)"
               % (i, item["checkpoint"], item["leaf_index"]),
               check_inclusion, item, checkpoints)
    for i, item in enumerate(consistency):
        record("consistency[%d] (checkpoints %d -> %d)"
               % (i, item["first"], item["second"]),
               check_consistency, item, checkpoints)
    return checks


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1 or argv[0] in ("-h", "--help"):
        sys.stderr.write("usage: verify_proofs.py BUNDLE.json\n")
        return 2
    try:
        with open(argv[0], "r", encoding="utf-8") as f:
            bundle = json.load(f)
    except (OSError, UnicodeDecodeError, ValueError) as e:
        sys.stderr.write("error: cannot read bundle %s: %s\n" % (argv[0], e))
        return 2
    try:
        with tempfile.TemporaryDirectory(prefix="verify_proofs.") as workdir:
            checks = run_checks(bundle, workdir)
    except BundleError as e:
        sys.stderr.write("error: unusable bundle: %s\n" % e)
        return 2

    failed = [(name, reason) for name, reason in checks if reason is not None]
    for name, reason in failed:
        sys.stderr.write("FAIL %s: %s\n" % (name, reason))
    if failed:
        print("FAILED: %d of %d checks" % (len(failed), len(checks)))
        return 1
    print("ok: %d checks" % len(checks))
    return 0


if __name__ == "__main__":
    sys.exit(main())
