"""Grouping and export of residents' wordings (api.views.wording): pure functions."""

from __future__ import annotations

from api.views.wording import SAMPLE_VALUES, Span, filled, nearest, normalized, similarity


def test_the_same_wording_in_other_widths_spaces_and_marks_has_one_key() -> None:
    assert normalized("暖气 不热！！") == normalized("暖气不热") == normalized("暖气不热?")
    assert normalized("ＡＢＣ１２３小区") == "abc123小区"
    assert normalized("？？？") == "???"  # nothing but marks keeps its marks
    assert normalized("暖" * 400 + "!") == "暖" * 400  # the whole wording: a long one is not cut to a prefix


def test_near_duplicates_group_and_different_requests_do_not() -> None:
    groups = [(1, normalized("我家暖气不热怎么办")), (2, normalized("暖气费怎么交"))]
    assert nearest(normalized("我家暖气不热怎么办啊"), groups) == 1
    assert nearest(normalized("我家暖气很热"), groups) is None
    assert nearest(normalized("暖气费能退吗"), [(3, normalized("暖气费不能退吗"))]) is None
    assert nearest("好的", [(4, "好滴")]) is None  # short wordings group only when the same
    assert similarity("暖气不热", "暖气不热") == 1.0


def test_placeholders_are_filled_and_marked_spans_move_with_them() -> None:
    text = "[姓名]先生家阳光小区3号楼[门牌]不热，我叫[姓名]，电话[电话]"
    start = text.index("阳光")
    end = text.index("不热")
    full, spans = filled(text, [Span("address", start, end), Span("phone", text.index("[电话]"), len(text))])
    assert full == "张先生家阳光小区3号楼1单元101不热，我叫张明，电话13800000000"
    assert [full[s.start : s.end] for s in spans] == ["阳光小区3号楼1单元101", "13800000000"]
    # a span ending inside a placeholder takes the whole sample value
    _, (inside,) = filled("电话[电话]", [Span("phone", 2, 4)])
    assert (inside.start, inside.end) == (2, 2 + len(SAMPLE_VALUES["[电话]"]))
