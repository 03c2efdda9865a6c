"""A small demo ISP, so a fresh install answers `radtest` at once."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from aaa.db.base import utcnow
from aaa.ipam.subnets import add_folder, add_subnet
from aaa.logs import mask_credentials
from aaa.nas.service import add_nas
from aaa.operators.service import add_operator
from aaa.settings import Settings
from aaa.subscribers.customers import add_customer
from aaa.subscribers.plans import add_plan
from aaa.subscribers.service import add_service
from aaa.tables.nas import MaMode, Nas, VendorProfile
from aaa.tables.operators import Operator
from aaa.tables.subscribers import Service
from aaa.vocabulary.ipam import SubnetPurpose
from aaa.vocabulary.subscribers import CustomerKind, ServiceStatus
from billing_bridge.charges import add_charge
from billing_bridge.models import ChargeKind

DEMO_SECRET = "demo-secret-change-me"

PLANS = [
    # name, download, upload (kbit/s), price, burst download/upload
    ("Fibra 100M", 100_000, 50_000, Decimal("99.90"), None, None),
    ("Fibra 300M", 300_000, 150_000, Decimal("129.90"), 400_000, 200_000),
    ("Fibra 600M", 600_000, 300_000, Decimal("169.90"), None, None),
]

SUBSCRIBERS = [
    # login, password, plan, status, fixed IP, customer
    ("maria", "maria-pass", "Fibra 100M", ServiceStatus.ENABLED, None, "Maria da Silva"),
    ("joao", "joao-pass", "Fibra 300M", ServiceStatus.ENABLED, "100.64.10.2", "João Souza"),
    (
        "padaria",
        "padaria-pass",
        "Fibra 600M",
        ServiceStatus.ENABLED,
        "100.64.10.3",
        "Padaria Pão Quente LTDA",
    ),
    ("devedor", "devedor-pass", "Fibra 100M", ServiceStatus.SUSPENDED_DEBT, None, "Carlos Devedor"),
]


DEMO_ADMIN_PASSWORD = "admin-change-me"


def create_demo(session: Session, settings: Settings) -> list[str]:
    """Create what is missing (running it twice changes nothing) and return how to try it."""
    if session.scalar(select(Nas).where(Nas.name == "demo-nas")) is None:
        add_nas(
            session,
            name="demo-nas",
            address="127.0.0.1",
            secret=DEMO_SECRET,
            vendor=VendorProfile.MIKROTIK,
            require_message_authenticator=MaMode.YES,
            description="demo: radtest on this machine",
        )
    if session.scalar(select(Service).where(Service.login == "maria")) is None:
        folder = add_folder(session, "Demo", "demo: fixed IPs for business customers")
        add_subnet(
            session,
            folder_id=folder.id,
            cidr="100.64.10.0/24",
            purpose=SubnetPurpose.FIXED,
            gateway="100.64.10.1",
            name="fixed IPs",
            now=utcnow(),
        )
        plans = {}
        for name, down, up, price, burst_down, burst_up in PLANS:
            plans[name] = add_plan(
                session,
                name=name,
                download_kbps=down,
                upload_kbps=up,
                price=price,
                burst_download_kbps=burst_down,
                burst_upload_kbps=burst_up,
                burst_time_s=8 if burst_down else None,
            )
        for login, password, plan, status, ip, name in SUBSCRIBERS:
            kind = CustomerKind.COMPANY if "LTDA" in name else CustomerKind.PERSON
            customer = add_customer(session, name=name, kind=kind)
            service = add_service(
                session,
                customer=customer,
                plan=plans[plan],
                login=login,
                password=password,
                status=status,
                fixed_ipv4=ip,
            )
            if status is ServiceStatus.SUSPENDED_DEBT:  # the debt that explains the status
                today = utcnow().date()
                add_charge(
                    session,
                    service,
                    kind=ChargeKind.MONTHLY,
                    due_date=today - timedelta(days=20),
                    amount=plans[plan].price,
                    description="demo: mensalidade em atraso",
                    competence=(today - timedelta(days=20)).replace(day=1),
                )
    if session.scalar(select(Operator).where(Operator.login == "admin")) is None:
        add_operator(  # flagged: the first login must change the well-known password
            session,
            login="admin",
            name="Demo administrator",
            password=DEMO_ADMIN_PASSWORD,
            superuser=True,
            must_change_password=True,
            check_password_policy=False,
        )
    port = settings.radius.auth_port
    server = f"127.0.0.1:{port}"
    api = f"http://{settings.api.bind}:{settings.api.port}/api/v1"
    return [
        f"demo ISP ready in {mask_credentials(settings.database_url)}",
        "NAS demo-nas 127.0.0.1, secret " + DEMO_SECRET,
        "subscribers: maria/maria-pass (100M), joao/joao-pass (300M, fixed IP 100.64.10.2), "
        "padaria/padaria-pass (600M), devedor/devedor-pass (suspended for debt)",
        f"`aaa serve` listens on RADIUS auth {settings.radius.bind}:{port}, accounting "
        f"{settings.radius.bind}:{settings.radius.acct_port}, "
        f"admin API {settings.api.bind}:{settings.api.port}, "
        f"metrics {settings.metrics.bind}:{settings.metrics.port}",
        *(
            ['  (loopback only: for a real NAS set radius.bind = "0.0.0.0" and `aaa nas add` its address)']
            if settings.radius.bind.startswith("127.")
            else []
        ),
        "try, with the server running (`aaa serve`):",
        f"  radtest -t pap maria maria-pass {server} 0 {DEMO_SECRET}",
        f"  radtest -t chap joao joao-pass {server} 0 {DEMO_SECRET}",
        f"  radtest -t mschap padaria padaria-pass {server} 0 {DEMO_SECRET}",
        f"operator console (Portuguese): http://{settings.api.bind}:{settings.api.port}/app/ "
        f"— log in as admin / {DEMO_ADMIN_PASSWORD}, then set a new password",
        f"admin API: {api}/docs, operator admin / {DEMO_ADMIN_PASSWORD} (superuser;",
        f"  its first login must change the password: POST {api}/auth/password)",
        f"  curl -s -X POST {api}/auth/login -H 'Content-Type: application/json' "
        f"""-d '{{"login": "admin", "password": "{DEMO_ADMIN_PASSWORD}"}}'""",
    ]
