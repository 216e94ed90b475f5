from entropy_dynamics.report.annotations import stagger_levels


def test_far_apart_labels_share_the_top_level():
    assert stagger_levels([10, 100, 200], min_gap=20) == [0, 0, 0]


def test_close_labels_step_down_and_come_back_up():
    # 10 and 15 collide, 18 collides with both, 60 is free again at the top
    assert stagger_levels([10, 15, 18, 60], min_gap=20) == [0, 1, 2, 0]


def test_more_collisions_than_levels_reuse_the_oldest_level():
    levels = stagger_levels([0, 1, 2, 3], min_gap=20, max_levels=3)
    assert levels == [0, 1, 2, 0]
