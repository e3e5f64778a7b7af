"""Self-test of verify_proofs.py's Merkle proof algorithms (no openssl).

Run from this directory with:  python3 -m unittest

The proofs are produced by a deliberately naive, recursive implementation of
the RFC 9162 definitions (MTH 2.1.1, PATH 2.1.3.1, PROOF/SUBPROOF 2.1.4.1)
and checked with the verifier's RFC 9162 2.1.3.2 / 2.1.4.2 algorithms.  The
RFC 6962 reference vectors used by the certificate-transparency / Trillian /
transparency-dev Go test suites pin the hashing to the ecosystem.
"""

import hashlib
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import verify_proofs as vp  # noqa: E402

MAX_SIZE = 40


# ---------------------------------------------------------------------------
# Naive reference definitions, straight from RFC 9162.
# ---------------------------------------------------------------------------

def largest_pow2_below(n):
    """k: the largest power of two smaller than n (n > 1), RFC 9162 2.1.1."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(d):
    """Merkle Tree Hash, RFC 9162 2.1.1 (d: list of leaf byte strings)."""
    n = len(d)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + d[0]).digest()
    k = largest_pow2_below(n)
    return hashlib.sha256(b"\x01" + mth(d[:k]) + mth(d[k:])).digest()


def path(m, d):
    """Merkle audit path PATH(m, D[n]), RFC 9162 2.1.3.1."""
    n = len(d)
    if n == 1:
        return []
    k = largest_pow2_below(n)
    if m < k:
        return path(m, d[:k]) + [mth(d[k:])]
    return path(m - k, d[k:]) + [mth(d[:k])]


def subproof(m, d, b):
    """SUBPROOF(m, D[n], b), RFC 9162 2.1.4.1."""
    n = len(d)
    if m == n:
        return [] if b else [mth(d)]
    k = largest_pow2_below(n)
    if m <= k:
        return subproof(m, d[:k], b) + [mth(d[k:])]
    return subproof(m - k, d[k:], False) + [mth(d[:k])]


def proof(m, d):
    """Consistency proof PROOF(m, D[n]) = SUBPROOF(m, D[n], true)."""
    return subproof(m, d, True)


def flip(h, i=0):
    """Copy of hash h with byte i altered."""
    b = bytearray(h)
    b[i] ^= 0x01
    return bytes(b)


def leaves(n):
    return [b"leaf-%d" % i for i in range(n)]


# RFC 6962 reference vectors (certificate-transparency C++/Go, Trillian,
# transparency-dev/merkle proof/verify_test.go).
REF_LEAVES = [bytes.fromhex(h) for h in (
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
    "606162636465666768696a6b6c6d6e6f")]
REF_ROOTS = [bytes.fromhex(h) for h in (
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")]
# (0-based leaf index, tree size, audit path)
REF_INCLUSION = [
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]
# (first, second, consistency path)
REF_CONSISTENCY = [
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (6, 7, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
]


class HashingTest(unittest.TestCase):
    """RFC 9162 2.1.1 hashing, and the project leaf encoding."""

    def test_empty_tree(self):
        self.assertEqual(vp.empty_tree_hash().hex(),
                         "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")

    def test_reference_roots(self):
        for n in range(1, 9):
            self.assertEqual(mth(REF_LEAVES[:n]), REF_ROOTS[n - 1], n)
        # The known root of all eight reference leaves.
        self.assertEqual(mth(REF_LEAVES).hex(),
                         "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")

    def test_verifier_hash_primitives_match_naive_mth(self):
        self.assertEqual(vp.leaf_hash(b"x"), mth([b"x"]))
        self.assertEqual(vp.node_hash(mth([b"a"]), mth([b"b"])),
                         mth([b"a", b"b"]))

    def test_leaf_encoding(self):
        self.assertEqual(vp.leaf_bytes_from_fields([]), b"\x00\x00\x00\x00")
        self.assertEqual(
            vp.leaf_bytes_from_fields(["ab", "", "é"]),
            b"\x00\x00\x00\x03"
            b"\x00\x00\x00\x02ab"
            b"\x00\x00\x00\x00"
            b"\x00\x00\x00\x02\xc3\xa9")
        # Field boundaries matter: ["ab","c"] and ["a","bc"] differ.
        self.assertNotEqual(vp.leaf_bytes_from_fields(["ab", "c"]),
                            vp.leaf_bytes_from_fields(["a", "bc"]))

    def test_checkpoint_body(self):
        root = bytes(range(32))
        self.assertEqual(
            vp.checkpoint_body("log.example", 7, root, 1700000000123),
            "log.example\n7\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
            "1700000000123\n")


class ReferenceVectorTest(unittest.TestCase):
    """Published RFC 6962 proofs must match the naive PATH/PROOF and verify."""

    def test_reference_inclusion(self):
        for index, size, hexes in REF_INCLUSION:
            p = [bytes.fromhex(h) for h in hexes]
            self.assertEqual(path(index, REF_LEAVES[:size]), p)
            self.assertTrue(vp.verify_inclusion(
                vp.leaf_hash(REF_LEAVES[index]), index, size, p,
                REF_ROOTS[size - 1]), (index, size))

    def test_reference_consistency(self):
        for first, second, hexes in REF_CONSISTENCY:
            p = [bytes.fromhex(h) for h in hexes]
            self.assertEqual(proof(first, REF_LEAVES[:second]), p)
            self.assertTrue(vp.verify_consistency(
                first, second, REF_ROOTS[first - 1], REF_ROOTS[second - 1],
                p), (first, second))


class InclusionTest(unittest.TestCase):
    """RFC 9162 2.1.3.2 against PATH for every leaf of trees 1..MAX_SIZE."""

    @classmethod
    def setUpClass(cls):
        cls.d = leaves(MAX_SIZE + 1)
        cls.roots = [mth(cls.d[:n]) for n in range(MAX_SIZE + 2)]

    def test_all_proofs_verify(self):
        for n in range(1, MAX_SIZE + 1):
            for m in range(n):
                p = path(m, self.d[:n])
                self.assertTrue(vp.verify_inclusion(
                    vp.leaf_hash(self.d[m]), m, n, p, self.roots[n]), (m, n))

    def test_corruptions_fail(self):
        for n in range(1, MAX_SIZE + 1):
            root = self.roots[n]
            for m in range(n):
                lh = vp.leaf_hash(self.d[m])
                p = path(m, self.d[:n])
                ok = lambda lh_, m_, n_, p_, r_: vp.verify_inclusion(
                    lh_, m_, n_, p_, r_)
                # Flip a byte in each proof hash (first and last byte).
                for i in range(len(p)):
                    for byte in (0, 31):
                        bad = list(p)
                        bad[i] = flip(p[i], byte)
                        self.assertFalse(ok(lh, m, n, bad, root),
                                         ("flip", m, n, i, byte))
                # Every other leaf index (and out-of-range ones) fails.
                for wrong in list(range(n)) + [n, n + 1, -1]:
                    if wrong != m:
                        self.assertFalse(ok(lh, wrong, n, p, root),
                                         ("index", m, n, wrong))
                # Wrong size, checked against that size's real root.
                for wn in range(1, MAX_SIZE + 2):
                    if wn != n:
                        self.assertFalse(ok(lh, m, wn, p, self.roots[wn]),
                                         ("size", m, n, wn))
                # Wrong size against the original root: double / half always
                # change the path shape (size +-1 may legitimately not).
                for wn in (0, n * 2, n // 2):
                    if wn != n:
                        self.assertFalse(ok(lh, m, wn, p, root),
                                         ("size/root", m, n, wn))
                # Wrong leaf, wrong root, truncated / extended proofs.
                self.assertFalse(ok(vp.leaf_hash(b"other"), m, n, p, root))
                self.assertFalse(ok(lh, m, n, p, flip(root)))
                if p:
                    self.assertFalse(ok(lh, m, n, p[:-1], root))
                    self.assertFalse(ok(lh, m, n, p[1:], root))
                self.assertFalse(ok(lh, m, n, p + [root], root))
                self.assertFalse(ok(lh, m, n, [root] + p, root))
                # A malformed (short) hash is rejected.
                if p:
                    self.assertFalse(ok(lh, m, n, [p[0][:31]] + p[1:], root))

    def test_empty_tree_has_no_inclusion(self):
        self.assertFalse(vp.verify_inclusion(vp.leaf_hash(b""), 0, 0, [],
                                             vp.empty_tree_hash()))


class ConsistencyTest(unittest.TestCase):
    """RFC 9162 2.1.4.2 against PROOF for all 0 < m <= n <= MAX_SIZE."""

    @classmethod
    def setUpClass(cls):
        cls.d = leaves(MAX_SIZE + 1)
        cls.roots = [mth(cls.d[:n]) for n in range(MAX_SIZE + 2)]

    def test_all_proofs_verify(self):
        for n in range(1, MAX_SIZE + 1):
            for m in range(1, n + 1):
                p = proof(m, self.d[:n])
                if m == n:
                    self.assertEqual(p, [])
                self.assertTrue(vp.verify_consistency(
                    m, n, self.roots[m], self.roots[n], p), (m, n))

    def test_corruptions_fail(self):
        r = self.roots
        ok = vp.verify_consistency
        for n in range(1, MAX_SIZE + 1):
            for m in range(1, n + 1):
                p = proof(m, self.d[:n])
                # Flip a byte in each proof hash.
                for i in range(len(p)):
                    for byte in (0, 31):
                        bad = list(p)
                        bad[i] = flip(p[i], byte)
                        self.assertFalse(ok(m, n, r[m], r[n], bad),
                                         ("flip", m, n, i, byte))
                # Wrong first size (with that size's real root).
                for wm in range(0, MAX_SIZE + 2):
                    if wm != m:
                        self.assertFalse(ok(wm, n, r[wm], r[n], p),
                                         ("first", m, n, wm))
                # Wrong second size (with that size's real root).
                for wn in range(1, MAX_SIZE + 2):
                    if wn != n:
                        self.assertFalse(ok(m, wn, r[m], r[wn], p),
                                         ("second", m, n, wn))
                # Wrong sizes with the original roots.
                for wm in (m - 1, m + 1, m ^ 2):
                    if wm != m:
                        self.assertFalse(ok(wm, n, r[m], r[n], p),
                                         ("first/root", m, n, wm))
                for wn in (n * 2, n // 2):
                    if wn != n:
                        self.assertFalse(ok(m, wn, r[m], r[n], p),
                                         ("second/root", m, n, wn))
                # Wrong / swapped roots.
                self.assertFalse(ok(m, n, flip(r[m]), r[n], p))
                self.assertFalse(ok(m, n, r[m], flip(r[n]), p))
                if m != n:
                    self.assertFalse(ok(m, n, r[n], r[m], p))
                    # Empty proof for m < n (RFC 9162 2.1.4.2 step 1).
                    self.assertFalse(ok(m, n, r[m], r[n], []))
                    self.assertFalse(ok(m, n, r[m], r[n], p[:-1]))
                    self.assertFalse(ok(m, n, r[m], r[n], [p[0]] + p))
                # Extra hashes at either end.
                self.assertFalse(ok(m, n, r[m], r[n], p + [r[m]]))
                self.assertFalse(ok(m, n, r[m], r[n], p + [r[n]]))
                self.assertFalse(ok(m, n, r[m], r[n], [r[m]] + p))
                self.assertFalse(ok(m, n, r[m], r[n], [r[n]] + p))
                # Reversed direction (time travel) fails.
                if m != n:
                    self.assertFalse(ok(n, m, r[n], r[m], p))

    def test_edge_cases(self):
        r = self.roots
        ok = vp.verify_consistency
        # first == 0 is not a valid input here.
        self.assertFalse(ok(0, 0, r[0], r[0], []))
        self.assertFalse(ok(0, 5, r[0], r[5], []))
        # first == second: empty proof and equal roots.
        self.assertTrue(ok(5, 5, r[5], r[5], []))
        self.assertFalse(ok(5, 5, r[5], r[4], []))
        self.assertFalse(ok(5, 5, r[5], r[5], [r[5]]))


if __name__ == "__main__":
    unittest.main()
