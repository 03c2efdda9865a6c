"""Reply-Messages are the subscribers' language by default, and the ISP's own text when set."""

from __future__ import annotations

import pytest
from pyrad import packet
from sqlalchemy.orm import Session, sessionmaker

from aaa.settings import SettingsError, load_settings
from aaa.vocabulary.messages import MESSAGES
from aaa.vocabulary.subscribers import ServiceStatus
from tests import radius_client as rc
from tests.conftest import SECRET, make_nas, make_service, start_worker, stop_worker, test_settings

OWN = "Serviço suspenso. Pague pelo app ou ligue (37) 3322-0000."


def test_the_isp_replaces_one_message_and_keeps_the_others(
    db_url: str, factory: sessionmaker[Session]
) -> None:
    with factory.begin() as s:
        make_nas(s)
        make_service(s, login="devedor", password="pass-1", status=ServiceStatus.SUSPENDED_DEBT)
    settings = test_settings(db_url)
    settings.policy = settings.policy.model_copy(update={"messages": {"suspended_debt": OWN}})
    running = start_worker(settings, factory)
    try:
        nas = rc.client(running.auth_port, running.acct_port, SECRET)
        suspended = rc.send(nas, rc.pap(nas, "devedor", "pass-1"))
        wrong = rc.send(nas, rc.pap(nas, "devedor", "wrong"))
        unknown = rc.send(nas, rc.pap(nas, "ninguem", "wrong"))
    finally:
        stop_worker(running)
    assert suspended.code == packet.AccessReject and suspended["Reply-Message"] == [OWN]
    # Unknown login and wrong password read the same: a reject never tells which logins exist.
    assert wrong["Reply-Message"] == unknown["Reply-Message"] == [MESSAGES["invalid_credentials"]]


def test_an_unknown_or_too_long_message_is_refused_by_name() -> None:
    with pytest.raises(SettingsError, match="unknown message suspenso"):
        load_settings(None, policy={"messages": {"suspenso": "x"}})
    with pytest.raises(SettingsError, match="at most 253"):
        load_settings(None, policy={"messages": {"suspended_debt": "ç" * 127}})
