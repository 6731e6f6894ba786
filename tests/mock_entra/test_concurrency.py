"""One code redeemed from many threads (and processes' worth of connections) at once:
exactly one wins, the others get AADSTS54005."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from .conftest import get_code, new_flow, redeem


def test_one_code_redeemed_by_sixteen_threads_is_issued_exactly_once(interceptor, app):
    flow = new_flow()
    code = get_code(interceptor, flow)["code"]
    barrier = threading.Barrier(16)

    def attempt(_: int) -> tuple[int, list[int] | None]:
        client = app.test_client()
        barrier.wait()
        response = redeem(client, flow, code)
        return response.status_code, response.get_json().get("error_codes")

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(attempt, range(16)))
    assert sum(1 for status, _ in results if status == 200) == 1
    assert all(codes == [54005] for status, codes in results if status != 200)
