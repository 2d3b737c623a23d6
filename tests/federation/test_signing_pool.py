"""SigningPool: signatures computed in a real child process, in batches, each delivered to its caller."""

from __future__ import annotations

import asyncio
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from federation.errors import (
    FederationError,
    SigningError,
    SigningFailedError,
    SigningPoolClosedError,
    SigningProcessError,
)
from federation.keys import PrivateKey, sign_bytes, signature_algorithm
from federation.signing_pool import SigningPool
from federation.signing_wire import results_frame
from tests.federation.loopback import rsa_key

RSA = rsa_key("signing-pool")
OTHER = rsa_key("signing-pool-other")


def _verify(key: rsa.RSAPrivateKey, signature: bytes, data: bytes) -> None:
    key.public_key().verify(signature, data, padding.PKCS1v15(), hashes.SHA256())


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"


async def _until_gone(pid: int, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        await asyncio.sleep(0.05)
    return False


def _fake_python(tmp_path: Path, script: str) -> str:
    """An executable that stands in for the interpreter: it ignores ``-m module`` and runs ``script``."""
    path = tmp_path / "fake-python"
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


@pytest.mark.anyio
async def test_signatures_verify_match_inline_signing_and_come_from_another_process() -> None:
    async with SigningPool() as pool:
        assert pool.pid is None  # nothing started before the first signature
        signature, algorithm = await pool.sign(RSA, b"(request-target): post /inbox")
        assert pool.pid is not None and pool.pid != os.getpid()
        pid = pool.pid
    assert algorithm == "rsa-sha256"
    assert (signature, algorithm) == sign_bytes(RSA, b"(request-target): post /inbox")
    _verify(RSA, signature, b"(request-target): post /inbox")
    assert await _until_gone(pid), "closing the pool stops its child"


@pytest.mark.anyio
async def test_ed25519_keys_announce_hs2019() -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    async with SigningPool() as pool:
        signature, algorithm = await pool.sign(key, b"data")
    assert algorithm == "hs2019"
    key.public_key().verify(signature, b"data")


@pytest.mark.anyio
async def test_many_at_once_with_several_keys_each_caller_gets_its_own_signature() -> None:
    keys: list[rsa.RSAPrivateKey] = [RSA, OTHER]
    messages = [f"message {index}".encode() for index in range(60)]
    async with SigningPool(batch=8) as pool:
        results = await asyncio.gather(
            *(pool.sign(keys[index % 2], message) for index, message in enumerate(messages))
        )
    for index, (message, (signature, _)) in enumerate(zip(messages, results, strict=True)):
        _verify(keys[index % 2], signature, message)


@pytest.mark.anyio
async def test_keys_beyond_the_limit_are_forgotten_and_sent_again_when_needed() -> None:
    keys = [RSA, OTHER, rsa_key("signing-pool-third")]
    async with SigningPool(keys=2, batch=2) as pool:
        for round_ in range(3):
            for key in (*keys, *reversed(keys)):
                data = f"{round_}".encode()
                signature, _ = await pool.sign(key, data)
                _verify(key, signature, data)
            both = await asyncio.gather(*(pool.sign(key, b"together") for key in keys))
            for key, (signature, _) in zip(keys, both, strict=True):
                _verify(key, signature, b"together")


@pytest.mark.anyio
async def test_a_key_type_that_cannot_sign_fails_its_caller_only_and_starts_nothing() -> None:
    curve = ec.generate_private_key(ec.SECP256R1())
    async with SigningPool() as pool:
        with pytest.raises(SigningFailedError, match="a ECPrivateKey cannot sign HTTP requests here"):
            await pool.sign(curve, b"data")  # type: ignore[arg-type]
        assert pool.pid is None
        signature, _ = await pool.sign(RSA, b"after")
    _verify(RSA, signature, b"after")
    with pytest.raises(SigningFailedError):
        signature_algorithm(curve)  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_a_cancelled_caller_does_not_disturb_the_others() -> None:
    async with SigningPool(batch=16) as pool:
        tasks = [asyncio.create_task(pool.sign(RSA, f"m{index}".encode())) for index in range(10)]
        await asyncio.sleep(0)
        tasks[3].cancel()
        done = await asyncio.gather(*tasks, return_exceptions=True)
        later, _ = await pool.sign(RSA, b"later")
    assert isinstance(done[3], asyncio.CancelledError)
    for index, result in enumerate(done):
        if index != 3:
            assert isinstance(result, tuple)
            _verify(RSA, result[0], f"m{index}".encode())
    _verify(RSA, later, b"later")


@pytest.mark.anyio
async def test_closing_finishes_the_signatures_asked_for_then_refuses_new_ones() -> None:
    pool = SigningPool(batch=4)
    await pool.sign(RSA, b"start")
    tasks = [asyncio.create_task(pool.sign(RSA, f"m{index}".encode())) for index in range(40)]
    await asyncio.sleep(0)
    await pool.aclose()
    results = await asyncio.gather(*tasks)
    for index, (signature, _) in enumerate(results):
        _verify(RSA, signature, f"m{index}".encode())
    with pytest.raises(SigningPoolClosedError, match="closed"):
        await pool.sign(RSA, b"late")
    await pool.aclose()  # closing twice is harmless
    assert issubclass(SigningPoolClosedError, SigningError)
    assert issubclass(SigningError, FederationError)


@pytest.mark.anyio
async def test_a_pool_closed_before_any_signature_starts_no_process() -> None:
    pool = SigningPool()
    await pool.aclose()
    assert pool.pid is None
    with pytest.raises(SigningPoolClosedError):
        await pool.sign(RSA, b"late")


@pytest.mark.anyio
async def test_a_killed_child_fails_what_it_owed_and_the_next_signature_starts_another() -> None:
    async with SigningPool(batch=1, restart_delay=0.3) as pool:
        await pool.sign(RSA, b"first")
        first = pool.pid
        assert first is not None
        owed = [asyncio.create_task(pool.sign(RSA, f"owed {index}".encode())) for index in range(200)]
        await asyncio.sleep(0)  # the frames leave: the child is busy with them
        os.kill(first, signal.SIGKILL)
        results = await asyncio.gather(*owed, return_exceptions=True)
        failures = [result for result in results if isinstance(result, BaseException)]
        assert failures, "a child killed while 200 signatures were owed left some unanswered"
        assert all(isinstance(failure, SigningProcessError) for failure in failures)
        assert "exit status -9" in str(failures[0])
        assert pool.pid is None
        with pytest.raises(SigningProcessError, match="a new one starts in"):
            await pool.sign(RSA, b"too soon")
        await asyncio.sleep(0.35)
        signature, _ = await pool.sign(RSA, b"again")
        assert pool.pid not in (None, first)
        assert pool.restarts == 1
    _verify(RSA, signature, b"again")


@pytest.mark.anyio
async def test_sigint_and_sigterm_to_the_process_group_leave_the_child_signing() -> None:
    async with SigningPool() as pool:
        await pool.sign(RSA, b"first")
        assert pool.pid is not None
        os.kill(pool.pid, signal.SIGINT)
        os.kill(pool.pid, signal.SIGTERM)
        await asyncio.sleep(0.2)
        signature, _ = await pool.sign(RSA, b"still here")
    _verify(RSA, signature, b"still here")


@pytest.mark.anyio
async def test_an_interpreter_that_cannot_start_fails_the_signature_clearly(tmp_path: Path) -> None:
    async with SigningPool(python=str(tmp_path / "no-such-python")) as pool:
        with pytest.raises(SigningProcessError, match="could not start"):
            await pool.sign(RSA, b"data")


@pytest.mark.anyio
async def test_a_child_that_exits_at_once_fails_the_signature_with_its_status(tmp_path: Path) -> None:
    fake = _fake_python(tmp_path, "echo 'broken install' >&2\nexit 3\n")
    async with SigningPool(python=fake, restart_delay=60) as pool:
        with pytest.raises(SigningProcessError, match="exit status 3"):
            await pool.sign(RSA, b"data")
        with pytest.raises(SigningProcessError, match="a new one starts in"):
            await pool.sign(RSA, b"data")  # no new process for every delivery while it is broken


@pytest.mark.anyio
async def test_a_child_answering_garbage_is_killed_and_its_callers_fail(tmp_path: Path) -> None:
    fake = _fake_python(tmp_path, "head -c 20 >/dev/null\nprintf 'Zgarbage-garbage'\nexec cat >/dev/null\n")
    async with SigningPool(python=fake) as pool:
        with pytest.raises(SigningProcessError, match=r"the child sent a b'Z' frame"):
            await pool.sign(RSA, b"data")


@pytest.mark.anyio
async def test_a_child_answering_a_batch_nobody_asked_for_is_killed(tmp_path: Path) -> None:
    answer = tmp_path / "answer"
    answer.write_bytes(results_frame(9, []))  # batch 9, no result
    fake = _fake_python(tmp_path, f"head -c 20 >/dev/null\ncat {answer}\nexec cat >/dev/null\n")
    async with SigningPool(python=fake) as pool:
        due = "answered batch 9 with 0 results; batch 0 of 1 was due"
        with pytest.raises(SigningProcessError, match=due):
            await pool.sign(RSA, b"data")


def test_the_child_exits_when_its_parent_dies(tmp_path: Path) -> None:
    parent = textwrap.dedent(
        """
        import asyncio, os
        from federation.signing_pool import SigningPool
        from tests.federation.loopback import rsa_key

        async def main():
            pool = SigningPool()
            await pool.sign(rsa_key("signing-pool"), b"data")
            print(pool.pid, flush=True)
            os._exit(0)  # no cleanup: the child only sees its stdin close

        asyncio.run(main())
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", parent], capture_output=True, text=True, timeout=60, check=True, cwd=Path.cwd()
    )
    child = int(done.stdout.strip())
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _alive(child):
        time.sleep(0.05)
    assert not _alive(child), "the signing process outlived its parent"


def test_a_pool_needs_a_batch_and_room_for_a_key() -> None:
    with pytest.raises(ValueError, match="at least one"):
        SigningPool(batch=0)
    with pytest.raises(ValueError, match="at least one"):
        SigningPool(keys=0)


def test_signature_algorithms() -> None:
    key: PrivateKey = ed25519.Ed25519PrivateKey.generate()
    assert signature_algorithm(key) == "hs2019"
    assert signature_algorithm(RSA) == "rsa-sha256"
