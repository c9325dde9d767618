from stocklink.forecasting.abc import abc_classes


def test_boundaries_at_80_and_95():
    assert abc_classes([50, 30, 15, 5]).tolist() == ["A", "A", "B", "C"]


def test_input_order_does_not_matter():
    assert abc_classes([5, 15, 50, 30]).tolist() == ["C", "B", "A", "A"]


def test_one_dominant_sku_is_A():
    assert abc_classes([90, 10]).tolist() == ["A", "B"]


def test_zero_revenue_is_C():
    assert abc_classes([100, 0]).tolist() == ["A", "C"]
    assert abc_classes([0, 0]).tolist() == ["C", "C"]


def test_just_under_80_still_needs_the_next():
    assert abc_classes([79, 16, 5]).tolist() == ["A", "A", "C"]  # before: 0, 79 (<80), 95
