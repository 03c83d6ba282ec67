#!/usr/bin/env python3
"""Write seed inputs for fuzz_hs_client and fuzz_hs_server.

Layout (see tests/fuzz/hs_fuzz_common.h): flags byte, 8 fragment-size
bytes, then the peer's stream: nonce (32) || y (256) || MAC (32) || extra.
The y values are genuine group 14 public values (2^x mod p via pow()) or
edge values; the MAC is garbage (the harness fixes it up when flag 4 is
set).  Usage: python3 tests/fuzz/gen_hs_seeds.py tests/fuzz/corpus
"""
import hashlib
import os
import sys

P = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05"
    "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB"
    "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718"
    "3995497CEA956AE515D2261898FA051015728E5A8AACAA68FFFFFFFFFFFFFFFF", 16)


def stream(y, extra=b""):
    nonce = hashlib.sha256(b"seed nonce").digest()
    mac = hashlib.sha256(b"seed mac").digest()
    return nonce + y.to_bytes(256, "big") + mac + extra


def main(outdir):
    x = int.from_bytes(hashlib.sha256(b"seed x").digest(), "big")
    genuine = pow(2, x, P)
    frags_whole = bytes([63] * 8)
    frags_mixed = bytes([0, 31, 5, 63, 1, 17, 40, 2])
    seeds = {
        "genuine_fixup": bytes([4]) + frags_whole + stream(genuine),
        "genuine_fixup_bytewise": bytes([4]) + bytes(8) + stream(genuine),
        "genuine_garbage_mac": bytes([0]) + frags_mixed + stream(genuine),
        "genuine_fixup_extra": bytes([4]) + frags_mixed
        + stream(genuine, b"\x17" * 1060),
        "nopfs_peer_fixup_g": bytes([6]) + frags_whole + stream(1),
        "nopfs_both_fixup": bytes([5]) + frags_mixed + stream(1),
        "y_is_p_fixup": bytes([4]) + frags_whole + stream(P),
        "y_pminus1_fixup": bytes([4]) + frags_mixed + stream(P - 1),
        "y_zero_fixup": bytes([4]) + frags_whole + stream(0),
        "truncated": bytes([4]) + frags_mixed + stream(genuine)[:300],
    }
    for target in ("fuzz_hs_client", "fuzz_hs_server"):
        d = os.path.join(outdir, target)
        os.makedirs(d, exist_ok=True)
        for name, data in seeds.items():
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/fuzz/corpus")
