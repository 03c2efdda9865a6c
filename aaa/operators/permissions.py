"""Every permission an operator, a role or an API key can hold: one per action."""

from __future__ import annotations

PERMISSIONS: dict[str, str] = {
    "customers.read": "see customers",
    "customers.write": "create and edit customers and their addresses",
    "plans.read": "see the plan catalogue",
    "plans.write": "create, edit and clone plans",
    "plans.mass_change": "move many services from one plan to another",
    "services.read": "see services and their diagnostics",
    "services.write": "create services and edit login, password, MAC, IP, due day",
    "services.enable": "enable a service (also completes a pending migration)",
    "services.suspend": "suspend or block a service",
    "services.cancel": "cancel a service",
    "services.migrate": "migrate a service to another plan, or change its plan in place",
    "services.plan_lower": "change a service to a cheaper or slower plan (plano inferior)",
    "services.speed": "set a custom speed or a plan trial",
    "services.unlock": "grant trust unlocks, bonuses and exemptions",
    "enforcement.read": "see enforcement attempts on the NAS",
    "enforcement.run": "run the reconciler on demand",
    "sessions.read": "see online sessions, the session history and the authentication log",
    "sessions.disconnect": "disconnect a subscriber's session (derrubar conexão)",
    "radius.trace": "trace the RADIUS requests and replies of a running node (aaa trace)",
    "services.transfer": "transfer a service to another customer (troca de titularidade)",
    "nas.read": "see NAS and their settings (not the secrets)",
    "nas.write": "create, edit and delete NAS and rotate their secrets",
    "audit.read": "read the audit log",
    "operators.admin": "manage operators, roles, API keys and cash boxes",
    "finance.read": "see charges, invoices, receipts, billing methods and routine runs",
    "finance.configure": "create and edit billing methods and their suspension rules",
    "finance.charge": "create and cancel charges, invoices, carnês and installation fees",
    "finance.bill": "run the monthly billing run (or its preview)",
    "finance.hooks": "manage outbound webhooks and decide on flagged payment notifications",
    "routines.run": "run the suspension / re-enable routine (or a dry run of it)",
    "routines.configure": "create and change routines and their schedules",
    "finance.receive": "receive payments into an allowed cash box",
    "finance.discount": "give a discount at receiving (AddDesconto)",
    "finance.receive_amount": "receive an amount other than what settles the charges (partial payment)",
    "finance.reverse": "reverse a receipt",
    "finance.returns": "import bank return files (arquivo retorno) and retry provider charges",
    "ipam.read": "see IP folders, subnets and assignments",
    "ipam.write": "manage IP folders, pools, subnets, reservations and exclusions; import assignments",
    "ipam.assign": "assign and release fixed IPs",
    "imports.run": "import NAS, plans, customers and services from FreeRADIUS SQL or ERP exports",
}


def unknown(permissions: list[str] | set[str] | frozenset[str]) -> list[str]:
    return sorted(p for p in permissions if p not in PERMISSIONS)
