"""What a subject's prefixes say: a reply or a forward, in the languages clients write in."""

from __future__ import annotations

import pytest

from foundation.subjects import base_subject, is_forward_subject, is_reply_subject, subject_kind


@pytest.mark.parametrize("subject", ["FW: Banner", "Fwd: Banner", "WG: Banner", "TR : Banner", "ENC: Banner",
                                     "RV: Banner", "PD: Banner", "[EXTERNAL] Fw: Banner", "FW: RE: Banner",
                                     "Пересл: Banner", "转发：Banner"])
def test_a_forward_subject(subject):
    assert is_forward_subject(subject)
    assert not is_reply_subject(subject)
    assert base_subject(subject) == "banner"


@pytest.mark.parametrize("subject", ["RE: FW: Banner", "AW: Banner", "Banner", "Forward planning", "FWD banner",
                                     "Fwd Banner", ""])
def test_not_a_forward_subject(subject):
    assert not is_forward_subject(subject)


def test_vs_is_either_a_finnish_reply_or_a_nordic_forward():
    assert subject_kind("VS: Kevätjuliste") == "either"
    assert is_reply_subject("VS: Kevätjuliste")  # a conversation joins on it either way
    assert subject_kind("RE: FW: Invoice") == "reply" and subject_kind("FW: RE: Invoice") == "forward"
    assert subject_kind("Invoice") == ""
