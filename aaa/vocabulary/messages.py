"""What a subscriber's equipment shows when a login is rejected (Reply-Message), by reason, in
the subscribers' language. The ISP may replace any of them (settings ``[policy.messages]``)."""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    "invalid_credentials": "Falha na autenticação: login ou senha inválidos",
    "unsupported_method": "Falha na autenticação: método de autenticação não suportado",
    "service_not_enabled": "Serviço não habilitado",
    "suspended_debt": "Serviço suspenso por falta de pagamento. Entre em contato com o provedor.",
    "simultaneous_use": "Limite de conexões simultâneas atingido",
    "sessions_unknown": "Não foi possível verificar as conexões simultâneas agora; tente novamente",
    "mac_mismatch": "Equipamento (endereço MAC) não autorizado para este login",
    "subscriber_unavailable": "Dados do assinante indisponíveis no momento; tente novamente",
    "pool_exhausted": "Nenhum endereço disponível no momento; tente mais tarde",
    "no_such_pool": "Nenhum pool de endereços configurado para este acesso",
}
