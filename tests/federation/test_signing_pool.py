"""SigningPool: signatures off the event loop, in batches, each delivered to the caller that asked for it."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, cast

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519, padding

from federation.cavage import sign_bytes
from federation.errors import FederationError, SigningPoolClosedError
from federation.keys import PrivateKey
from federation.signing_pool import SigningPool
from tests.federation.loopback import rsa_key

RSA = rsa_key("signing-pool")


class RecordingKey:
    """An RSA key that notes the thread each signature is computed on, or fails on ``b"boom"``."""

    def __init__(self) -> None:
        self.threads: list[str] = []

    def sign(self, data: bytes, *args: Any) -> bytes:
        self.threads.append(threading.current_thread().name)
        if data == b"boom":
            raise ValueError("this key refuses to sign boom")
        return RSA.sign(data, padding.PKCS1v15(), hashes.SHA256())


@pytest.mark.anyio
async def test_signatures_verify_and_match_inline_signing() -> None:
    async with SigningPool() as pool:
        signature, algorithm = await pool.sign(RSA, b"(request-target): post /inbox")
    assert algorithm == "rsa-sha256"
    assert (signature, algorithm) == sign_bytes(RSA, b"(request-target): post /inbox")
    RSA.public_key().verify(signature, b"(request-target): post /inbox", padding.PKCS1v15(), hashes.SHA256())


@pytest.mark.anyio
async def test_ed25519_keys_announce_hs2019() -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    async with SigningPool(threads=1) as pool:
        signature, algorithm = await pool.sign(key, b"data")
    assert algorithm == "hs2019"
    key.public_key().verify(signature, b"data")


@pytest.mark.anyio
async def test_many_at_once_each_caller_gets_its_own_signature_computed_off_the_loop() -> None:
    messages = [f"message {index}".encode() for index in range(50)]
    async with SigningPool(threads=2, batch=8) as pool:
        results = await asyncio.gather(*(pool.sign(RSA, message) for message in messages))
    for message, (signature, _) in zip(messages, results, strict=True):
        RSA.public_key().verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    recorder = RecordingKey()
    async with SigningPool(threads=2, batch=4) as pool:
        await asyncio.gather(*(pool.sign(cast(PrivateKey, recorder), message) for message in messages[:12]))
    assert len(recorder.threads) == 12
    assert all(name.startswith("fedicoop-sign") for name in recorder.threads)
    assert threading.current_thread().name not in recorder.threads


@pytest.mark.anyio
async def test_a_failing_signature_fails_only_its_caller() -> None:
    key = cast(PrivateKey, RecordingKey())
    async with SigningPool(threads=1, batch=8) as pool:
        results = await asyncio.gather(
            pool.sign(key, b"one"), pool.sign(key, b"boom"), pool.sign(key, b"two"), return_exceptions=True
        )
    assert isinstance(results[1], ValueError)
    assert "boom" in str(results[1])
    for message, result in zip((b"one", b"two"), (results[0], results[2]), strict=True):
        assert isinstance(result, tuple)
        RSA.public_key().verify(result[0], message, padding.PKCS1v15(), hashes.SHA256())


@pytest.mark.anyio
async def test_a_cancelled_caller_does_not_disturb_the_others() -> None:
    async with SigningPool(threads=1, batch=16) as pool:
        tasks = [asyncio.create_task(pool.sign(RSA, f"m{index}".encode())) for index in range(10)]
        await asyncio.sleep(0)
        tasks[3].cancel()
        done = await asyncio.gather(*tasks, return_exceptions=True)
    assert isinstance(done[3], asyncio.CancelledError)
    assert all(isinstance(result, tuple) for index, result in enumerate(done) if index != 3)


@pytest.mark.anyio
async def test_a_closed_pool_refuses_new_signatures() -> None:
    pool = SigningPool(threads=1)
    pool.close()
    with pytest.raises(SigningPoolClosedError, match="closed"):
        await pool.sign(RSA, b"late")
    assert issubclass(SigningPoolClosedError, FederationError)


def test_a_pool_needs_a_thread_and_a_batch() -> None:
    with pytest.raises(ValueError, match="at least one"):
        SigningPool(threads=0)
    with pytest.raises(ValueError, match="at least one"):
        SigningPool(batch=0)
