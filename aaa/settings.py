"""Settings: a TOML file plus ``AAA_*`` environment variables, validated once at start.

Precedence (highest first): explicit overrides, environment, TOML file, defaults.
Nested sections use ``__`` in the environment: ``AAA_RADIUS__AUTH_PORT=11812``.
Nothing reads settings at import time; the composition root calls :func:`load_settings`.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
# Shipped inside the package (a wheel installs them too), in FreeRADIUS's format.
DICTIONARIES = Path(__file__).resolve().parent / "dictionaries"
DEFAULT_DICTIONARY = DICTIONARIES / "dictionary"


class SettingsError(Exception):
    """The configuration cannot be used; the message says which setting and why."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt setting is an error, not a silent default


class RadiusSettings(_Section):
    bind: str = "127.0.0.1"
    auth_port: int = Field(default=1812, ge=0, le=65535)
    acct_port: int = Field(default=1813, ge=0, le=65535)
    workers: int = Field(default=2, ge=1, le=64)
    # How many of the workers serve accounting (0: all); the others serve authentication only.
    # A group commit costs mostly per statement: one process's batches are twice two
    # processes' and cost a quarter less CPU per record on both sides of the connection, and
    # the rest of the cores stay with authentication. One parses on one core: about 20,000
    # records/s on the benchmark machine, the Starts of 200,000 subscribers in ten seconds.
    acct_workers: int = Field(default=1, ge=0, le=64)
    dictionary: Path = DEFAULT_DICTIONARY
    reject_delay: float = Field(default=1.0, ge=0, le=10)
    dedup_seconds: float = Field(default=30.0, ge=0, le=300)
    acct_interim_interval: int = Field(default=300, ge=0, le=86400)
    limit_proxy_state: bool = True
    snapshot_negative_ttl: float = Field(default=5.0, ge=0)
    # Snapshot misses that arrive together are read in one query of at most this many logins.
    snapshot_batch_max: int = Field(default=256, ge=1, le=5000)
    # While the database cannot be reached: "serve_from_cache" answers from the snapshots (an
    # invalidated one too, as last known); "reject" rejects every login ("database unavailable").
    # Either way a login never seen gets a reject that says the data is unavailable.
    database_down: Literal["serve_from_cache", "reject"] = "serve_from_cache"
    change_poll_interval: float = Field(default=0.25, gt=0, le=10)
    acct_batch_max: int = Field(default=256, ge=1, le=10000)
    acct_commit_concurrency: int = Field(default=1, ge=1, le=32)
    authlog_flush_ms: float = Field(default=200.0, gt=0, le=60000)
    # An Access-Accept holds a place against the login's Simultaneous-Use limit in its worker
    # until its Accounting-Start arrives, or this many seconds.
    reservation_seconds: float = Field(default=15.0, ge=0, le=300)
    # A worker runs its full garbage collections (every object it holds is examined while every
    # request waits) on this timer, not when Python's heuristic sets one off: once the snapshots
    # are frozen that heuristic fires often under load, each time walking every session opened
    # since start-up (docs/benchmarks.md measures it). 0: Python's own heuristic.
    full_collection_interval: float = Field(default=300.0, ge=0, le=86400)

    @model_validator(mode="after")
    def _acct_workers_are_workers(self) -> RadiusSettings:
        if self.acct_workers > self.workers:  # 0 is every worker
            raise ValueError(f"acct_workers = {self.acct_workers} exceeds workers = {self.workers}")
        return self

    @property
    def accounting_workers(self) -> int:
        return self.acct_workers or self.workers

    @field_validator("dictionary")
    @classmethod
    def _dictionary_exists(cls, value: Path) -> Path:
        if not value.is_absolute() and not value.is_file():
            # A relative path names one of the shipped dictionaries, or a file of the checkout.
            shipped = DICTIONARIES / value
            value = shipped if shipped.is_file() else REPO_ROOT / value
        if not value.is_file():
            raise ValueError(f"dictionary file {value} does not exist")
        return value


