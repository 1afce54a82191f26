"""Codes in words, in Chinese as DingTalk and WeCom show them, or in English; and which language
an org's reports speak."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from fieldpunch.reports.columns import Lang

_STATUS: dict[str, tuple[str, str]] = {
    "normal": ("正常", "Normal"),
    "late": ("迟到", "Late"),
    "serious_late": ("严重迟到", "Seriously late"),
    "early_leave": ("早退", "Early leave"),
    "absent": ("旷工", "Absent"),
    "missing_clock_in": ("上班缺卡", "Missing clock-in"),
    "missing_clock_out": ("下班缺卡", "Missing clock-out"),
    "leave": ("请假", "Leave"),
    "trip": ("出差", "Business trip"),
    "rest": ("休息", "Rest"),
    "holiday": ("节假日", "Holiday"),
}
_METHOD: dict[str, tuple[str, str]] = {
    "gps": ("GPS", "GPS"),
    "wifi": ("Wi-Fi", "Wi-Fi"),
    "field": ("外勤", "Field"),
    "correction": ("补卡", "Correction"),
}
_EDGE: dict[str, tuple[str, str]] = {
    "ok": ("正常", "OK"),
    "late": ("迟到", "Late"),
    "early": ("早退", "Early"),
    "missing": ("缺卡", "Missing"),
    "excused": ("请假/出差", "Excused"),
    "pending": ("未到时间", "Pending"),
}
_DAY_KIND: dict[str, tuple[str, str]] = {
    "workday": ("工作日", "Workday"),
    "rest": ("休息日", "Rest day"),
    "holiday": ("节假日", "Holiday"),
}
_WEEKDAY = (
    ("星期一", "Mon"),
    ("星期二", "Tue"),
    ("星期三", "Wed"),
    ("星期四", "Thu"),
    ("星期五", "Fri"),
    ("星期六", "Sat"),
    ("星期日", "Sun"),
)
_YES_NO = (("是", "Yes"), ("", ""))  # an empty cell for "no" reads better in a sheet
_REST_SHIFT = ("休息", "Rest")


def _pick(pair: tuple[str, str], lang: Lang) -> str:
    return pair[0] if lang is Lang.zh else pair[1]


def _word(table: Mapping[str, tuple[str, str]], code: str | None, lang: Lang) -> str:
    if not code:
        return ""
    pair = table.get(code)
    return code if pair is None else _pick(pair, lang)  # an unknown code shows as it is


def separator(lang: Lang) -> str:
    return "、" if lang is Lang.zh else ", "


def status(code: str | None, lang: Lang) -> str:
    return _word(_STATUS, code, lang)


def statuses(codes: Iterable[str], lang: Lang) -> str:
    return separator(lang).join(status(c, lang) for c in codes)


def method(code: str | None, lang: Lang) -> str:
    return _word(_METHOD, code, lang)


def edge_state(code: str | None, lang: Lang) -> str:
    return _word(_EDGE, code, lang)


def day_kind(code: str, holiday_name: str, lang: Lang) -> str:
    word = _word(_DAY_KIND, code, lang)
    return f"{word}({holiday_name})" if holiday_name else word


def weekday(iso_weekday: int, lang: Lang) -> str:
    return _pick(_WEEKDAY[iso_weekday - 1], lang)


def yes(flag: bool, lang: Lang) -> str:
    return _pick(_YES_NO[0 if flag else 1], lang)


def rest_shift(lang: Lang) -> str:
    return _pick(_REST_SHIFT, lang)


def org_language(settings: Mapping[str, Any] | None, timezone: str) -> Lang:
    """The org's report language when the request names none: a stored `language` (or
    `locale`) setting if there is one ("zh", "zh-CN", "en-US", ...), else Chinese for an org in
    an Asia/* time zone and English elsewhere. Orgs have no language setting today; the key is
    read so that one added later wins over the guess."""
    for key in ("language", "locale"):
        value = str((settings or {}).get(key) or "").lower()
        if value.startswith("zh"):
            return Lang.zh
        if value.startswith("en"):
            return Lang.en
    return Lang.zh if timezone.startswith("Asia/") else Lang.en
