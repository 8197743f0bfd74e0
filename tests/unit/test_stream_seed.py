import pytest

from ntkutils.profiles import stream_seed


def test_stream_seeds_are_deterministic_and_distinct() -> None:
    assert stream_seed(0, 1, 2, 100) == stream_seed(0, 1, 2, 100)
    seeds = {stream_seed(s, e, r, n) for s in range(3) for e in range(3) for r in range(8) for n in (100, 1100)}
    assert len(seeds) == 3 * 3 * 8 * 2
    assert all(0 <= v < 2**63 for v in seeds)


def test_bad_keys_are_named() -> None:
    with pytest.raises(ValueError, match="keys"):
        stream_seed(-1)
    with pytest.raises(ValueError, match="keys"):
        stream_seed()