class AccountingSettings(_Section):
    # Accounting acknowledged while the database is unreachable waits here (fsynced), then is
    # replayed; past spool_max_mb nothing more is acknowledged (the NAS retransmits).
    spool_dir: str = "./spool"
    spool_max_mb: int = Field(default=1024, ge=1)
    replay_interval: float = Field(default=2.0, gt=0, le=300)
    reaper_multiplier: float = Field(default=3.0, ge=1)
    change_retention_hours: float = Field(default=24.0, gt=0)

    @property
    def spool_max_bytes(self) -> int:
        return self.spool_max_mb * 1024 * 1024


class MetricsSettings(_Section):
    bind: str = "127.0.0.1"
    port: int = Field(default=9812, ge=0, le=65535)
    enabled: bool = True


class ApiSettings(_Section):
    enabled: bool = True  # `aaa serve` also runs the admin API
    bind: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    token_ttl_hours: float = Field(default=12.0, gt=0, le=24 * 90)
    console_idle_minutes: float = Field(default=30.0, gt=0, le=24 * 60)  # the console logs out after this
    # Logins: wrong passwords in a row that lock a login, and for how long; attempts per minute
    # from one address and for one login (beyond: 429); wrong passwords from one address that
    # lock the address out; password checks (Argon2) running at once (beyond: 429 at once, so
    # a flood of logins cannot take every thread of the API).
    lockout_failures: int = Field(default=5, ge=1, le=1000)
    lockout_minutes: float = Field(default=15.0, gt=0, le=24 * 60)
    login_rate_per_source: int = Field(default=30, ge=1)
    login_rate_per_login: int = Field(default=10, ge=1)
    source_lockout_failures: int = Field(default=20, ge=1)
    login_concurrency: int = Field(default=4, ge=1, le=64)
    # Proxies whose X-Forwarded-For is believed (addresses or CIDRs); empty: the socket peer is
    # the client, always.
    trusted_proxies: list[str] = []
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)  # 413 beyond
    # /metrics and the API docs need a bearer token (any operator's) when true.
    protect_metrics_and_docs: bool = False


class PolicySettings(_Section):
    """What suspended and reduced subscribers get; the limits of trust unlocks."""

    suspended_action: Literal["reject", "address_list", "pool"] = "reject"
    blocked_address_list: str = Field(default="blocked", min_length=1, max_length=64)
    blocked_pool: str = ""  # an IPAM pool's name (or a pool on the NAS) for suspended_action = "pool"
    blocked_download_kbps: int = Field(default=512, ge=1)
    blocked_upload_kbps: int = Field(default=512, ge=1)
    reduction: Literal["relative", "absolute"] = "relative"
    reduction_percent: int = Field(default=30, ge=1, le=100)
    reduction_download_kbps: int = Field(default=1024, ge=1)
    reduction_upload_kbps: int = Field(default=512, ge=1)
    timezone: str = "America/Sao_Paulo"  # what a date means ("until 2026-12-01" ends that local day)
    trust_max_days: int = Field(default=7, ge=1, le=90)  # an operator's trust unlock
    trust_self_service_days: int = Field(default=1, ge=1, le=30)  # the subscriber's own, per request
    trust_self_service_per_month: int = Field(default=1, ge=0, le=31)  # 0: self-service off
    # Reply-Message of a reject, by reason, replacing the Portuguese default (aaa.policies.decision)
    messages: dict[str, Annotated[str, Field(min_length=1)]] = {}

    @field_validator("messages")
    @classmethod
    def _known_messages(cls, value: dict[str, str]) -> dict[str, str]:
        from aaa.vocabulary.messages import MESSAGES

        unknown = sorted(set(value) - set(MESSAGES))
        if unknown:
            raise ValueError(f"unknown message {', '.join(unknown)} (known: {', '.join(sorted(MESSAGES))})")
        for key, text in value.items():
            if len(text.encode()) > 253:  # one RADIUS attribute (RFC 2865 §5)
                raise ValueError(f"message {key} is {len(text.encode())} bytes in UTF-8; at most 253")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone {value!r} (use an IANA name such as America/Sao_Paulo)"
            ) from exc
        return value


