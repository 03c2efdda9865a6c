"""An accept's answer is made once per distinct decision and vendor, and a plan edit reaches it."""

from __future__ import annotations

import json

from aaa.policies.decision import Decision, Outcome
from aaa.policies.inputs import PlanSpeed
from aaa.policies.vendors import render
from aaa.radius.answers import Answers
from aaa.radius.codec import Codec
from aaa.settings import Settings
from aaa.vocabulary.vendors import VendorProfile

CODEC = Codec(Settings().radius.dictionary)


def accept(*attributes: tuple[str, object]) -> Decision:
    return Decision(Outcome.ACCEPT, attributes)


def test_an_answer_is_the_rendered_encoded_decision_and_its_grant() -> None:
    decision = accept(("Mikrotik-Rate-Limit", "25M/50M"), ("Framed-IP-Address", "100.64.0.7"))
    for vendor in (VendorProfile.MIKROTIK, VendorProfile.HUAWEI):
        answer = Answers(CODEC).of(vendor, decision)
        assert answer.attributes == render(vendor, decision.attributes)
        assert answer.encoded == CODEC.encode(render(vendor, decision.attributes))
        assert json.loads(answer.granted or "") == {
            "rate": "25M/50M",
            "address_list": None,
            "addresses": ["Framed-IP-Address=100.64.0.7"],
        }


def test_the_same_decision_is_answered_from_the_store_and_another_is_not() -> None:
    answers = Answers(CODEC, limit=2)
    first = answers.of(VendorProfile.MIKROTIK, accept(("Mikrotik-Rate-Limit", "25M/50M")))
    assert answers.of(VendorProfile.MIKROTIK, accept(("Mikrotik-Rate-Limit", "25M/50M"))) is first
    huawei = answers.of(VendorProfile.HUAWEI, accept(("Mikrotik-Rate-Limit", "25M/50M")))
    assert huawei is not first and huawei.encoded != first.encoded
    edited = answers.of(VendorProfile.MIKROTIK, accept(("Mikrotik-Rate-Limit", "50M/100M")))
    assert edited.attributes == (("Mikrotik-Rate-Limit", "50M/100M"),)
    # Past its limit the store starts over: the first answer is made again, equal and new.
    again = answers.of(VendorProfile.MIKROTIK, accept(("Mikrotik-Rate-Limit", "25M/50M")))
    assert again == first and again is not first


def test_an_edited_plan_renders_its_new_rate() -> None:
    plan = PlanSpeed("Fibra", 100_000, 50_000)
    assert (plan.rate_text(), plan.speed_text()) == ("50M/100M", "plan Fibra 100M/50M")
    plan.take(PlanSpeed("Fibra Max", 300_000, 150_000, 400_000, 200_000, 300_000, 150_000, 10))
    assert plan.rate_text() == "150M/300M 200M/400M 150M/300M 10/10"
    assert plan.speed_text() == "plan Fibra Max 300M/150M"
