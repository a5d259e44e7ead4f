"""The shared exponential backoff."""

import pytest

from hub.helpers.backoff import Backoff


def test_doubles_up_to_the_maximum_and_resets() -> None:
    backoff = Backoff(initial=1.0, maximum=5.0, jitter=0.0)
    assert [backoff.delay() for _ in range(5)] == [1.0, 2.0, 4.0, 5.0, 5.0]
    backoff.reset()
    assert backoff.delay() == 1.0


def test_jitter_stays_within_its_fraction() -> None:
    backoff = Backoff(initial=10.0, maximum=10.0, jitter=0.1)
    delays = [backoff.delay() for _ in range(200)]
    assert all(9.0 <= d <= 11.0 for d in delays)
    assert len(set(delays)) > 1


def test_full_jitter_draws_below_the_ceiling() -> None:
    backoff = Backoff(initial=4.0, maximum=4.0, full_jitter=True)
    assert all(0.0 <= backoff.delay() <= 4.0 for _ in range(100))


@pytest.mark.parametrize("kwargs", [{"initial": -1}, {"initial": 5, "maximum": 1}, {"factor": 0.5}, {"jitter": 1.5}])
def test_bad_parameters_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Backoff(**kwargs)