class EnforcerSettings(_Section):
    """Applying changes to online subscribers (CoA, Disconnect, RouterOS API)."""

    enabled: bool = True  # `aaa serve` runs the enforcer
    source_address: str = "0.0.0.0"  # CoA/Disconnect leave from here (the address the NAS expects)
    poll_interval: float = Field(default=0.5, gt=0, le=60)
    timeout: float = Field(default=1.0, gt=0, le=30)  # per CoA/Disconnect transmission
    retransmits: int = Field(default=2, ge=0, le=10)  # same packet again after a timeout (RFC 5080)
    max_attempts: int = Field(default=5, ge=1, le=100)  # rounds of every method before "failed"
    backoff_seconds: float = Field(default=5.0, gt=0, le=3600)  # doubled after each failed round
    concurrency: int = Field(default=64, ge=1, le=1024)
    per_nas_rate: float = Field(default=200.0, gt=0)  # requests per second to one NAS
    breaker_failures: int = Field(default=5, ge=1)  # consecutive timeouts that open a NAS's circuit
    breaker_seconds: float = Field(default=30.0, gt=0)
    api_timeout: float = Field(default=5.0, gt=0, le=60)
    api_ca_file: str = ""  # CA bundle for NASes with api_tls_verify (empty: the system's CAs)
    # Sessions over a Simultaneous-Use limit that got through (accepts racing on several workers
    # or nodes): checked this often for the logins newly online, and which ones are ended.
    simultaneous_use_interval: float = Field(default=1.0, gt=0, le=60)
    simultaneous_use_disconnect: Literal["newest", "oldest"] = "newest"


