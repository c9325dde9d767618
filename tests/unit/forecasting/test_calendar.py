import datetime as dt

from stocklink.forecasting.calendar import PromoEvent, black_friday, cover_until, multipliers, standard_event


def test_black_friday():
    assert black_friday(2024) == dt.date(2024, 11, 29)
    assert black_friday(2025) == dt.date(2025, 11, 28)
    assert black_friday(2026) == dt.date(2026, 11, 27)


def test_multipliers_on_event_days_only():
    ev = standard_event("11.11", multiplier=2.0)
    m = multipliers(dt.date(2024, 11, 9), 5, [ev], ["a", "b"])
    assert m[:, 0].tolist() == [1, 1, 2, 1, 1]


def test_event_limited_to_some_skus_and_multi_day():
    ev = PromoEvent("sale", 3.0, start=dt.date(2024, 1, 2), duration_days=2, skus=frozenset({"b"}))
    m = multipliers(dt.date(2024, 1, 1), 4, [ev], ["a", "b"])
    assert m[:, 0].tolist() == [1, 1, 1, 1]
    assert m[:, 1].tolist() == [1, 3, 3, 1]


def test_cover_until_respects_lead_time():
    ev = standard_event("11.11", lead_days=30)
    assert cover_until(dt.date(2024, 10, 20), [ev], ["a"], 90).tolist() == [22]
    assert cover_until(dt.date(2024, 10, 1), [ev], ["a"], 90).tolist() == [0]
