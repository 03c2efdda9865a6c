"""Bodies of /nas."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from aaa.tables.nas import MaMode, VendorProfile
from aaa.vocabulary.subscribers import SuspendedAction
from admin_api.schemas.common import In, Secret
from admin_api.schemas.plans import PoolFields, PoolRefsOut


class NasFields(PoolFields):
    vendor: VendorProfile = VendorProfile.MIKROTIK
    suspended_action: SuspendedAction | None = Field(
        None, description="what its subscribers suspended for debt get; wins over billing method and ISP"
    )
    coa_port: Annotated[int, Field(ge=1, le=65535)] | None = None
    require_message_authenticator: MaMode = MaMode.YES
    swap_octets: bool = False
    interim_interval: Annotated[int, Field(ge=60, le=86400)] | None = None
    description: Annotated[str, Field(max_length=200)] = ""
    api_port: Annotated[int, Field(ge=1, le=65535)] | None = Field(
        None, description="default 8729 with api_tls, else 8728"
    )
    api_username: Annotated[str, Field(min_length=1, max_length=64)] | None = Field(
        None, description="RouterOS API user: enforcement fallback and the reconciler's /ppp/active"
    )
    api_password: Annotated[str, Field(max_length=128)] | None = Field(None, description="write-only")
    api_tls: bool = Field(
        False, description="RouterOS api-ssl (port 8729): plain api sends the password in clear"
    )
    api_tls_verify: bool = Field(False, description="check the router's certificate (enforcer.api_ca_file)")
    allow_wide_prefix: bool = Field(
        False, description="accept an address wider than /24 (IPv6: /64) on purpose"
    )
    allow_short_secret: bool = Field(False, description="accept a secret under 16 octets on purpose")


class NasIn(NasFields):
    name: Annotated[str, Field(min_length=1, max_length=64)]
    address: Annotated[str, Field(min_length=2, max_length=43, description="IP or CIDR")]
    secret: Secret | None = Field(None, description="generated when omitted, and shown once")


class NasPatch(PoolFields):
    name: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    suspended_action: SuspendedAction | None = None
    address: Annotated[str, Field(min_length=2, max_length=43)] | None = None
    vendor: VendorProfile | None = None
    coa_port: Annotated[int, Field(ge=1, le=65535)] | None = None
    require_message_authenticator: MaMode | None = None
    swap_octets: bool | None = None
    interim_interval: Annotated[int, Field(ge=60, le=86400)] | None = None
    description: Annotated[str, Field(max_length=200)] | None = None
    api_port: Annotated[int, Field(ge=1, le=65535)] | None = None
    api_username: Annotated[str, Field(max_length=64)] | None = None
    api_password: Annotated[str, Field(max_length=128)] | None = None
    api_tls: bool | None = None
    api_tls_verify: bool | None = None
    allow_wide_prefix: bool | None = None
    allow_short_secret: bool | None = Field(None, description="only false: require a secret of 16 octets")


class NasActivityOut(BaseModel):
    """What the RADIUS workers saw of this NAS (counts since it was registered)."""

    model_config = ConfigDict(from_attributes=True)
    requests: int = Field(description="requests received from its address, answered or not")
    last_request_at: datetime | None
    drops: int = Field(description="requests dropped without an answer")
    last_drop_at: datetime | None
    last_drop_cause: str | None = Field(
        description="bad_message_authenticator, missing_message_authenticator, bad_authenticator, ..."
    )
    last_drop_detail: str | None


class NasOut(PoolRefsOut):
    id: int
    name: str
    address: str
    vendor: VendorProfile
    suspended_action: SuspendedAction | None
    coa_port: int
    require_message_authenticator: MaMode
    ma_seen: bool
    swap_octets: bool
    interim_interval: int | None
    description: str
    api_port: int
    api_username: str | None
    api_tls: bool
    api_tls_verify: bool
    allow_wide_prefix: bool
    allow_short_secret: bool = Field(description="its secret is under 16 octets, kept on purpose: rotate it")
    secret: str | None = Field(None, description="shown once, when created or rotated")
    activity: NasActivityOut | None = Field(None, description="none yet: no request seen from it")


class SecretIn(In):
    secret: Secret | None = Field(None, description="the new secret; generated when omitted")
    allow_short_secret: bool = Field(False, description="accept a secret under 16 octets on purpose")