class BillingSettings(_Section):
    """Payment notifications in, webhooks out, and where the standing's charges come from."""

    # Shared secret of the payment gateway's notifications (HMAC-SHA256); empty: endpoint off.
    notification_secret: str = ""
    notification_max_skew_seconds: int = Field(default=300, ge=1)  # replayed notices are refused
    gateway_cash_box: str = Field(default="Gateway", min_length=1, max_length=100)
    webhook_timeout: float = Field(default=5.0, gt=0, le=60)
    webhook_max_attempts: int = Field(default=8, ge=1, le=50)
    webhook_backoff_seconds: float = Field(default=30.0, gt=0)  # doubled per failed attempt
    # Webhook receivers may not be on loopback, private, link-local (cloud metadata) or reserved
    # addresses unless a network here names them, e.g. ["10.0.0.0/8"] for an ERP on the LAN.
    webhook_allowed_networks: list[str] = []
    # Where standing() reads charges: "local" (our tables) or "sql_view" (another ERP's database).
    charges_source: Literal["local", "sql_view"] = "local"
    external_database_url: str = ""
    external_view: str = Field(default="aaa_open_charges", pattern=r"^[A-Za-z_][A-Za-z0-9_.]*$")
    # PIX on every open invoice (a static BR Code from the ISP's own key); empty: no PIX.
    pix_key: str = Field(default="", max_length=77)  # CPF/CNPJ, e-mail, +55 phone or random key
    pix_merchant_name: str = Field(default="", max_length=100)  # cut to 25 in the code
    pix_merchant_city: str = Field(default="", max_length=100)  # cut to 15 in the code

    # Boletos the ISP prints itself, Banco do Brasil ("001"); empty: none. The nosso número is
    # the convênio followed by the invoice's number; the bank's return file pays them.
    boleto_bank: Literal["", "001"] = ""
    boleto_convenio: str = Field(default="", pattern=r"^(\d{6,7})?$")
    boleto_wallet: str = Field(default="17", pattern=r"^\d{2}$")  # carteira
    boleto_agency: str = Field(default="", pattern=r"^(\d{1,4})?$")  # with a 6-digit convênio
    boleto_account: str = Field(default="", pattern=r"^(\d{1,8})?$")  # with a 6-digit convênio
    boleto_beneficiary: str = Field(default="", max_length=100)  # beneficiário (the ISP), as printed
    boleto_instructions: str = Field(default="", max_length=500)  # printed on every boleto
    # A payment provider that issues each open invoice's boleto/PIX and calls back when it is
    # paid; empty: none (invoices are issued as before).
    gateway: Literal["", "asaas", "efi"] = ""
    gateway_timeout: float = Field(default=10.0, gt=0, le=60)  # per call to the provider
    gateway_max_attempts: int = Field(default=10, ge=1, le=100)  # then the charge is "failed"
    gateway_backoff_seconds: float = Field(default=30.0, gt=0)  # doubled per failed attempt
    gateway_breaker_failures: int = Field(default=5, ge=1)  # failures in a row that pause calls
    gateway_breaker_seconds: float = Field(default=60.0, gt=0)
    # Asaas (https://docs.asaas.com): API key (header access_token) and the token Asaas sends
    # back in the asaas-access-token header of its webhooks.
    asaas_url: str = "https://api.asaas.com/v3"
    asaas_api_key: SecretStr = SecretStr("")
    asaas_webhook_token: SecretStr = SecretStr("")
    asaas_billing_type: Literal["BOLETO", "PIX", "UNDEFINED"] = "UNDEFINED"  # UNDEFINED: payer picks
    # Efí (Gerencianet) PIX API: OAuth2 client credentials over mutual TLS (certificate: a PEM
    # with the certificate and its key), the ISP's PIX key, and the secret carried by the webhook
    # URL registered at Efí (…/hooks/efi?hmac=<secret>; Efí appends /pix).
    efi_url: str = "https://pix.api.efipay.com.br"
    efi_client_id: SecretStr = SecretStr("")
    efi_client_secret: SecretStr = SecretStr("")
    efi_certificate: str = ""
    efi_ca_file: str = ""  # CA bundle to check Efí's server (empty: the system's)
    efi_pix_key: str = Field(default="", max_length=77)
    efi_webhook_secret: SecretStr = SecretStr("")
    efi_days_after_due: int = Field(default=30, ge=0, le=365)  # validadeAposVencimento

    @model_validator(mode="after")
    def _pix_complete(self) -> BillingSettings:
        if self.pix_key and not (self.pix_merchant_name.strip() and self.pix_merchant_city.strip()):
            raise ValueError("billing.pix_key needs billing.pix_merchant_name and billing.pix_merchant_city")
        if self.boleto_bank and not self.boleto_convenio:
            raise ValueError("billing.boleto_bank needs billing.boleto_convenio")
        if len(self.boleto_convenio) == 6 and not (self.boleto_agency and self.boleto_account):
            raise ValueError(
                "a 6-digit billing.boleto_convenio needs billing.boleto_agency and boleto_account"
            )
        if self.gateway == "asaas" and not self.asaas_api_key.get_secret_value():
            raise ValueError("billing.gateway = 'asaas' needs billing.asaas_api_key")
        if self.gateway == "efi" and not (
            self.efi_client_id.get_secret_value()
            and self.efi_client_secret.get_secret_value()
            and self.efi_pix_key
        ):
            raise ValueError("billing.gateway = 'efi' needs efi_client_id, efi_client_secret and efi_pix_key")
        return self


