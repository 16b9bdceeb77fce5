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


# A posting as the catalog writes it: 4 + 11 + 8 + 58 + 8 + 32 = 121 bytes (names plus values).
KEY = "2024-01-01T00:00:00+00:00#" + "a" * 32


def posting(i: int, term: str = "title:river"):
    from images.records import ImageTerm

    return ImageTerm(term, KEY[:-4] + f"{i:04d}", image_id="b" * 32)


def test_a_posting_is_sized_by_the_documented_formula():
    item = posting(1).serialize()
    assert capacity.wire_item_size(item) == 121
    nested = {"n": {"N": "12345"}, "l": {"L": [{"S": "ab"}, {"NULL": True}]}}
    # Names, a number (5 digits: 3 bytes + 1), a list (3 bytes, each element + 1).
    assert capacity.wire_item_size(nested) == 1 + 4 + 1 + 3 + (2 + 1) + (1 + 1)


def test_the_meter_bills_get_batch_get_and_query_by_the_rules(aws):
    from images.records import ImageTerm

    with ImageTerm.batch_write() as batch:
        for i in range(40):
            batch.save(posting(i))
    with capacity.metering() as meter:
        ImageTerm.get("title:river", posting(1).sort_key)
    assert (meter.calls, meter.rcu) == (1, 0.5) and meter.consumed > 0  # 121 bytes: one 4 KB unit, halved
    with capacity.metering() as meter:
        ImageTerm.get("title:river", posting(1).sort_key, consistent_read=True)
    assert meter.rcu == 1
    with capacity.metering() as meter:
        assert len(list(ImageTerm.batch_get([("title:river", posting(i).sort_key) for i in range(3)]))) == 3
    assert (meter.calls, meter.rcu) == (1, 1.5)  # each item rounded up on its own
    with capacity.metering() as meter:
        assert len(list(ImageTerm.query("title:river", limit=33, page_size=33))) == 33
    assert (meter.calls, meter.rcu) == (1, 0.5)  # 33 x 121 = 3,993 bytes: rounded once
    with capacity.metering() as meter:
        assert len(list(ImageTerm.query("title:river", page_size=40))) == 40
    assert meter.rcu == 1.0  # 4,840 bytes: two units, halved


def test_the_request_log_line_carries_the_calls_and_capacity(aws, capsys):
    import json

    from common.lambda_http import handler, response, status_msg
    from images.records import ImageTerm

    posting(1).save()

    @handler(status_msg)
    def read(event):
        ImageTerm.get("title:river", posting(1).sort_key)
        list(ImageTerm.query("title:river"))
        return response(200, {})

    capsys.readouterr()
    ImageTerm._connection = None  # a client made during the request (a cold start's) is metered too
    read({"httpMethod": "GET", "resource": "/x"})
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    answered = [line for line in lines if line.get("message") == "answered"][-1]
    assert answered["dynamodb_calls"] == 2 and answered["dynamodb_rcu"] == 1.0
    assert answered["dynamodb_consumed"] > 0  # what the service reported (the emulator's own figure)
