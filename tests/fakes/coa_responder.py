"""A UDP CoA/Disconnect responder that behaves like RouterOS's ``/radius incoming``.

Decoding and signing use pyrad, not our codec, so the enforcer's packets are checked by an
independent implementation. Behaviour: a request with a wrong authenticator (wrong secret) or a
wrong Message-Authenticator is ignored (silence); a session it does not have gets a NAK with
Error-Cause 503; otherwise ACK (a Disconnect also ends the session). ``silent = True`` plays a
NAS that stopped answering. Every valid request is recorded with its attributes.
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass
from typing import Any

from pyrad import packet
from pyrad.dictionary import Dictionary

from aaa.settings import DEFAULT_DICTIONARY


@dataclass
class Received:
    code: int
    attributes: dict[str, list[Any]]

    def first(self, name: str) -> Any:
        return self.attributes[name][0]


class CoaResponder:
    def __init__(self, secret: str, host: str = "127.0.0.1"):
        self.secret = secret.encode()
        self.dictionary = Dictionary(str(DEFAULT_DICTIONARY))
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.sessions: set[tuple[str, str]] = set()  # (User-Name, Acct-Session-Id) online
        self.received: list[Received] = []
        self.ignored = 0
        self.silent = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="coa-responder", daemon=True)

    def __enter__(self) -> CoaResponder:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()

    def online(self, login: str, acct_session_id: str) -> None:
        self.sessions.add((login, acct_session_id))

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, addr = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            reply = self.answer(data)
            if reply is not None:
                self.sock.sendto(reply, addr)

    def answer(self, data: bytes) -> bytes | None:
        if self.silent:
            self.ignored += 1
            return None
        try:
            request = packet.CoAPacket(packet=data, secret=self.secret, dict=self.dictionary)
        except packet.PacketError:
            self.ignored += 1
            return None
        if not request.VerifyCoARequest():
            self.ignored += 1  # wrong secret: RouterOS stays silent
            return None
        if "Message-Authenticator" in request and not request.verify_message_authenticator():
            self.ignored += 1
            return None
        names = request.keys()  # pyrad: decoded names (iterating the packet gives raw codes)
        attributes = {name: list(request[name]) for name in names if isinstance(name, str)}
        self.received.append(Received(request.code, attributes))
        key = (attributes.get("User-Name", [""])[0], attributes.get("Acct-Session-Id", [""])[0])
        reply = request.CreateReply()
        if key not in self.sessions:
            reply.code = packet.CoANAK if request.code == packet.CoARequest else packet.DisconnectNAK
            reply["Error-Cause"] = 503  # Session Context Not Found
        elif request.code == packet.DisconnectRequest:
            self.sessions.discard(key)
        return reply.ReplyPacket()
