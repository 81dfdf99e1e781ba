"""The short version of `make soak`: 30 s of steady concurrent load on a real `qa serve` over loopback, mixing
/v1/ask, /v1/chat and streamed /v1/chat. Every request must succeed and the server's memory must stay flat."""

from eval.soak import ALLOWED_GROWTH_MB, soak


def test_short_soak_has_no_errors_and_flat_memory():
    result = soak(seconds=30, concurrency=4)
    print(result.summary())
    assert result.errors == []
    assert {"ask", "chat", "chat stream"} <= set(result.latencies_ms)
    assert result.requests > 100
    assert result.memory()["growth_mb"] < ALLOWED_GROWTH_MB
