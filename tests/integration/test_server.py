"""A real worker on real UDP sockets, on SQLite and PostgreSQL, with pyrad's client as the NAS."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import pytest
from pyrad import client as pyrad_client
from pyrad import packet
from sqlalchemy import event, text
from sqlalchemy.orm import Session, sessionmaker

from aaa import metrics
from aaa.changes.feed import latest_id
from aaa.radius import crypto
from aaa.subscribers.service import get_service, update_service
from aaa.tables.accounting import AcctSession, AuthLog
from aaa.tables.nas import MaMode
from aaa.vocabulary.messages import MESSAGES
from aaa.vocabulary.subscribers import MacBinding, ServiceStatus
from tests import radius_client as rc
from tests.conftest import (
    SECRET,
    RunningWorker,
    count_rows,
    feed_applied,
    make_nas,
    make_plan,
    make_service,
    make_subnet,
    start_worker,
    stop_worker,
    test_settings,
    wait_for,
)


@pytest.fixture
def nas(worker: RunningWorker) -> Any:
    return rc.client(worker.auth_port, worker.acct_port, SECRET)


def add(factory: sessionmaker[Session], **kw: Any) -> None:
    with factory.begin() as session:
        make_service(session, **kw)


def reply_message(reply: packet.Packet) -> str:
    return reply["Reply-Message"][0]


def auth_log(factory: sessionmaker[Session], login: str) -> list[AuthLog]:
    with factory() as session:
        return list(session.query(AuthLog).filter_by(login=login).order_by(AuthLog.id))


def test_pap_accept_carries_speed_ip_and_interim(worker: RunningWorker, nas: Any, factory: Any) -> None:
    with factory.begin() as session:
        plan = make_plan(
            session,
            name="300M",
            download=300_000,
            upload=150_000,
            burst_download_kbps=400_000,
            burst_upload_kbps=200_000,
            burst_time_s=8,
        )
        make_subnet(session, "100.64.10.0/24")
        make_service(session, login="joao", password="joão-sênha€", plan=plan, fixed_ipv4="100.64.10.2")
    reply = rc.send(nas, rc.pap(nas, "joao", "joão-sênha€"))
    assert reply.code == packet.AccessAccept
    assert reply["Mikrotik-Rate-Limit"] == ["150M/300M 200M/400M 150M/300M 8/8"]
    assert reply["Framed-IP-Address"] == ["100.64.10.2"]
    assert reply["Acct-Interim-Interval"] == [300]
    rows = wait_for(lambda: auth_log(factory, "joao"))
    assert rows[0].result.value == "accept" and rows[0].method == "pap"
    assert rows[0].reason == "plan 300M 300M/150M → fixed 100.64.10.2"


def test_pap_128_octet_password(worker: RunningWorker, nas: Any, factory: Any) -> None:
    password = "p" * 122 + "ção1"  # 128 octets in UTF-8
    assert len(password.encode()) == 128
    add(factory, login="long", password=password)
    assert rc.send(nas, rc.pap(nas, "long", password)).code == packet.AccessAccept
    assert rc.send(nas, rc.pap(nas, "long", password[:-1])).code == packet.AccessReject


@pytest.mark.parametrize("method", ["pap", "chap", "chap-authenticator", "mschapv1", "mschapv2"])
def test_every_method_accepts_and_rejects(worker: RunningWorker, nas: Any, factory: Any, method: str) -> None:
    add(factory, login="maria", password="maria-pass")

    def build(password: str) -> Any:
        if method == "pap":
            return rc.pap(nas, "maria", password)
        if method == "chap":
            return rc.chap(nas, "maria", password)
        if method == "chap-authenticator":  # no CHAP-Challenge: the Request Authenticator is the challenge
            req = rc.access_request(nas, "maria")
            req.authenticator = packet.Packet.CreateAuthenticator()
            req["CHAP-Password"] = b"\x05" + crypto.chap_response(5, password.encode(), req.authenticator)
            return req
        if method == "mschapv1":
            return rc.mschap1(nas, "maria", password)
        return rc.mschap2(nas, "maria", password)[0]

    good = rc.send(nas, build("maria-pass"))
    assert good.code == packet.AccessAccept
    bad = rc.send(nas, build("wrong"))
    assert bad.code == packet.AccessReject
    assert reply_message(bad) == "Falha na autenticação: login ou senha inválidos"
    if method.startswith("mschap"):
        assert bad["MS-CHAP-Error"][0][1:].startswith(b"E=691 R=0 C=")


def test_mschapv2_success_and_mppe_keys(worker: RunningWorker, nas: Any, factory: Any) -> None:
    add(factory, login="padaria", password="padaria-pass")
    req, auth_challenge, peer_challenge, nt = rc.mschap2(nas, "padaria", "padaria-pass")
    reply = rc.send(nas, req)
    assert reply.code == packet.AccessAccept
    success = reply["MS-CHAP2-Success"][0]
    assert success[0] == 1
    hash_hash = crypto.md4(crypto.nt_password_hash("padaria-pass"))
    challenge = crypto.challenge_hash(peer_challenge, auth_challenge, b"padaria")
    assert success[1:] == crypto.mschap2_authenticator_response(hash_hash, nt, challenge)
    send_key, recv_key = crypto.mppe_server_keys(hash_hash, nt)
    reply.secret, reply.request_authenticator = SECRET.encode(), req.authenticator
    # pyrad (the reference client) decrypts the salt-encrypted keys and strips length and padding.
    got_send = reply.SaltDecrypt(packet.OrderedDict.__getitem__(reply, (311, 16))[0])
    got_recv = reply.SaltDecrypt(packet.OrderedDict.__getitem__(reply, (311, 17))[0])
    assert (got_send, got_recv) == (send_key, recv_key)
    assert reply["MS-MPPE-Encryption-Policy"] == ["Encryption-Allowed"]


def test_unknown_login_looks_like_wrong_password(worker: RunningWorker, nas: Any, factory: Any) -> None:
    add(factory, login="maria", password="maria-pass")
    unknown = rc.send(nas, rc.pap(nas, "nobody", "x"))
    wrong = rc.send(nas, rc.pap(nas, "maria", "x"))
    assert unknown.code == wrong.code == packet.AccessReject
    assert reply_message(unknown) == reply_message(wrong)
    logs = wait_for(lambda: auth_log(factory, "nobody") and auth_log(factory, "maria"))
    assert logs
    assert auth_log(factory, "nobody")[0].reason.endswith("reject: unknown_login")
    assert auth_log(factory, "maria")[0].reason.endswith("reject: wrong_password")


def test_status_simultaneous_use_and_mac_rejects(worker: RunningWorker, nas: Any, factory: Any) -> None:
    add(factory, login="devedor", password="p", status=ServiceStatus.SUSPENDED_DEBT)
    add(factory, login="mac", password="p", mac_binding=MacBinding.ENFORCE, mac="AA:BB:CC:DD:EE:01")
    reply = rc.send(nas, rc.pap(nas, "devedor", "p"))
    assert reply.code == packet.AccessReject and reply_message(reply) == MESSAGES["suspended_debt"]
    reply = rc.send(nas, rc.pap(nas, "mac", "p", Calling_Station_Id="AA:BB:CC:DD:EE:02"))
    assert reply_message(reply) == "Equipamento (endereço MAC) não autorizado para este login"
    assert (
        rc.send(nas, rc.pap(nas, "mac", "p", Calling_Station_Id="aa:bb:cc:dd:ee:01")).code
        == packet.AccessAccept
    )


def test_simultaneous_use_follows_accounting(worker: RunningWorker, nas: Any, factory: Any) -> None:
    add(factory, login="maria", password="p")
    first = {"Calling_Station_Id": "AA:BB:CC:DD:EE:01", "NAS_Port_Id": "ether2"}
    assert rc.send(nas, rc.pap(nas, "maria", "p", **first)).code == packet.AccessAccept
    rc.send(nas, rc.accounting(nas, "Start", "maria", "81a00001", **first))
    # a second CPE is refused while the first session is open
    second = {"Calling_Station_Id": "AA:BB:CC:DD:EE:02", "NAS_Port_Id": "ether3"}
    reply = rc.send(nas, rc.pap(nas, "maria", "p", **second))
    assert reply.code == packet.AccessReject
    assert reply_message(reply) == "Limite de conexões simultâneas atingido"
    # the same CPE redialling on the same port is let in (the NAS will Stop its old session)
    assert rc.send(nas, rc.pap(nas, "maria", "p", **first)).code == packet.AccessAccept
    rc.send(nas, rc.accounting(nas, "Stop", "maria", "81a00001", Acct_Session_Time=30, **first))
    assert rc.send(nas, rc.pap(nas, "maria", "p", **second)).code == packet.AccessAccept


def test_mac_learn_and_flags_in_auth_log(worker: RunningWorker, nas: Any, factory: Any) -> None:
    add(factory, login="learn", password="p", mac_binding=MacBinding.LEARN)
    assert rc.send(nas, rc.pap(nas, "learn", "p", Calling_Station_Id="AA:BB:CC:DD:EE:07")).code == 2
    assert wait_for(
        lambda: count_rows(factory, "SELECT count(*) FROM service WHERE mac = 'AA:BB:CC:DD:EE:07'")
    )
    # the learned MAC is enforced from now on, once the change reached the cache
    assert wait_for(
        lambda: (
            rc.send(nas, rc.pap(nas, "learn", "p", Calling_Station_Id="AA:BB:CC:DD:EE:08")).code
            == packet.AccessReject
        )
    )
    rows = wait_for(lambda: [r for r in auth_log(factory, "learn") if r.mac_differs])
    assert rows and rows[-1].mac == "AA:BB:CC:DD:EE:08"


def test_change_reaches_the_worker_within_a_second(worker: RunningWorker, nas: Any, factory: Any) -> None:
    add(factory, login="maria", password="old")
    assert rc.send(nas, rc.pap(nas, "maria", "old")).code == packet.AccessAccept  # now cached
    with factory.begin() as session:
        update_service(session, get_service(session, "maria"), password="new")
    started = time.monotonic()
    assert wait_for(
        lambda: rc.send(nas, rc.pap(nas, "maria", "new")).code == packet.AccessAccept, timeout=1.0
    )
    assert time.monotonic() - started < 1.0
    assert rc.send(nas, rc.pap(nas, "maria", "old")).code == packet.AccessReject


def test_a_new_nas_is_served_without_restart(worker: RunningWorker, factory: Any) -> None:
    other = rc.client(worker.auth_port, worker.acct_port, "another-secret-9876543210")
    other.bind(("127.0.0.2", 0))
    add(factory, login="maria", password="p")
    dropped_before = metrics.RADIUS_DROPPED.labels("unknown_nas")._value.get()
    with pytest.raises(pyrad_client.Timeout):
        rc.send(other, rc.pap(other, "maria", "p"))  # unknown source: silence
    assert metrics.RADIUS_DROPPED.labels("unknown_nas")._value.get() > dropped_before
    with factory.begin() as session:
        from aaa.nas.service import add_nas

        add_nas(session, name="second", address="127.0.0.2", secret="another-secret-9876543210")
    assert wait_for(lambda: worker.worker.nas.lookup("127.0.0.2") is not None, timeout=1.0)
    assert rc.send(other, rc.pap(other, "maria", "p")).code == packet.AccessAccept


def test_cached_access_request_runs_no_sql(
    worker: RunningWorker, nas: Any, factory: Any, engine: Any
) -> None:
    add(factory, login="maria", password="p")
    assert feed_applied(factory, worker)  # let the worker consume the feed (maria's creation is in it)
    assert rc.send(nas, rc.pap(nas, "maria", "p")).code == packet.AccessAccept  # loads the snapshot
    statements: list[str] = []
    background = ("auth-log", "change-poll")  # batched writers and the feed poll: not the request path

    @event.listens_for(engine, "before_cursor_execute")
    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not threading.current_thread().name.startswith(background):
            statements.append(statement)

    for _ in range(20):
        assert rc.send(nas, rc.pap(nas, "maria", "p")).code == packet.AccessAccept
        assert rc.send(nas, rc.mschap2(nas, "maria", "p")[0]).code == packet.AccessAccept
    event.remove(engine, "before_cursor_execute", count)
    assert statements == []


def test_retransmission_gets_the_cached_reply(worker: RunningWorker, nas: Any, factory: Any) -> None:
    add(factory, login="maria", password="p")
    req = rc.pap(nas, "maria", "p")
    datagram = req.RequestPacket()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(2)
        sock.sendto(datagram, ("127.0.0.1", worker.auth_port))
        first = sock.recv(4096)
        sock.sendto(datagram, ("127.0.0.1", worker.auth_port))
        second = sock.recv(4096)
    assert first == second  # byte for byte: the same reply, not a second evaluation
    rows = wait_for(lambda: auth_log(factory, "maria"))
    assert wait_for(lambda: worker.worker.recorder.idle)  # nothing more waits to be written
    assert len(auth_log(factory, "maria")) == len(rows) == 1  # evaluated once


def test_accounting_start_interim_stop_on(worker: RunningWorker, nas: Any, factory: Any) -> None:
    add(factory, login="maria", password="p")
    common = {"NAS_Port_Id": "ether2", "Calling_Station_Id": "AA:BB:CC:DD:EE:01"}
    assert (
        rc.send(
            nas, rc.accounting(nas, "Start", "maria", "81a00001", Framed_IP_Address="100.64.0.9", **common)
        ).code
        == packet.AccountingResponse
    )
    rc.send(
        nas,
        rc.accounting(
            nas,
            "Interim-Update",
            "maria",
            "81a00001",
            Acct_Session_Time=300,
            Acct_Input_Octets=1000,
            Acct_Output_Octets=5,
            Acct_Output_Gigawords=1,
            **common,
        ),
    )
    rc.send(
        nas,
        rc.accounting(
            nas,
            "Stop",
            "maria",
            "81a00001",
            Acct_Session_Time=600,
            Acct_Input_Octets=2000,
            Acct_Output_Octets=10,
            Acct_Output_Gigawords=1,
            Acct_Terminate_Cause="User-Request",
            **common,
        ),
    )
    # Interim before Start creates the session; Stop for an unknown session is stored
    rc.send(nas, rc.accounting(nas, "Interim-Update", "maria", "81a00002", Acct_Session_Time=60))
    rc.send(nas, rc.accounting(nas, "Stop", "ghost", "81a00003", Acct_Session_Time=5))
    with factory() as session:
        rows = {s.acct_session_id: s for s in session.query(AcctSession)}
    s1 = rows["81a00001"]
    assert (s1.input_octets, s1.output_octets, s1.session_time) == (2000, 10 + (1 << 32), 600)
    assert (
        s1.framed_ip == "100.64.0.9" and s1.terminate_cause == "User-Request" and s1.closed_by.value == "stop"
    )
    assert s1.service_id is not None and s1.calling_station_id == "AA:BB:CC:DD:EE:01"
    assert rows["81a00002"].stop_time is None and rows["81a00003"].stop_time is not None
    # Accounting-On: the NAS rebooted, its open sessions are closed
    rc.send(nas, rc.accounting(nas, "Accounting-On"))
    with factory() as session:
        s2 = session.query(AcctSession).filter_by(acct_session_id="81a00002").one()
    assert s2.stop_time is not None and s2.closed_by.value == "nas_reboot"


def test_accounting_on_reaches_every_worker_without_rechecks(
    worker: RunningWorker, nas: Any, factory: Any, db_url: str, engine: Any
) -> None:
    """A rebooted NAS's subscribers all dial again at once. Every worker, one serving no
    accounting too, drops the sessions the Accounting-On closed from its snapshots: a subscriber
    still counted online would cost a database recheck each (a reconnect storm after a reboot
    fell to about 1,300 logins/s that way)."""
    add(factory, login="maria", password="p")
    cpe = {"Calling_Station_Id": "AA:BB:CC:DD:EE:01", "NAS_Port_Id": "ether2"}
    rc.send(nas, rc.accounting(nas, "Start", "maria", "81a00001", **cpe))
    auth_only = start_worker(test_settings(db_url), factory, accounting=False)
    workers = (worker, auth_only)

    def feed_read() -> bool:
        """Both workers have read the whole feed (a worker applies its own changes at once
        and again when its poll reads them)."""
        with factory() as session:
            last = latest_id(session)
        return all(w.worker.listener.applied_low >= last for w in workers)

    try:
        other = rc.client(auth_only.auth_port, worker.acct_port, SECRET)
        assert wait_for(feed_read)
        new_cpe = {"Calling_Station_Id": "AA:BB:CC:DD:EE:02", "NAS_Port_Id": "ether3"}
        for client in (nas, other):  # each worker now has maria online in its snapshot
            assert rc.send(client, rc.pap(client, "maria", "p", **new_cpe)).code == packet.AccessReject
        assert rc.send(nas, rc.accounting(nas, "Accounting-On")).code == packet.AccountingResponse
        assert wait_for(feed_read)
        # A poll hands what it read to the worker's event loop, which applies it a moment later.
        assert wait_for(lambda: all(w.worker.cache.get("maria").sessions == () for w in workers))  # type: ignore[union-attr]
        statements: list[str] = []
        background = ("auth-log", "change-poll")

        @event.listens_for(engine, "before_cursor_execute")
        def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            if not threading.current_thread().name.startswith(background):
                statements.append(statement)

        for client in (nas, other):
            assert rc.send(client, rc.pap(client, "maria", "p", **new_cpe)).code == packet.AccessAccept
        event.remove(engine, "before_cursor_execute", count)
        assert statements == []
    finally:
        stop_worker(auth_only)


def test_accounting_retransmission_is_counted_once(worker: RunningWorker, nas: Any, factory: Any) -> None:
    req = rc.accounting(
        nas, "Interim-Update", "maria", "81a00009", Acct_Session_Time=60, Acct_Input_Octets=10
    )
    datagram = req.RequestPacket()
    replies = [rc.raw_exchange(worker.acct_port, datagram, timeout=2) for _ in range(2)]
    assert all(r is not None and r[0] == packet.AccountingResponse for r in replies)
    assert count_rows(factory, "SELECT count(*) FROM acct_session") == 1
    assert count_rows(factory, "SELECT input_octets FROM acct_session") == 10


def test_a_nul_octet_in_a_text_attribute_is_stored_as_a_replacement(
    worker: RunningWorker, nas: Any, factory: Any
) -> None:
    """PostgreSQL refuses NUL in text: stored as is, one such packet would fail every group
    commit (and auth log batch) it lands in, again at each retransmission."""
    assert (
        rc.send(nas, rc.accounting(nas, "Start", "ma\x00ria", "nul\x00id")).code == packet.AccountingResponse
    )
    assert rc.send(nas, rc.pap(nas, "jo\x00ao", "x")).code == packet.AccessReject
    assert rc.send(nas, rc.accounting(nas, "Start", "maria", "81a0000a")).code == packet.AccountingResponse
    with factory() as session:
        stored = {(s.login, s.acct_session_id) for s in session.query(AcctSession)}
    assert stored == {("ma\ufffdria", "nul\ufffdid"), ("maria", "81a0000a")}
    assert wait_for(lambda: auth_log(factory, "jo\ufffdao"))


def test_the_auth_log_keeps_what_copy_would_read_as_its_own_syntax(
    worker: RunningWorker, nas: Any, factory: Any
) -> None:
    """On PostgreSQL the rows travel as COPY text: a login with a tab, a newline, a carriage
    return, a backslash (also before a period: COPY's end of data), an escape character or a
    non-ASCII letter is stored as sent, and so are the calling station and the port."""
    logins = ["tab\tlogin", "new\nline", "cr\rlogin", "back\\slash", "\\.", "esc\x1bape", "joão\\N"]
    add(factory, login="júlia\\net", password="júlia-pass")
    for login in logins:
        assert rc.send(nas, rc.pap(nas, login, "x")).code == packet.AccessReject
    accept = rc.pap(nas, "júlia\\net", "júlia-pass")
    accept["Calling-Station-Id"] = "AB\tC\\D"
    accept["NAS-Port-Id"] = "vlan\\100\n"
    assert rc.send(nas, accept).code == packet.AccessAccept
    for login in logins:
        rows = wait_for(lambda login=login: auth_log(factory, login))
        assert [(r.login, r.result.value) for r in rows] == [(login, "reject")]
    (row,) = wait_for(lambda: auth_log(factory, "júlia\\net"))
    assert (row.mac, row.nas_port_id, row.result.value) == ("AB\tC\\D", "vlan\\100\n", "accept")
    assert row.service_id is not None and row.granted is not None


def test_accounting_is_not_acknowledged_when_the_database_fails(
    worker: RunningWorker, nas: Any, factory: Any, engine: Any
) -> None:
    # Break the write for real: the table is renamed away under the running worker.
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE acct_session RENAME TO acct_session_away"))
    try:
        datagram = rc.accounting(nas, "Start", "maria", "81a0000a").RequestPacket()
        assert rc.raw_exchange(worker.acct_port, datagram, timeout=1.0) is None  # no ack: not stored
    finally:
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE acct_session_away RENAME TO acct_session"))
    # the NAS retransmits the same packet; now it is stored and acknowledged
    assert rc.raw_exchange(worker.acct_port, datagram, timeout=2.0) is not None
    assert count_rows(factory, "SELECT count(*) FROM acct_session WHERE acct_session_id = '81a0000a'") == 1


def test_message_authenticator_first_and_proxy_state_echoed(
    worker: RunningWorker, nas: Any, factory: Any
) -> None:
    add(factory, login="maria", password="p")
    req = rc.pap(nas, "maria", "p")
    req["Proxy-State"] = [b"state-one", b"state-two"]
    raw = rc.raw_exchange(worker.auth_port, req.RequestPacket(), timeout=2)
    assert raw is not None and rc.first_attribute_code(raw) == 80
    reply = packet.Packet(packet=raw, dict=rc.DICTIONARY, secret=SECRET.encode())
    assert req.VerifyReply(reply, raw, enforce_ma=True)
    assert reply["Proxy-State"] == [b"state-one", b"state-two"]
    reject = rc.raw_exchange(worker.auth_port, rc.pap(nas, "maria", "bad").RequestPacket(), timeout=2)
    assert reject is not None and reject[0] == packet.AccessReject and rc.first_attribute_code(reject) == 80


def test_message_authenticator_modes(worker: RunningWorker, factory: Any) -> None:
    with factory.begin() as session:
        make_nas(session, address="127.0.0.3", ma=MaMode.NO, name="old-routeros")
        make_nas(session, address="127.0.0.4", ma=MaMode.AUTO, name="auto")
        make_service(session, login="maria", password="p")
    assert wait_for(lambda: worker.worker.nas.lookup("127.0.0.4"), timeout=1)
    yes = rc.client(worker.auth_port, worker.acct_port, SECRET)
    no = rc.client(worker.auth_port, worker.acct_port, SECRET)
    no.bind(("127.0.0.3", 0))
    auto = rc.client(worker.auth_port, worker.acct_port, SECRET)
    auto.bind(("127.0.0.4", 0))

    def _send(c: Any, req: Any) -> bool:
        try:
            return rc.send(c, req).code == packet.AccessAccept
        except Exception:
            return False

    assert not _send(yes, _pap(yes, ma=False))  # yes: missing MA dropped
    assert _send(yes, _pap(yes, ma=True))
    assert _send(no, _pap(no, ma=False))  # no: accepted without
    assert _send(auto, _pap(auto, ma=False))  # auto: accepted until one with MA is seen
    assert _send(auto, _pap(auto, ma=True))
    assert not _send(auto, _pap(auto, ma=False))  # ...then required
    assert wait_for(lambda: count_rows(factory, "SELECT count(*) FROM nas WHERE name = 'auto' AND ma_seen"))
    req = _pap(no, ma=False)
    req["Proxy-State"] = b"blast"
    assert not _send(no, req)  # limit_proxy_state: Proxy-State without MA is dropped


def _pap(c: Any, ma: bool) -> Any:
    req = rc.access_request(c, "maria", ma=ma)
    req["User-Password"] = req.PwCrypt("p")
    return req
