"""core.memo.Memo: bounded, oldest out first, safe from several threads."""

from __future__ import annotations

import threading

from convenor.core.memo import Memo


def test_the_oldest_entry_goes_first_and_a_new_put_makes_an_entry_newest() -> None:
    memo: Memo[str, int] = Memo(2)
    memo.put("a", 1)
    memo.put("b", 2)
    memo.put("a", 3)  # "a" is now the newest
    memo.put("c", 4)
    assert "b" not in memo and memo.get("a") == 3 and memo.get("c") == 4
    assert list(memo) == ["a", "c"] and len(memo) == 2
    memo.clear()
    assert memo.get("a") is None and len(memo) == 0


def test_many_threads_filling_a_full_memo_never_fail_and_keep_it_bounded() -> None:
    memo: Memo[tuple[int, int], int] = Memo(16)
    errors: list[BaseException] = []

    def fill(t: int) -> None:
        try:
            for i in range(3_000):
                memo.put((t, i), i)
                memo.get((t, i - 1))
        except BaseException as exc:  # any failure in a thread fails the test
            errors.append(exc)

    threads = [threading.Thread(target=fill, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == [] and len(memo) == 16
