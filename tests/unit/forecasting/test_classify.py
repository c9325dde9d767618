import numpy as np

from stocklink.forecasting.classify import adi_cv2, classify, classify_series


def test_adi_exactly_132_is_intermittent():
    y = [1] * 25 + [0] * 8  # 33 days / 25 sales = 1.32
    adi, cv2 = adi_cv2(np.array(y, float))
    assert adi[0] == 1.32 and cv2[0] == 0
    assert classify_series(y) == "intermittent"


def test_adi_just_below_is_smooth():
    assert classify_series([1] * 25 + [0] * 7) == "smooth"  # 32/25 = 1.28


def test_cv2_exactly_049_is_erratic():
    y = [3, 17] * 10  # mean 10, population variance 49 → CV² = 0.49
    adi, cv2 = adi_cv2(np.array(y, float))
    assert cv2[0] == 0.49
    assert classify_series(y) == "erratic"


def test_cv2_just_below_is_smooth():
    assert classify_series([3.1, 16.9] * 10) == "smooth"  # 6.9²/100 = 0.4761


def test_lumpy_and_no_demand():
    assert classify_series(([3, 17] + [0] * 2) * 10) == "lumpy"  # ADI 2, CV² .49
    assert classify_series([0] * 10) == "no_demand"


def test_mask_limits_the_window():
    Y = np.array([[9, 1], [0, 1], [1, 1], [1, 1]], float)
    mask = np.array([[False, True]] + [[True, True]] * 3)
    adi, _ = adi_cv2(Y, mask)
    assert adi.tolist() == [1.5, 1.0]
    assert classify(adi, [0, 0]).tolist() == ["intermittent", "smooth"]