class JobsSettings(_Section):
    """How often the node's scheduled jobs run (seconds)."""

    # Stale sessions, unclaimed leases, the change feed, ended customer suspensions.
    housekeeping_seconds: float = Field(default=60.0, gt=0)
    # Custom speeds, trials, trust unlocks and bonuses that ended.
    overlay_expiry_seconds: float = Field(default=10.0, gt=0, le=3600)
    webhooks_seconds: float = Field(default=5.0, gt=0, le=3600)  # webhook delivery rounds
    gateway_seconds: float = Field(default=10.0, gt=0, le=3600)  # provider charges to create/cancel
    reconcile_seconds: float = Field(default=300.0, gt=0)  # NAS sessions against the database


# Settings that moved, by their old place: a file that still has one gets an error naming the
# new one instead of "extra inputs are not permitted".
MOVED = {
    ("accounting", "reaper_interval"): "jobs.housekeeping_seconds",
    ("policy", "expiry_check_seconds"): "jobs.overlay_expiry_seconds",
    ("billing", "webhook_interval"): "jobs.webhooks_seconds",
    ("enforcer", "reconcile_interval"): "jobs.reconcile_seconds",
}


def _moved(file_data: dict[str, Any]) -> list[str]:
    return [
        f"{section}.{key} is now {new}"
        for (section, key), new in MOVED.items()
        if isinstance(file_data.get(section), dict) and key in file_data[section]
    ]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="AAA_", env_nested_delimiter="__", extra="forbid", case_sensitive=False
    )

    database_url: str = "sqlite:///./aaa.db"
    redis_url: str = ""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"
    radius: RadiusSettings = RadiusSettings()
    accounting: AccountingSettings = AccountingSettings()
    metrics: MetricsSettings = MetricsSettings()
    api: ApiSettings = ApiSettings()
    policy: PolicySettings = PolicySettings()
    enforcer: EnforcerSettings = EnforcerSettings()
    billing: BillingSettings = BillingSettings()
    jobs: JobsSettings = JobsSettings()

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgresql://", "postgresql+psycopg://")):
            raise ValueError("must start with sqlite:// or postgresql:// (psycopg 3 is the driver)")
        if value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value.removeprefix("postgresql://")
        return value

    @field_validator("billing")
    @classmethod
    def _networks_parse(cls, value: BillingSettings) -> BillingSettings:
        import ipaddress

        for network in value.webhook_allowed_networks:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError as exc:
                raise ValueError(f"webhook_allowed_networks: {exc}") from None
        return value

    @field_validator("redis_url")
    @classmethod
    def _known_redis(cls, value: str) -> str:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be empty (no Redis) or start with redis://, rediss:// or unix://")
        return value


def load_settings(path: str | Path | None = None, **overrides: Any) -> Settings:
    """Read the TOML file (``path``, else ``$AAA_CONFIG``, else none), then env, then overrides.

    Raises :class:`SettingsError` naming every invalid setting.
    """
    path = path or os.environ.get("AAA_CONFIG") or None
    file_data: dict[str, Any] = {}
    if path:
        try:
            file_data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise SettingsError(f"configuration file {path} not found") from exc
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"configuration file {path} is not valid TOML: {exc}") from exc
        except UnicodeDecodeError as exc:
            raise SettingsError(
                f"configuration file {path} is not UTF-8 text (byte {exc.start}): is it the right file?"
            ) from exc
        except OSError as exc:
            raise SettingsError(f"configuration file {path} cannot be read: {exc.strerror}") from exc

    moved = _moved(file_data)
    if moved:
        raise SettingsError(f"configuration file {path}: {'; '.join(moved)} (move them to [jobs])")

    class _FileSource(PydanticBaseSettingsSource):
        def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
            return file_data.get(field_name), field_name, False

        def __call__(self) -> dict[str, Any]:
            return file_data

    class _Layered(Settings):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            return init_settings, env_settings, _FileSource(settings_cls)

    try:
        layered = _Layered(**overrides)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors())
        raise SettingsError(f"invalid settings ({path or 'defaults and AAA_* env'}): {problems}") from exc
    return Settings.model_construct(**dict(layered))
