"""When a SKU's demand history starts (issue 20): available = stocked and listed; never after a sale."""
import datetime as dt

from stocklink.logic.forecasting_service import history_start


def _ms(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.timezone.utc).timestamp() * 1000)


STOCKED, LISTED, SOLD = dt.date(2026, 1, 5), dt.date(2026, 3, 2), dt.date(2026, 4, 1)


def test_the_later_of_stocked_and_listed_before_any_sale():
    sold = [(SOLD, 2.0, False)]
    assert history_start({}, _ms(STOCKED), sold, _ms(LISTED)) == LISTED    # on the shelf, not yet for sale
    assert history_start({}, _ms(LISTED), sold, _ms(STOCKED)) == LISTED    # listed with nothing to sell
    assert history_start({}, _ms(STOCKED), sold, None) == STOCKED          # listing creation unknown
    assert history_start({}, None, sold, _ms(LISTED)) == LISTED


def test_a_sale_before_either_record_starts_it():
    early = dt.date(2025, 12, 1)     # e.g. sales imported from before the first receipt in StockLink
    assert history_start({}, _ms(STOCKED), [(early, 1.0, False)], _ms(LISTED)) == early


def test_an_explicit_launch_date_replaces_the_records_but_not_an_earlier_sale():
    item = {"launch_date": "2026-02-01"}
    assert history_start(item, _ms(STOCKED), [(SOLD, 2.0, False)], _ms(LISTED)) == dt.date(2026, 2, 1)
    assert history_start(item, _ms(STOCKED), [(dt.date(2026, 1, 20), 2.0, False)], _ms(LISTED)) == \
        dt.date(2026, 1, 20)
    assert history_start({"launch_date": "not a date"}, _ms(STOCKED), [], None) == STOCKED


def test_nothing_known():
    assert history_start(None, None, [], None) is None


def test_a_start_before_every_row_of_the_batch_extends_the_history_back_to_it():
    from stocklink.forecasting import engine

    last = dt.date(2026, 6, 1)
    rows = [("NEW", last - dt.timedelta(days=20 - t), 3.0) for t in range(21)]    # sells daily for 21 days
    hist = engine.History.from_rows(rows, as_of=last, first_seen={"NEW": last - dt.timedelta(days=27)})
    assert hist.Y.shape == (28, 1) and hist.lo.tolist() == [0]                  # a page of this SKU alone
    assert engine.run(hist, {})[0].adi == round(28 / 21, 4)
