from images.catalog import capacity


def test_item_size_counts_names_and_utf8_values():
    assert capacity.item_size({"pk": "é"}) == 2 + 2
    assert capacity.item_size({"n": 12345}) == 1 + 4


def test_get_rounds_each_item_and_query_rounds_once():
    small = {"pk": "x" * 98}  # 100 bytes
    assert capacity.get_item_rcu(small) == 0.5
    assert capacity.get_item_rcu(small, consistent=True) == 1
    assert capacity.batch_get_rcu([small] * 40) == 20
    assert capacity.query_rcu([small] * 40) == 0.5  # 4000 bytes < 4 KB
    assert capacity.query_rcu([small] * 41) == 1.0
